//! The SQLite pool and schema migrations (SQL files under /migrations, applied at start).
use std::path::Path;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite_migration::{Migrations, M};

use crate::error::DomainError;

pub type Pool = r2d2::Pool<SqliteConnectionManager>;
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_identity.sql"),
    include_str!("../../migrations/0002_assets.sql"),
];

/// Opens (creating if needed) the database file, applies pending migrations and returns a pool.
pub fn open(path: &Path, size: u32) -> Result<Pool, DomainError> {
    // WAL lets readers proceed while one writer commits; busy_timeout turns writer contention into waiting, not errors.
    let manager = SqliteConnectionManager::file(path).with_init(|c| {
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
    });
    let pool = r2d2::Pool::builder().max_size(size.max(1)).build(manager)?;
    let mut conn = pool.get()?;
    let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
    migrations.to_latest(&mut conn).map_err(|e| DomainError::Internal(format!("migrations: {e}")))?;
    Ok(pool)
}

#[cfg(test)]
pub(crate) fn test_pool() -> (tempfile::TempDir, Pool) {
    let dir = tempfile::tempdir().unwrap();
    let pool = open(&dir.path().join("t.sqlite"), 2).unwrap();
    (dir, pool)
}
