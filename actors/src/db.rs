//! The SQLite pool and schema migrations (SQL files under /migrations, applied at start).
use std::path::Path;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use crate::error::DomainError;

pub type Pool = r2d2::Pool<SqliteConnectionManager>;
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_identity.sql"),
    include_str!("../../migrations/0002_assets.sql"),
    include_str!("../../migrations/0003_usage_daily.sql"),
    include_str!("../../migrations/0004_outbox.sql"),
    include_str!("../../migrations/0005_retired_versions.sql"),
];

/// Milliseconds a connection waits for another connection's lock before SQLite reports "database is locked".
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Per-connection settings. busy_timeout comes first so that every later statement on the connection already waits
/// for locks instead of failing.
fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(&format!("PRAGMA busy_timeout={BUSY_TIMEOUT_MS}; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"))
}

/// Opens (creating if needed) the database file, applies pending migrations and returns a pool.
///
/// WAL mode (persistent in the file) and the migrations are done on one connection before the pool exists: r2d2
/// opens its connections concurrently, and on a fresh file each one switching to WAL, or one migrating while another
/// switched, used to fail with "database is locked".
pub fn open(path: &Path, size: u32) -> Result<Pool, DomainError> {
    {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        // WAL lets readers proceed while one writer commits.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DomainError::Internal(format!("{}: cannot enable WAL journal mode (got {mode})", path.display())));
        }
        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
        migrations.to_latest(&mut conn).map_err(|e| DomainError::Internal(format!("migrations: {e}")))?;
    }
    let manager = SqliteConnectionManager::file(path).with_init(|c| configure(c));
    Ok(r2d2::Pool::builder().max_size(size.max(1)).build(manager)?)
}

#[cfg(test)]
pub(crate) fn test_pool() -> (tempfile::TempDir, Pool) {
    let dir = tempfile::tempdir().unwrap();
    let pool = open(&dir.path().join("t.sqlite"), 2).unwrap();
    (dir, pool)
}

#[cfg(test)]
mod tests {
    /// A fresh file, a pool whose connections all open at once, and every connection writing at once: each
    /// statement must wait for its turn, never fail with "database is locked".
    #[test]
    fn a_fresh_database_opens_and_takes_concurrent_writes_without_lock_errors() {
        for round in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let pool = super::open(&dir.path().join("fresh.sqlite"), 12).unwrap_or_else(|e| panic!("round {round}: {e}"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
            let handles: Vec<_> = (0..12)
                .map(|i| {
                    let (pool, barrier) = (pool.clone(), barrier.clone());
                    std::thread::spawn(move || -> Result<(), String> {
                        let conn = pool.get().map_err(|e| e.to_string())?;
                        barrier.wait();
                        conn.execute_batch(&format!("CREATE TABLE IF NOT EXISTS t{i} (x); INSERT INTO t{i} VALUES ({i});")).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
        }
    }
}
