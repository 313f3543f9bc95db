-- Finding a customer by the start of an email address or a name (the run list's customer filter,
-- the header search). pg_trgm would find any part of them, but the embedded database does not
-- ship it, and one SQL dialect serves both databases: prefixes on btree indexes instead.
-- COLLATE "C": LIKE 'prefix%' can use a btree only under C collation (PostgreSQL servers often
-- run another, e.g. C.UTF-8), and a "C" index also returns matches in the order shown, so a
-- page of them is read without a sort.
CREATE INDEX customers_email_prefix ON customers ((lower(email) COLLATE "C"), id);
--;
CREATE INDEX customers_name_prefix ON customers ((lower(name) COLLATE "C"), id);
--;
-- The failed-runs inbox sorts by failure time, newest or oldest first, a keyset page at a time:
-- the index on failed_at gains the id that breaks ties. failed_at changes only when a run fails,
-- which already changes other indexes, so no HOT update is lost.
DROP INDEX workflow_runs_failed_at;
--;
CREATE INDEX workflow_runs_failed_at ON workflow_runs (failed_at DESC, id DESC) WHERE status = 'failed';
