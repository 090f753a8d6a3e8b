-- Ids that appear in URLs, JSON and logs are never reused: users (/v1/users/<id>, delivery counters
-- and assets keyed by owner), API keys (`id` in their JSON) and assets (list cursors). Without
-- AUTOINCREMENT SQLite hands a deleted highest id to the next row, and a new user inherited what
-- still pointed at the old one. SQLite cannot add AUTOINCREMENT in place: each table is rebuilt
-- (create new, copy, drop, rename, indexes back), with foreign keys off while it runs (db.rs) and
-- checked before commit. sqlite_sequence starts at each table's highest id.
CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    created_at    TEXT NOT NULL
);
INSERT INTO users_new (id, email, password_hash, role, created_at) SELECT id, email, password_hash, role, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE api_keys_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id       TEXT NOT NULL UNIQUE,
    secret_hash  BLOB NOT NULL,
    name         TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
INSERT INTO api_keys_new (id, key_id, secret_hash, name, user_id, created_at, last_used_at, revoked_at)
    SELECT id, key_id, secret_hash, name, user_id, created_at, last_used_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE assets_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO assets_new (id, public_id, owner_id, folder, visibility, format, width, height, bytes, version, storage_key,
                        created_at, updated_at, created_unix)
    SELECT id, public_id, owner_id, folder, visibility, format, width, height, bytes, version, storage_key,
           created_at, updated_at, created_unix FROM assets;
DROP TABLE assets;
ALTER TABLE assets_new RENAME TO assets;
CREATE INDEX assets_owner ON assets(owner_id, id);
CREATE INDEX assets_folder ON assets(folder, id);
