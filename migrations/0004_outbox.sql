-- Webhook endpoints and the outbox: purges and webhook events written in the same transaction as
-- the catalog change they describe, delivered later by the outbound worker.
CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,                                  -- we_<16 hex>
    owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,                                     -- comma-separated event types
    secret     TEXT NOT NULL,                                     -- whsec_<base64>; needed to sign, so kept as is
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints(owner_id);

-- AUTOINCREMENT: ids are never reused, so id order is the order changes were committed in.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('purge', 'webhook')),
    target          TEXT NOT NULL DEFAULT '',                     -- webhook endpoint id; '' for purges
    message_id      TEXT NOT NULL,                                -- msg_<hex>: the webhook-id, stable across retries
    payload         TEXT NOT NULL,                                -- JSON
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,                             -- unix milliseconds
    created_ms      INTEGER NOT NULL,
    last_error      TEXT,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead'))
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);
CREATE INDEX outbox_target ON outbox(kind, target, state, id);
