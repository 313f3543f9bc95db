-- The hot-path functions' statements could be planned again on every call. PL/pgSQL caches a
-- plan per statement, but PostgreSQL keeps a generic plan only when it is estimated no costlier
-- than the custom ones, and a custom plan sees the length of each array parameter (a batch of
-- one looks cheaper than the generic estimate of many). One-result checkpoint calls on a
-- 6,000-run table, commit left out: 1.0-1.2 ms planned each time, 0.45-0.6 ms with the generic
-- plan. The SET clauses of 0010 leave one plan shape, so the generic plan is right at any size.
ALTER FUNCTION billflow_record_outcomes SET plan_cache_mode = force_generic_plan;
--;
ALTER FUNCTION billflow_claim_runs SET plan_cache_mode = force_generic_plan;
