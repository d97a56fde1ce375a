-- The caseload's row on case_activity (issue 14): a counselor's list in
-- urgency order needs, per graduate, the highest level of an unresolved
-- escalation and the verified hardship categories. Read from escalations
-- and hardships they cost two index probes per graduate listed (a third of
-- the list's reads); here they are kept on the graduate's narrow row, which
-- the list reads anyway.
--
-- Both are derived, and the database keeps them: triggers on escalations
-- and hardships, so that no path that writes those tables — the sweep's
-- set-wise inserts and clears, a contact resolving its flags, a
-- supervisor's acknowledgement, an import, the evidence expiry — can leave
-- them stale. They are the only columns of case_activity not written by
-- the graduate package (docs/architecture.md, "Who writes what").
ALTER TABLE case_activity
    ADD COLUMN escalation_level smallint NOT NULL DEFAULT 0,
    -- The verified hardships' categories and, at the same positions, their
    -- evidence's last valid day (NULL: no end), in category order: the
    -- categories valid on a day are those whose day is NULL or not past.
    ADD COLUMN categories text[] NOT NULL DEFAULT '{}',
    ADD COLUMN categories_valid_until date[] NOT NULL DEFAULT '{}';

UPDATE case_activity ca SET escalation_level = e.level
    FROM (SELECT student_id, max(level) AS level FROM escalations WHERE status <> 'resolved' GROUP BY 1) e
    WHERE e.student_id = ca.student_id;

UPDATE case_activity ca SET categories = h.categories, categories_valid_until = h.valid_until
    FROM (SELECT student_id, array_agg(category ORDER BY category, valid_until) AS categories,
                 array_agg(valid_until ORDER BY category, valid_until) AS valid_until
          FROM hardships WHERE status = 'verified' GROUP BY 1) h
    WHERE h.student_id = ca.student_id;

-- Recomputing a graduate's values: lock the graduate's row first, then
-- read escalations (hardships) in a statement of its own. Under READ
-- COMMITTED each statement of a PL/pgSQL function takes a new snapshot, so
-- after waiting for a concurrent writer of the same graduate the second
-- statement sees what it committed: two transactions changing one
-- graduate's escalations at once cannot leave the older answer behind.
CREATE FUNCTION case_activity_escalation_level(student bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM case_activity WHERE student_id = student FOR UPDATE;
    UPDATE case_activity ca
        SET escalation_level = coalesce((SELECT max(e.level) FROM escalations e
                                         WHERE e.student_id = student AND e.status <> 'resolved'), 0)
        WHERE ca.student_id = student;
END $$;

CREATE FUNCTION case_activity_categories(student bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM case_activity WHERE student_id = student FOR UPDATE;
    UPDATE case_activity ca
        SET categories = coalesce(h.categories, '{}'), categories_valid_until = coalesce(h.valid_until, '{}')
        FROM (SELECT array_agg(category ORDER BY category, valid_until) AS categories,
                     array_agg(valid_until ORDER BY category, valid_until) AS valid_until
              FROM hardships WHERE student_id = student AND status = 'verified') h
        WHERE ca.student_id = student;
END $$;

-- New escalations only ever raise the level: one statement per inserting
-- statement (the sweep raises thousands at once), and the condition
-- `escalation_level < n.level` is checked again on the newest row version
-- when a concurrent writer held it.
CREATE FUNCTION escalations_raise_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_activity ca SET escalation_level = n.level
        FROM (SELECT student_id, max(level) AS level FROM raised WHERE status <> 'resolved' GROUP BY 1) n
        WHERE ca.student_id = n.student_id AND ca.escalation_level < n.level;
    RETURN NULL;
END $$;

CREATE TRIGGER escalations_case_level_insert AFTER INSERT ON escalations
    REFERENCING NEW TABLE AS raised FOR EACH STATEMENT EXECUTE FUNCTION escalations_raise_level();

-- A change of status or level, or a deletion, may lower it: recompute, per
-- row changed (a contact resolves its own few; the statement that clears
-- flags, its hundreds).
CREATE FUNCTION escalations_recompute_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM case_activity_escalation_level(OLD.student_id);
    ELSE
        PERFORM case_activity_escalation_level(NEW.student_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER escalations_case_level_update AFTER UPDATE OF status, level ON escalations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.level IS DISTINCT FROM NEW.level)
    EXECUTE FUNCTION escalations_recompute_level();
CREATE TRIGGER escalations_case_level_delete AFTER DELETE ON escalations
    FOR EACH ROW EXECUTE FUNCTION escalations_recompute_level();

CREATE FUNCTION hardships_recompute_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM case_activity_categories(OLD.student_id);
    ELSE
        PERFORM case_activity_categories(NEW.student_id);
    END IF;
    RETURN NULL;
END $$;

-- Only verified hardships count: an unverified one inserted changes
-- nothing.
CREATE TRIGGER hardships_case_categories_insert AFTER INSERT ON hardships
    FOR EACH ROW WHEN (NEW.status = 'verified') EXECUTE FUNCTION hardships_recompute_categories();
CREATE TRIGGER hardships_case_categories_update AFTER UPDATE OF status, category, valid_until ON hardships
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.category IS DISTINCT FROM NEW.category
                       OR OLD.valid_until IS DISTINCT FROM NEW.valid_until)
    EXECUTE FUNCTION hardships_recompute_categories();
CREATE TRIGGER hardships_case_categories_delete AFTER DELETE ON hardships
    FOR EACH ROW WHEN (OLD.status = 'verified') EXECUTE FUNCTION hardships_recompute_categories();
