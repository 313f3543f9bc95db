-- A session's last use, for the idle timeout (written at most once a minute, see auth/idle.ts).
-- Sessions open at the upgrade count as used now: an upgrade signs nobody out.
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
--;
-- From here on the application's clock sets it, as it does created_at.
ALTER TABLE sessions ALTER COLUMN last_seen_at DROP DEFAULT;
