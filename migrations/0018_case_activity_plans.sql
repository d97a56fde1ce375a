-- The hot paths (issue 14), continued: the sweep's plan-measure and
-- referral flags read case_activity too — the current plan revision, and
-- when the case became active (a case in the caseload is active, not open,
-- exactly when it has been activated: no move leads back to open). Kept by
-- internal/graduate (SetPlanRevision, syncCase).
ALTER TABLE case_activity
    ADD COLUMN plan_revision integer NOT NULL DEFAULT 0,
    ADD COLUMN activated_at timestamptz;

UPDATE case_activity ca SET plan_revision = s.plan_revision, activated_at = s.activated_at
    FROM students s WHERE s.id = ca.student_id AND (s.plan_revision <> 0 OR s.activated_at IS NOT NULL);

-- Active cases by when they became active (referrals within the window).
CREATE INDEX case_activity_active_idx ON case_activity (activated_at) WHERE followed AND activated_at IS NOT NULL;

ANALYZE case_activity;
