-- Assets and their tags, plus per-user delivered-bandwidth counters.
CREATE TABLE assets (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT NOT NULL UNIQUE,
    owner_id     INTEGER NOT NULL REFERENCES users(id),
    folder       TEXT NOT NULL DEFAULT '',
    visibility   TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    format       TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    -- Name of the original under <data>/originals/. New on every overwrite, so caches keyed
    -- by it can never serve a replaced or deleted original's renditions.
    storage_key  TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_unix INTEGER NOT NULL
);
CREATE INDEX assets_owner ON assets(owner_id, id);
CREATE INDEX assets_folder ON assets(folder, id);

CREATE TABLE asset_tags (
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (asset_id, tag)
);
CREATE INDEX asset_tags_tag ON asset_tags(tag, asset_id);

CREATE TABLE usage_counters (
    user_id         INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    bandwidth_bytes INTEGER NOT NULL DEFAULT 0,
    requests        INTEGER NOT NULL DEFAULT 0
);
