-- The last version a deleted public_id had, so an upload that reuses the id continues the
-- sequence: versioned URLs are cached as immutable, and v1 of the new image must not be a URL
-- some browser or CDN still holds for the old one.
CREATE TABLE retired_versions (
    public_id TEXT PRIMARY KEY,
    version   INTEGER NOT NULL
) WITHOUT ROWID;
