-- bangfu:no-transaction
-- students_overdue_idx (0002) indexes the graduates whose students.overdue
-- is set; since 0014 that column is frozen (the live flag is
-- case_activity.overdue) and no query filters on it, so the index serves
-- nothing and only costs its build in every load of the bench province.
-- students_active_idx and students_unplaced_idx stay: a query filtering
-- status = 'active' over a whole province, and the demo's hand-over
-- lookup, still use them.
DROP INDEX CONCURRENTLY IF EXISTS students_overdue_idx;
