-- The hot-path functions' statements were planned again on every call. PL/pgSQL caches a plan
-- per statement, but PostgreSQL keeps a generic plan only when it is estimated no costlier than
-- the custom ones; a custom plan sees the length of each array parameter (a batch of one is
-- cheaper than the generic estimate of many), so the generic plan never won. Planning the
-- checkpoint statement took ~0.9 ms of a ~1.1 ms call for one result. The SET clauses of 0010
-- leave one plan shape at any size, so the generic plan is the right one at any size.
ALTER FUNCTION billflow_record_outcomes SET plan_cache_mode = force_generic_plan;
--;
ALTER FUNCTION billflow_claim_runs SET plan_cache_mode = force_generic_plan;
