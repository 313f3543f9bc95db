-- The W3C traceparent of whatever started a run (an API request, an inbound event, a step of
-- another run), when tracing is on: the run's step attempts are traced as its children, so one
-- trace shows the request and every step it caused, however much later they run. Read by
-- primary key only; no index, and nullable without a default, so adding it rewrites nothing.
ALTER TABLE workflow_runs ADD COLUMN trace_parent text;
