-- Read state belongs to each reader. notifications.read_at was one mark for the whole team: a
-- customer_support user opening an alert marked it read for the admins too.
-- `reader` is who reads, as the audit log names actors: `user:usr_…` or `api_key:key_…`.
CREATE TABLE notification_reads (
  reader text NOT NULL,
  notification_id text NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  read_at timestamptz NOT NULL,
  PRIMARY KEY (reader, notification_id)
);
--;
-- For deleting an entry with its reads (retention); 0019 creates it where 0020 came first.
CREATE INDEX IF NOT EXISTS notification_reads_notification ON notification_reads (notification_id);
--;
-- "Mark all read": everything of that kind created up to `up_to` counts as read for that reader,
-- in one row instead of a row per entry.
CREATE TABLE notification_read_marks (
  reader text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('notice', 'alert')),
  up_to timestamptz NOT NULL,
  PRIMARY KEY (reader, kind)
);
--;
-- Entries some reader had marked read before read state was per reader stay read for nobody
-- in particular: no reader can be told apart, so every entry starts unread for everyone.
DROP INDEX notifications_unread;
--;
ALTER TABLE notifications DROP COLUMN read_at;
--;
-- A failure alert is resolved once its run completed or was cancelled: nothing is left to act on.
ALTER TABLE notifications ADD COLUMN resolved_at timestamptz;
--;
UPDATE notifications n SET resolved_at = r.finished_at
FROM workflow_runs r
WHERE n.kind = 'alert' AND r.id = n.run_id AND r.status IN ('completed', 'cancelled');
--;
-- The open alerts: the bell's count and the resolving sweep read only these.
CREATE INDEX notifications_open_alerts ON notifications (created_at DESC, id DESC)
  WHERE kind = 'alert' AND resolved_at IS NULL;
--;
CREATE INDEX notifications_kind_created ON notifications (kind, created_at DESC, id DESC);
