-- Who holds an Idempotency-Key claim that is still in flight: a process's presence on the
-- database (see Db.presence) plus the server inside it. A claim whose holder is gone (the process
-- died, the request failed and could not release it) is taken over at once instead of after a
-- fixed delay. Claims made before this column existed keep the old rule (stale after a minute).
ALTER TABLE idempotency_keys ADD COLUMN holder text;
