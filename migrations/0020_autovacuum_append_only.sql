-- Autovacuum for the tables that only grow (docs/operations.md, "PostgreSQL
-- settings for a province"). By default an insert-only table is vacuumed
-- after inserts of 20% of its size (autovacuum_vacuum_insert_scale_factor):
-- at province scale that is a million ledger entries, so the newest pages —
-- the ones every review and index-only probe reads — are not all-visible for
-- days in graduation season, and the rows are frozen late, by an aggressive
-- vacuum that reads the whole table at once. Here each is vacuumed after a
-- fixed number of inserts instead, whatever its size, and each vacuum
-- freezes what it visits (freeze_min_age 0: these rows are never updated,
-- so freezing them at once costs nothing later), so that anti-wraparound
-- vacuums find the old pages all-frozen and skip them.
--
-- Storage parameters only: ALTER TABLE … SET takes a SHARE UPDATE EXCLUSIVE
-- lock, which lets reads and writes go on, and rewrites nothing.

-- ~50,000 entries: a province's graduation-season day or two; ~13 MB of heap.
ALTER TABLE ledger_entries SET (
    autovacuum_vacuum_insert_threshold = 50000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_freeze_min_age = 0,
    autovacuum_analyze_scale_factor = 0.02
);

-- Every staff read appends here: ~100,000 rows a season day at province scale.
ALTER TABLE audit_log SET (
    autovacuum_vacuum_insert_threshold = 100000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_freeze_min_age = 0,
    autovacuum_analyze_scale_factor = 0.02
);

-- A roster build writes up to 100,000 events at once, and the next build
-- reads the cohort's newest events through (cohort_id, id) index-only.
ALTER TABLE roster_events SET (
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_freeze_min_age = 0
);

-- Snapshots are append-only too, and small: freeze them as they come.
ALTER TABLE report_snapshots SET (autovacuum_freeze_min_age = 0);

-- Graduates' files are updated in place (HOT, fillfactor 90): vacuum after
-- 5% of them changed rather than 20%, so that the free space HOT updates
-- need comes back before the pages fill.
ALTER TABLE students SET (
    autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.02
);

-- One narrow row per case, updated by every ledger append and follow-up
-- (fillfactor 80, so the update stays on its page): the same 5%, so that
-- the dead versions an append leaves are reclaimed before its page fills.
ALTER TABLE case_activity SET (
    autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.02
);
