-- The hot-path functions always use their generic plan. PostgreSQL otherwise keeps a generic
-- plan only when it is estimated no costlier than the custom ones, and a custom plan sees the
-- length of each array parameter, so a call with one outcome could be planned again every time.
-- 0010's SET clauses leave one plan shape, which is right at any batch size and table size.
ALTER FUNCTION billflow_record_outcomes SET plan_cache_mode = force_generic_plan;
--;
ALTER FUNCTION billflow_claim_runs SET plan_cache_mode = force_generic_plan;
