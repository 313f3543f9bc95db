-- A refund whose provider refund will not happen is `failed` (its run failed before the provider
-- executed it) or `cancelled` (its run was cancelled, or an operator skipped the provider
-- refund), and gives its amount back to the payment. Such refunds used to stay pending: their
-- amount reserved, "already fully refunded", and counted by the recount but never by a stats step.
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
--;
ALTER TABLE refunds ADD CONSTRAINT refunds_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled'));
--;
-- The refunds left pending that way: their run failed or was cancelled at or before the provider
-- refund, and no other run of theirs goes on.
WITH stuck AS (
  SELECT f.id, w.status AS run_status, w.steps[w.step_index + 1] AS at_step
  FROM refunds f
  JOIN workflow_runs w ON w.type = 'refund_creation' AND w.subject_ref = f.id
  WHERE f.status = 'pending' AND f.counted_at IS NULL AND w.status IN ('failed', 'cancelled')
    AND w.step_index < coalesce(array_position(w.steps, 'execute_provider_refund'), 0)
    AND NOT EXISTS (
      SELECT 1 FROM workflow_runs o
      WHERE o.type = 'refund_creation' AND o.subject_ref = f.id
        AND o.status IN ('pending', 'in_progress', 'completed'))
),
marked AS (
  UPDATE refunds r
  SET status = CASE s.run_status WHEN 'cancelled' THEN 'cancelled' ELSE 'failed' END,
      failure_reason = 'not executed: ' || CASE s.run_status
        WHEN 'cancelled' THEN 'the run was cancelled at ' || s.at_step
        ELSE 'the run failed at ' || s.at_step END,
      updated_at = now()
  FROM (SELECT DISTINCT ON (id) * FROM stuck) s
  WHERE r.id = s.id
  RETURNING r.payment_id, r.amount
)
UPDATE payments p SET refunded_amount = p.refunded_amount - m.total
FROM (SELECT payment_id, sum(amount) AS total FROM marked GROUP BY payment_id) m
WHERE p.id = m.payment_id;
