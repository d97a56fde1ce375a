-- bangfu:no-transaction
-- The report's rates (internal/report, counting.ratesSQL) count every
-- graduate by (graduation year, school, department, education level); at
-- province scope that read the whole students heap (~520 MB for 1,000,000
-- graduates) and sorted it. This index holds every column the rates read,
-- in the order they are grouped, so the count is an index-only scan
-- (~80 MB) that needs no sort (docs/performance.md, "The province's rates").
-- id is included for the counts of a past day, which join the destination
-- history on it.
--
-- It supersedes students_report_idx (graduation_year, school_id,
-- department_id, destination_code): same leading columns, the code now
-- included. Every statement that used the old index (the staffing check,
-- the categories within a school) reads the new one, so the old one goes
-- and writes keep the number of index entries they had.
--
-- Write cost: destination_code was indexed already, and status — which a
-- handover and a verification that places an open case change — is in
-- four indexes, so those updates were not HOT before either. What changes:
-- verifying the destination of a graduate whose status stays (no open
-- case) is no longer a HOT update: it writes one entry into each index of
-- students, once per destination record. Ledger appends (last_contact_at,
-- counters, follow-up) touch none of these columns and stay HOT.
--
-- Built without blocking writes (decisions/0004). The DROP removes an
-- invalid index a failed build left; where the index already exists and is
-- valid, it is rebuilt (seconds at province scale).
DROP INDEX CONCURRENTLY IF EXISTS students_rates_idx;
CREATE INDEX CONCURRENTLY students_rates_idx ON students (graduation_year, school_id, department_id, education_level)
    INCLUDE (destination_code, destination_verified, handed_over_at, created_at, id);
DROP INDEX CONCURRENTLY IF EXISTS students_report_idx;

-- The planner cannot tell that departments belong to one school: it
-- multiplied the columns' distinct counts and expected 100,000 groups
-- (there are ~3,000), so it kept the count serial. With the combined
-- count it splits the scan between parallel workers.
CREATE STATISTICS IF NOT EXISTS students_rates_stats (ndistinct) ON graduation_year, school_id, department_id, education_level FROM students;
ANALYZE students;
