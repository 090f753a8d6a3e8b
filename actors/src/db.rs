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
    include_str!("../../migrations/0007_autoincrement_ids.sql"),
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
        // Rebuilding a table (SQLite's way to change a column, e.g. 0007) drops the old one, which
        // with foreign keys on would cascade into its children. So keys are off while migrations run
        // (the pragma is a no-op inside their transactions) and each migration checks them before it
        // commits. This connection is dropped afterwards; pooled ones turn them on in `configure`.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql).foreign_key_check()).collect());
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
    /// A database made before 0007 keeps its rows and their links through the table rebuilds (foreign
    /// keys off, so dropping `users` cascades nowhere), and afterwards a deleted highest id is never
    /// handed out again.
    #[test]
    fn the_autoincrement_rebuild_keeps_rows_and_links_and_ids_are_not_reused() {
        use rusqlite_migration::{Migrations, M};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA foreign_keys=ON").unwrap();
            let before_0007 = super::MIGRATIONS.iter().take_while(|sql| !sql.contains("CREATE TABLE users_new"));
            Migrations::new(before_0007.map(|sql| M::up(sql)).collect()).to_latest(&mut conn).unwrap();
            conn.execute_batch(
                "INSERT INTO users VALUES (1, 'a@x.test', 'h', 'admin', 't'), (2, 'b@x.test', 'h', 'user', 't');
                 INSERT INTO sessions VALUES ('tok', 2, 't', 99);
                 INSERT INTO api_keys VALUES (7, 'ck_1', x'00', 'k', 2, 't', NULL, NULL);
                 INSERT INTO assets VALUES (5, 'p', 2, '', 'public', 'png', 1, 1, 1, 1, 'sk', 't', 't', 0);
                 INSERT INTO asset_tags VALUES (5, 'hero');
                 INSERT INTO usage_counters VALUES (2, 10, 1);",
            )
            .unwrap();
        }
        let pool = super::open(&path, 1).unwrap();
        let c = pool.get().unwrap();
        let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM users"), 2);
        assert_eq!(count("SELECT user_id FROM sessions WHERE token_hash = 'tok'"), 2);
        assert_eq!(count("SELECT id FROM api_keys WHERE key_id = 'ck_1'"), 7);
        assert_eq!(count("SELECT COUNT(*) FROM asset_tags t JOIN assets a ON a.id = t.asset_id WHERE a.public_id = 'p'"), 1);
        assert_eq!(count("SELECT bandwidth_bytes FROM usage_counters WHERE user_id = 2"), 10);
        assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_list('api_keys') WHERE \"table\" = 'users'"), 1);
        // Foreign keys are on again and still cascade from the rebuilt parent.
        c.execute("DELETE FROM assets WHERE id = 5", []).unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM asset_tags"), 0);
        c.execute("DELETE FROM users WHERE id = 2", []).unwrap();
        assert_eq!(count("SELECT COUNT(*) FROM sessions") + count("SELECT COUNT(*) FROM api_keys") + count("SELECT COUNT(*) FROM usage_counters"), 0);
        c.execute("INSERT INTO users (email, password_hash, role, created_at) VALUES ('c@x.test', 'h', 'user', 't')", []).unwrap();
        assert_eq!(c.last_insert_rowid(), 3, "the deleted user's id 2 is not handed out again");
        assert!(c.execute("INSERT INTO sessions VALUES ('t2', 99, 't', 1)", []).is_err(), "foreign keys are enforced");
    }

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
