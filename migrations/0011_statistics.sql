-- Honest statistics over time (docs/domain.md, "去向落实率"): a graduate
-- counts as placed only once their destination is verified; weekly and
-- monthly snapshots that never change; the schools' employment-guidance
-- staff for the 1:500 check. Written by internal/graduate (the flag on
-- students) and internal/report (the two tables).

-- Whether the graduate's current destination record is verified, kept
-- beside destination_code so that the live report counts placements
-- without joining the destination history (a report "as of" a past day
-- reads the history itself).
ALTER TABLE students ADD COLUMN destination_verified boolean NOT NULL DEFAULT false;
UPDATE students s SET destination_verified = true
    FROM destinations d
    WHERE d.id = s.destination_id AND d.status = 'verified';

-- A snapshot of the figures of one period (周报: a week from Monday; 月报:
-- a month), for one school or (school_id NULL) the province, as they stood
-- at the end of the period. One per period and school, whoever takes it;
-- never changed once taken.
CREATE TABLE report_snapshots (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period           text NOT NULL CONSTRAINT report_snapshots_period_check CHECK (period IN ('weekly', 'monthly')),
    -- The period's first and last day; the figures are as of the midnight
    -- (Asia/Shanghai) that ends the last.
    period_start     date NOT NULL,
    period_end       date NOT NULL,
    school_id        bigint REFERENCES schools (id),
    graduation_year  integer NOT NULL CONSTRAINT report_snapshots_year_check CHECK (graduation_year BETWEEN 2000 AND 2100),
    -- Which placement rule counted the figures (report.RuleVersion).
    rule_version     integer NOT NULL,
    taken_at         timestamptz NOT NULL,
    figures          jsonb NOT NULL,
    CONSTRAINT report_snapshots_dates_check CHECK (period_end >= period_start),
    CONSTRAINT report_snapshots_period_key UNIQUE NULLS NOT DISTINCT (school_id, period, period_start)
);
CREATE TRIGGER report_snapshots_append_only BEFORE UPDATE OR DELETE ON report_snapshots
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER report_snapshots_no_truncate BEFORE TRUNCATE ON report_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

-- Each school's full-time employment guidance staff (专职就业指导教师和专职
-- 就业工作人员) for a graduation year, against which its graduates of the
-- year are checked (at least 1:500, item 二十二).
CREATE TABLE school_staffing (
    school_id   bigint NOT NULL REFERENCES schools (id),
    year        integer NOT NULL CONSTRAINT school_staffing_year_check CHECK (year BETWEEN 2000 AND 2100),
    staff       integer NOT NULL CONSTRAINT school_staffing_staff_check CHECK (staff BETWEEN 0 AND 100000),
    version     integer NOT NULL DEFAULT 1,
    updated_by  bigint NOT NULL REFERENCES users (id),
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (school_id, year)
);
