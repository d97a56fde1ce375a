-- bangfu:no-transaction
-- The stall sweep's reads of the caseload and of the due plan measures
-- become index-only (docs/performance.md, "Stall sweep"). The cases in the
-- caseload are ~7% of case_activity and lie on nearly every one of its
-- pages, so each statement of the sweep that read them through a partial
-- index still visited the whole heap (~22,000 pages at province scale);
-- the unfinished due measures likewise cost ~19,000 pages of plan_measures.
--
-- case_activity_followed_idx holds what the sweep reads of each case in
-- the caseload: its school, current plan revision, whether it is placed,
-- and when it became active. It supersedes case_activity_active_idx
-- (activated_at, over the same cases less the never-activated): the
-- referral flags read the active cases through it instead. Every index
-- on case_activity costs every ledger append that is not a HOT update;
-- the swap keeps their number:
--   * a contact (it moves quiet_since, indexed, so it was never HOT)
--     writes one entry here instead of one in the dropped index (on a
--     case not activated yet, one more: the dropped index left it out);
--   * appends that change no indexed column (notes, referrals: counters,
--     the head, the follow-up) stay HOT — none of these columns is one;
--   * setting a graduate's plan revision, once per new plan, is no longer
--     HOT (plan_revision is now indexed); school_id never changes, and
--     unplaced and activated_at were indexed already.
--
-- plan_measures_due_cover_idx is plan_measures_due_idx with the measure's
-- key included; it replaces it. Those columns are never updated, so no
-- write of a plan loses a HOT update; an entry grows by 16 bytes.
--
-- Built without blocking writes (decisions/0004); the new indexes first,
-- so that the sweep always has one. Each DROP … IF EXISTS before a CREATE
-- removes an invalid index a failed build left.
DROP INDEX CONCURRENTLY IF EXISTS case_activity_followed_idx;
CREATE INDEX CONCURRENTLY case_activity_followed_idx ON case_activity (student_id)
    INCLUDE (school_id, plan_revision, unplaced, activated_at) WHERE followed;
DROP INDEX CONCURRENTLY IF EXISTS case_activity_active_idx;

DROP INDEX CONCURRENTLY IF EXISTS plan_measures_due_cover_idx;
CREATE INDEX CONCURRENTLY plan_measures_due_cover_idx ON plan_measures (due_on)
    INCLUDE (student_id, revision, position) WHERE status IN ('planned', 'in_progress');
DROP INDEX CONCURRENTLY IF EXISTS plan_measures_due_idx;
