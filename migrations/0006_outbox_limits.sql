-- Bounds on the outbox (issue #20): each webhook endpoint carries its own delivery schedule, failure
-- streak, disabled state and count of pending rows, so the worker finds due work by index and the
-- catalog's writes can stop enqueueing for an endpoint that is not taking its events.
ALTER TABLE webhook_endpoints ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;         -- pending outbox rows (kept by the triggers below)
ALTER TABLE webhook_endpoints ADD COLUMN next_attempt_ms INTEGER NOT NULL DEFAULT 0; -- when its oldest pending row may be tried
ALTER TABLE webhook_endpoints ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;        -- consecutive failed attempts
ALTER TABLE webhook_endpoints ADD COLUMN failing_since_ms INTEGER;                   -- first failure of the current streak
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at TEXT;                           -- RFC 3339; NULL while enabled
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;                       -- shown to the owner

-- Rows of endpoints already gone are never delivered under the per-endpoint schedule.
DELETE FROM outbox WHERE kind = 'webhook' AND target NOT IN (SELECT id FROM webhook_endpoints);
UPDATE webhook_endpoints SET pending = (SELECT COUNT(*) FROM outbox o WHERE o.kind = 'webhook' AND o.target = webhook_endpoints.id AND o.state = 'pending');
UPDATE webhook_endpoints SET next_attempt_ms = COALESCE((SELECT MIN(o.next_attempt_ms) FROM outbox o WHERE o.kind = 'webhook' AND o.target = webhook_endpoints.id AND o.state = 'pending'), 0);

-- The webhook lane: endpoints with work, by when they are due.
CREATE INDEX webhook_endpoints_due ON webhook_endpoints(next_attempt_ms) WHERE pending > 0 AND disabled_reason IS NULL;

-- The gauges read these few rows instead of counting the table.
CREATE TABLE outbox_counts (
    kind  TEXT NOT NULL,
    state TEXT NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (kind, state)
) WITHOUT ROWID;
INSERT INTO outbox_counts (kind, state, n)
    SELECT k.kind, s.state, (SELECT COUNT(*) FROM outbox o WHERE o.kind = k.kind AND o.state = s.state)
    FROM (SELECT 'purge' AS kind UNION ALL SELECT 'webhook') k, (SELECT 'pending' AS state UNION ALL SELECT 'dead') s;

CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN
    UPDATE outbox_counts SET n = n + 1 WHERE kind = NEW.kind AND state = NEW.state;
    UPDATE webhook_endpoints SET pending = pending + 1 WHERE NEW.kind = 'webhook' AND NEW.state = 'pending' AND id = NEW.target;
END;
CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN
    UPDATE outbox_counts SET n = n - 1 WHERE kind = OLD.kind AND state = OLD.state;
    UPDATE webhook_endpoints SET pending = pending - 1 WHERE OLD.kind = 'webhook' AND OLD.state = 'pending' AND id = OLD.target;
END;
CREATE TRIGGER outbox_counts_state AFTER UPDATE OF state ON outbox WHEN OLD.state <> NEW.state BEGIN
    UPDATE outbox_counts SET n = n - 1 WHERE kind = OLD.kind AND state = OLD.state;
    UPDATE outbox_counts SET n = n + 1 WHERE kind = NEW.kind AND state = NEW.state;
    UPDATE webhook_endpoints SET pending = pending + (NEW.state = 'pending') - (OLD.state = 'pending') WHERE OLD.kind = 'webhook' AND id = OLD.target;
END;
-- An endpoint removed any way (its own DELETE, its owner's cascade) takes its rows with it.
CREATE TRIGGER webhook_endpoints_gone AFTER DELETE ON webhook_endpoints BEGIN
    DELETE FROM outbox WHERE kind = 'webhook' AND target = OLD.id;
END;

-- The purge lane (kind, state, due time) and the oldest pending row for the age gauge.
DROP INDEX outbox_due;
CREATE INDEX outbox_lane ON outbox(kind, state, next_attempt_ms);
CREATE INDEX outbox_age ON outbox(state, created_ms);
