-- Delivered bandwidth and requests per user per UTC day, for the dashboard's chart (GET /v1/usage/daily).
-- usage_counters keeps the all-time totals; this table only adds the per-day split.
CREATE TABLE usage_daily (
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day             TEXT NOT NULL, -- UTC date, YYYY-MM-DD, of the flush that recorded the traffic
    bandwidth_bytes INTEGER NOT NULL DEFAULT 0,
    requests        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
CREATE INDEX usage_daily_day ON usage_daily(day);
