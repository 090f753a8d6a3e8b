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
    include_str!("../../migrations/0006_outbox_limits.sql"),
];

/// Milliseconds a connection waits for another connection's lock before SQLite reports "database is locked".
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Milliseconds a TRUNCATE checkpoint waits for readers of old frames.
const CHECKPOINT_WAIT_MS: u64 = 200;

/// Bytes the WAL file is cut back to after a checkpoint: without a limit the file stays at its
/// high-water mark forever, however little of it is still in use.
const JOURNAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// Per-connection settings. busy_timeout comes first so that every later statement on the connection already waits
/// for locks instead of failing.
fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(&format!("PRAGMA busy_timeout={BUSY_TIMEOUT_MS}; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT};"))
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

/// Runs `PRAGMA wal_checkpoint(TRUNCATE)` every `every` on its own thread, so the WAL is copied back
/// and emptied even while the automatic (passive) checkpoints keep being overtaken by readers: a
/// TRUNCATE checkpoint waits (busy_timeout) for the readers of old frames to finish instead of
/// leaving the frames behind, and then cuts the file to nothing. The thread holds no connection
/// between runs.
pub fn spawn_checkpointer(pool: Pool, every: std::time::Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name("wal-checkpoint".into()).spawn(move || loop {
        std::thread::sleep(every);
        match checkpoint(&pool) {
            Ok(true) => {}
            Ok(false) => tracing::debug!("wal checkpoint: readers still busy, retried next time"),
            Err(e) => tracing::warn!("wal checkpoint: {e}"),
        }
    })?;
    Ok(())
}

/// One TRUNCATE checkpoint; false when a reader or writer kept it from completing.
pub fn checkpoint(pool: &Pool) -> Result<bool, DomainError> {
    let conn = pool.get()?;
    // While it waits for readers it holds off new writers, so it waits a short while only and
    // tries again next time rather than stalling the catalog's writes for the full busy timeout.
    conn.busy_timeout(std::time::Duration::from_millis(CHECKPOINT_WAIT_MS))?;
    let busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS.into()))?;
    Ok(busy? == 0)
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
