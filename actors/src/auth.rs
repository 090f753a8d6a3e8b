//! The auth actors: users, passwords (bcrypt), browser sessions and API keys over SQLite.
//!
//! Two SyncArbiter pools share one store. `AuthActor` answers the checks every request makes
//! (sessions, API keys); `PasswordActor` runs everything that calls bcrypt (login, change-password,
//! creating or re-passwording users). bcrypt is slow on purpose, so a flood of password attempts
//! must queue behind other bcrypt work only, never in front of a session or key check.
use actix::{Actor, SyncContext};
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::{Conn, Pool};
use crate::domain::{now_rfc3339, now_unix, ApiKey, Email, MintedKey, Password, Principal, Role, User, Via};
use crate::error::{DomainError, DomainResult};

/// Settings the auth store needs.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub bcrypt_cost: u32,
    pub session_ttl_secs: i64,
}

/// The logic, usable without actors (CLI and unit tests call it directly).
#[derive(Clone)]
pub struct AuthStore {
    pool: Pool,
    settings: AuthSettings,
}

fn sha256_hex(s: &str) -> String { hex::encode(Sha256::digest(s.as_bytes())) }

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

// bcrypt hashes of a fixed password, so a login for an unknown email costs the same time as a wrong password.
fn dummy_hash(cost: u32) -> &'static str {
    use std::sync::OnceLock;
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| bcrypt::hash("timing-equaliser", cost).unwrap_or_default())
}

const USER_COLS: &str = "id, email, role, created_at";

/// Users who see all (`Role::SEES_ALL`): the last one may be neither demoted nor deleted.
fn count_seeing_all(tx: &rusqlite::Connection) -> DomainResult<i64> {
    Ok(tx.query_row("SELECT COUNT(*) FROM users WHERE role = ?1", [Role::SEES_ALL], |r| r.get(0))?)
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User { id: r.get(0)?, email: r.get(1)?, role: r.get(2)?, created_at: r.get(3)? })
}

/// Why a user with assets cannot be deleted, and what to do about it. There is no way to hand
/// assets to another user, so deleting them is the way out; the owner filter lists them.
fn owns_assets_message(email: &str, id: i64, assets: i64) -> String {
    let (noun, them) = if assets == 1 { ("asset", "it") } else { ("assets", "them") };
    format!("{email} still owns {assets} {noun}: delete {them} first (GET /v1/assets?owner={id} lists {them}), then delete the user")
}

const KEY_COLS: &str = "id, key_id, name, created_at, last_used_at, revoked_at";

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey { id: r.get(0)?, key_id: r.get(1)?, name: r.get(2)?, created_at: r.get(3)?, last_used_at: r.get(4)?, revoked_at: r.get(5)? })
}

impl AuthStore {
    pub fn new(pool: Pool, settings: AuthSettings) -> Self { Self { pool, settings } }

    fn conn(&self) -> DomainResult<Conn> { Ok(self.pool.get()?) }

    fn hash_password(&self, p: &Password) -> DomainResult<String> {
        bcrypt::hash(p.expose(), self.settings.bcrypt_cost).map_err(DomainError::internal)
    }

    pub fn user_count(&self) -> DomainResult<i64> {
        Ok(self.conn()?.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
    }

    pub fn get_user(&self, id: i64) -> DomainResult<User> {
        self.conn()?
            .query_row(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"), [id], user_from_row)
            .optional()?
            .ok_or_else(|| DomainError::NotFound(format!("user {id}")))
    }

    pub fn list_users(&self) -> DomainResult<Vec<User>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY id"))?;
        let rows = st.query_map([], user_from_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn create_user(&self, email: &str, password: &str, role: Role) -> DomainResult<User> {
        let email = Email::parse(email)?;
        let hash = self.hash_password(&Password::parse(password)?)?;
        let conn = self.conn()?;
        let now = now_rfc3339();
        match conn.execute(
            "INSERT INTO users (email, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![email.as_str(), hash, role.as_str(), now],
        ) {
            Ok(_) => self.get_user(conn.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(DomainError::Conflict(format!("a user with email '{}' already exists", email.as_str())))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn update_user(&self, id: i64, email: Option<&str>, password: Option<&str>, role: Option<Role>) -> DomainResult<User> {
        let current = self.get_user(id)?;
        let email = email.map(Email::parse).transpose()?;
        let hash = password.map(Password::parse).transpose()?.map(|p| self.hash_password(&p)).transpose()?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if current.sees_all() && role.is_some_and(|r| !r.sees_all()) {
            if count_seeing_all(&tx)? <= 1 {
                return Err(DomainError::Conflict("cannot demote the last admin".into()));
            }
        }
        if let Some(e) = &email {
            let taken: Option<i64> = tx.query_row("SELECT id FROM users WHERE email = ?1 AND id != ?2", params![e.as_str(), id], |r| r.get(0)).optional()?;
            if taken.is_some() {
                return Err(DomainError::Conflict(format!("a user with email '{}' already exists", e.as_str())));
            }
            tx.execute("UPDATE users SET email = ?1 WHERE id = ?2", params![e.as_str(), id])?;
        }
        if let Some(h) = &hash {
            tx.execute("UPDATE users SET password_hash = ?1 WHERE id = ?2", params![h, id])?;
            // A password set by an admin ends every session of that user.
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
        }
        if let Some(r) = role {
            tx.execute("UPDATE users SET role = ?1 WHERE id = ?2", params![r.as_str(), id])?;
        }
        tx.commit()?;
        self.get_user(id)
    }

    pub fn delete_user(&self, id: i64) -> DomainResult<()> {
        let target = self.get_user(id)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if target.sees_all() {
            if count_seeing_all(&tx)? <= 1 {
                return Err(DomainError::Conflict("cannot delete the last admin".into()));
            }
        }
        let assets: i64 = tx.query_row("SELECT COUNT(*) FROM assets WHERE owner_id = ?1", [id], |r| r.get(0))?;
        if assets > 0 {
            return Err(DomainError::Conflict(owns_assets_message(&target.email, id, assets)));
        }
        tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Checks email and password; on success opens a session and returns its token.
    pub fn login(&self, email: &Email, password: &str) -> DomainResult<(User, String)> {
        let bad = || DomainError::Unauthenticated("invalid email or password".into());
        // No pooled connection is held across bcrypt: the pool is shared with every session check.
        let row: Option<(i64, String)> = self
            .conn()?
            .query_row("SELECT id, password_hash FROM users WHERE email = ?1", [email.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((id, hash)) = row else {
            let _ = bcrypt::verify(password, dummy_hash(self.settings.bcrypt_cost));
            return Err(bad());
        };
        if !bcrypt::verify(password, &hash).unwrap_or(false) {
            return Err(bad());
        }
        let token = self.open_session(&self.conn()?, id)?;
        Ok((self.get_user(id)?, token))
    }

    fn open_session(&self, conn: &Conn, user_id: i64) -> DomainResult<String> {
        let token = random_token(32);
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![sha256_hex(&token), user_id, now_rfc3339(), now_unix() + self.settings.session_ttl_secs],
        )?;
        // Expired rows are swept opportunistically so the table stays small without a timer.
        conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [now_unix()])?;
        Ok(token)
    }

    pub fn resolve_session(&self, token: &str) -> DomainResult<Principal> {
        let conn = self.conn()?;
        let user_id: Option<i64> = conn
            .query_row(
                "SELECT user_id FROM sessions WHERE token_hash = ?1 AND expires_at >= ?2",
                params![sha256_hex(token), now_unix()],
                |r| r.get(0),
            )
            .optional()?;
        let user_id = user_id.ok_or_else(|| DomainError::Unauthenticated("session expired or invalid; sign in again".into()))?;
        Ok(Principal { user: self.get_user(user_id)?, via: Via::Session })
    }

    pub fn logout(&self, token: &str) -> DomainResult<()> {
        self.conn()?.execute("DELETE FROM sessions WHERE token_hash = ?1", [sha256_hex(token)])?;
        Ok(())
    }

    /// Verifies the current password, sets the new one and ends every other session of the user.
    pub fn change_password(&self, user_id: i64, current: &str, new: &str, keep_token: Option<&str>) -> DomainResult<()> {
        let new = Password::parse(new)?;
        let hash: String = self.conn()?.query_row("SELECT password_hash FROM users WHERE id = ?1", [user_id], |r| r.get(0))?;
        if !bcrypt::verify(current, &hash).unwrap_or(false) {
            return Err(DomainError::Forbidden("current password is wrong".into()));
        }
        let new_hash = self.hash_password(&new)?;
        let conn = self.conn()?;
        conn.execute("UPDATE users SET password_hash = ?1 WHERE id = ?2", params![new_hash, user_id])?;
        let keep = keep_token.map(sha256_hex).unwrap_or_default();
        conn.execute("DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2", params![user_id, keep])?;
        Ok(())
    }

    pub fn list_keys(&self, user_id: i64) -> DomainResult<Vec<ApiKey>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(&format!("SELECT {KEY_COLS} FROM api_keys WHERE user_id = ?1 ORDER BY id"))?;
        let rows = st.query_map([user_id], key_from_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn mint_key(&self, user_id: i64, name: &str) -> DomainResult<MintedKey> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(DomainError::Invalid("name must be 1 to 100 characters".into()));
        }
        // 8 random bytes make ids unique enough to index; 32 bytes (256 bits) of secret is well over the 128 asked.
        let key_id = format!("ck_{}", random_token(8));
        let secret = format!("cs_{}", random_token(32));
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO api_keys (key_id, secret_hash, name, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key_id, Sha256::digest(secret.as_bytes()).to_vec(), name, user_id, now_rfc3339()],
        )?;
        let key = conn.query_row(&format!("SELECT {KEY_COLS} FROM api_keys WHERE id = ?1"), [conn.last_insert_rowid()], key_from_row)?;
        Ok(MintedKey { key, key_secret: secret })
    }

    /// Revokes a key by numeric `id` or by `key_id`. Owners revoke their own; admins any.
    pub fn revoke_key(&self, caller: &User, id: &str) -> DomainResult<ApiKey> {
        let conn = self.conn()?;
        let row: Option<(i64, i64)> = conn
            .query_row("SELECT id, user_id FROM api_keys WHERE key_id = ?1 OR CAST(id AS TEXT) = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (kid, owner) = row.ok_or_else(|| DomainError::NotFound(format!("api key '{id}'")))?;
        if !caller.may_manage(owner) {
            // Same answer as a missing key, so ids of other users' keys are not confirmed.
            return Err(DomainError::NotFound(format!("api key '{id}'")));
        }
        conn.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2", params![now_rfc3339(), kid])?;
        Ok(conn.query_row(&format!("SELECT {KEY_COLS} FROM api_keys WHERE id = ?1"), [kid], key_from_row)?)
    }

    /// Checks `key_id:key_secret`. The secret's hash is compared in constant time.
    pub fn verify_key(&self, key_id: &str, secret: &str) -> DomainResult<Principal> {
        let bad = || DomainError::Unauthenticated("invalid or revoked API key".into());
        let conn = self.conn()?;
        let row: Option<(i64, Vec<u8>, i64, Option<String>, Option<String>)> = conn
            .query_row(
                "SELECT id, secret_hash, user_id, revoked_at, last_used_at FROM api_keys WHERE key_id = ?1",
                [key_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        // Hash even when the id is unknown, so the response time does not tell which ids exist.
        let given = Sha256::digest(secret.as_bytes());
        let Some((id, stored, user_id, revoked, last_used)) = row else { return Err(bad()) };
        if !bool::from(given.as_slice().ct_eq(&stored)) || revoked.is_some() {
            return Err(bad());
        }
        // last_used_at is written at most once a minute per key: a write per request would serialise every API call.
        let stale = last_used
            .and_then(|t| time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok())
            .is_none_or(|t| (time::OffsetDateTime::now_utc() - t).whole_seconds() >= 60);
        if stale {
            conn.execute("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2", params![now_rfc3339(), id])?;
        }
        Ok(Principal { user: self.get_user(user_id)?, via: Via::ApiKey })
    }

    /// First start: with no users, create the first admin. Returns the generated password when one was made up.
    pub fn ensure_first_admin(&self, email: &str, password: Option<&str>) -> DomainResult<Option<(User, Option<String>)>> {
        if self.user_count()? > 0 {
            return Ok(None);
        }
        let (pw, generated) = match password.filter(|p| !p.is_empty()) {
            Some(p) => (p.to_string(), false),
            None => (random_token(12), true),
        };
        let user = self.create_user(email, &pw, Role::Admin)?;
        Ok(Some((user, generated.then_some(pw))))
    }
}

/// Actor for the cheap checks (sessions, keys) and user records: one instance per SyncArbiter
/// thread, all sharing the pool. Nothing here calls bcrypt.
pub struct AuthActor(pub AuthStore);

impl Actor for AuthActor {
    type Context = SyncContext<Self>;
}

/// Actor for every message that runs bcrypt, on a SyncArbiter of its own (`auth.password_threads`).
pub struct PasswordActor(pub AuthStore);

impl Actor for PasswordActor {
    type Context = SyncContext<Self>;
}

crate::store_messages! { PasswordActor;
    Login { email: Email, password: String } -> (User, String) => |s, m| s.login(&m.email, &m.password);
    ChangePassword { user_id: i64, current: String, new: String, keep_token: Option<String> } -> ()
        => |s, m| s.change_password(m.user_id, &m.current, &m.new, m.keep_token.as_deref());
    CreateUser { email: String, password: String, role: Role } -> User => |s, m| s.create_user(&m.email, &m.password, m.role);
    UpdateUser { id: i64, email: Option<String>, password: Option<String>, role: Option<Role> } -> User
        => |s, m| s.update_user(m.id, m.email.as_deref(), m.password.as_deref(), m.role);
}

crate::store_messages! { AuthActor;
    ResolveSession { token: String } -> Principal => |s, m| s.resolve_session(&m.token);
    VerifyApiKey { key_id: String, secret: String } -> Principal => |s, m| s.verify_key(&m.key_id, &m.secret);
    Logout { token: String } -> () => |s, m| s.logout(&m.token);
    Ping {} -> () => |s, _m| s.user_count().map(|_| ());
    ListUsers {} -> Vec<User> => |s, _m| s.list_users();
    DeleteUser { id: i64 } -> () => |s, m| s.delete_user(m.id);
    ListKeys { user_id: i64 } -> Vec<ApiKey> => |s, m| s.list_keys(m.user_id);
    MintKey { user_id: i64, name: String } -> MintedKey => |s, m| s.mint_key(m.user_id, &m.name);
    RevokeKey { caller: User, id: String } -> ApiKey => |s, m| s.revoke_key(&m.caller, &m.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, AuthStore) {
        let (dir, pool) = crate::db::test_pool();
        (dir, AuthStore::new(pool, AuthSettings { bcrypt_cost: 4, session_ttl_secs: 3600 }))
    }

    fn em(s: &str) -> Email { Email::parse(s).unwrap() }

    #[test]
    fn login_session_and_logout() {
        let (_d, s) = store();
        s.create_user("a@x.io", "password1", Role::User).unwrap();
        assert!(s.login(&em("a@x.io"), "wrong-pass").is_err());
        assert!(s.login(&em("nobody@x.io"), "password1").is_err());
        let (u, tok) = s.login(&em("A@X.io"), "password1").unwrap();
        assert_eq!(s.resolve_session(&tok).unwrap().user, u);
        s.logout(&tok).unwrap();
        assert!(s.resolve_session(&tok).is_err());
    }

    #[test]
    fn change_password_ends_other_sessions() {
        let (_d, s) = store();
        s.create_user("a@x.io", "password1", Role::User).unwrap();
        let (u, t1) = s.login(&em("a@x.io"), "password1").unwrap();
        let (_, t2) = s.login(&em("a@x.io"), "password1").unwrap();
        assert!(s.change_password(u.id, "nope-nope", "password2", Some(&t1)).is_err());
        s.change_password(u.id, "password1", "password2", Some(&t1)).unwrap();
        assert!(s.resolve_session(&t1).is_ok());
        assert!(s.resolve_session(&t2).is_err());
        assert!(s.login(&em("a@x.io"), "password2").is_ok());
    }

    #[test]
    fn keys_verify_revoke_and_store_no_plaintext() {
        let (dir, s) = store();
        let u = s.create_user("a@x.io", "password1", Role::User).unwrap();
        let k = s.mint_key(u.id, "ci").unwrap();
        assert!(k.key.key_id.starts_with("ck_") && k.key_secret.starts_with("cs_"));
        assert!(k.key_secret.len() >= 3 + 32);
        assert_eq!(s.verify_key(&k.key.key_id, &k.key_secret).unwrap().user.id, u.id);
        assert!(s.verify_key(&k.key.key_id, "cs_wrong").is_err());
        s.revoke_key(&u, &k.key.id.to_string()).unwrap();
        assert!(s.verify_key(&k.key.key_id, &k.key_secret).is_err());
        let db = std::fs::read(dir.path().join("t.sqlite")).unwrap();
        let wal = std::fs::read(dir.path().join("t.sqlite-wal")).unwrap_or_default();
        let needle = k.key_secret.as_bytes();
        assert!(!db.windows(needle.len()).any(|w| w == needle) && !wal.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn last_admin_is_protected() {
        let (_d, s) = store();
        let a = s.create_user("root@x.io", "password1", Role::Admin).unwrap();
        assert!(matches!(s.delete_user(a.id), Err(DomainError::Conflict(_))));
        assert!(matches!(s.update_user(a.id, None, None, Some(Role::User)), Err(DomainError::Conflict(_))));
        let b = s.create_user("b@x.io", "password1", Role::Admin).unwrap();
        s.update_user(a.id, None, None, Some(Role::User)).unwrap();
        assert!(matches!(s.delete_user(b.id), Err(DomainError::Conflict(_))));
    }

    #[test]
    fn first_admin_generated_once() {
        let (_d, s) = store();
        let (u, pw) = s.ensure_first_admin("admin@x.io", None).unwrap().unwrap();
        assert!(u.sees_all());
        assert!(s.login(&em("admin@x.io"), &pw.unwrap()).is_ok());
        assert!(s.ensure_first_admin("admin@x.io", None).unwrap().is_none());
    }
}
