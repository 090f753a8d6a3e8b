//! Validated domain values (parse once, valid everywhere) and the records actors hand back.
use serde::Serialize;

use crate::error::DomainError;

/// Text that names none of an enum's values, from input or from a stored row. It is never mapped
/// to a default: input gets a 400 naming the allowed values (`From<UnknownName> for DomainError`),
/// and a row the database hands back with it is an internal error (`FromSql`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be {allowed} (got '{got}')")]
pub struct UnknownName {
    pub what: &'static str,
    /// The accepted names, quoted and joined ("'public' or 'private'").
    pub allowed: String,
    pub got: String,
}

impl UnknownName {
    pub fn new(what: &'static str, names: &[&str], got: &str) -> Self {
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let allowed = match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => quoted.concat(),
        };
        // Echoed input stays bounded whatever was sent.
        UnknownName { what, allowed, got: got.chars().take(64).collect() }
    }
}

impl From<UnknownName> for DomainError {
    fn from(e: UnknownName) -> Self { DomainError::Invalid(e.to_string()) }
}

/// The one text form of an enum: `as_str`, `FromStr` (unknown names are an `UnknownName`, never a
/// default), `parse` for input (400), and `FromSql`/`ToSql` so rows read and write the same names.
macro_rules! text_enum {
    ($ty:ident, $what:literal, { $($var:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$var),+];
            pub fn as_str(self) -> &'static str { match self { $($ty::$var => $name),+ } }
            /// Input's reading: an unknown name is `DomainError::Invalid`.
            pub fn parse(s: &str) -> Result<$ty, $crate::error::DomainError> { Ok(s.parse::<$ty>()?) }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::domain::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$var),)+
                    other => Err($crate::domain::UnknownName::new($what, &[$($name),+], other)),
                }
            }
        }
        impl rusqlite::types::FromSql for $ty {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                v.as_str()?.parse().map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }
        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> { Ok(self.as_str().into()) }
        }
    };
}
pub(crate) use text_enum;

/// A syntactically plausible, lower-cased email address of at most 254 bytes, free of control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a forward path; also what keeps untrusted input small before it keys anything.
    pub const MAX: usize = 254;

    pub fn parse(s: &str) -> Result<Email, DomainError> {
        // Checked on the raw input: trimming would quietly accept a trailing "\n", and no control
        // character (C0, DEL, C1) belongs in an address or in a log line that echoes one.
        if s.chars().any(char::is_control) {
            return Err(DomainError::Invalid("email must not contain control characters".into()));
        }
        let s = s.trim();
        // The length is refused without echoing the input: error messages stay small too.
        if s.len() > Self::MAX {
            return Err(DomainError::Invalid(format!("email must be at most {} bytes", Self::MAX)));
        }
        let ok = s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !s.chars().any(char::is_whitespace)
        });
        if ok { Ok(Email(s.to_ascii_lowercase())) } else { Err(DomainError::Invalid(format!("'{s}' is not a valid email address"))) }
    }
    pub fn as_str(&self) -> &str { &self.0 }
}

/// A password within bcrypt's limits. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    /// bcrypt silently ignores bytes past 72; refusing is better than truncating.
    pub const MAX: usize = 72;
    pub fn parse(s: &str) -> Result<Password, DomainError> {
        match s.len() {
            n if n < Self::MIN => Err(DomainError::Invalid(format!("password must be at least {} bytes", Self::MIN))),
            n if n > Self::MAX => Err(DomainError::Invalid(format!("password must be at most {} bytes (bcrypt's limit)", Self::MAX))),
            _ => Ok(Password(s.to_string())),
        }
    }
    pub fn expose(&self) -> &str { &self.0 }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Password(***)") }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role { Admin, User }

text_enum!(Role, "role", { Admin => "admin", User => "user" });

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: String,
}

/// "Admins see everything": the one policy deciding whose data a user may see and change. Every
/// query and check asks it; SQL gets its answer as a parameter (`owner_scope`, `ROLE_SEES_ALL`).
impl Role {
    /// The role whose holders see and manage every owner's data, as stored in `users.role`.
    pub const SEES_ALL: Role = Role::Admin;
    pub fn sees_all(self) -> bool { self == Role::SEES_ALL }
}

impl User {
    /// Whether this user sees and manages every owner's data (and the admin-only endpoints).
    pub fn sees_all(&self) -> bool { self.role.sees_all() }
    /// The owner a query must be limited to: `None` (every owner) for those who see all, else the
    /// user's own id. Bind it as `(?N IS NULL OR owner_id = ?N)`.
    pub fn owner_scope(&self) -> Option<i64> { (!self.sees_all()).then_some(self.id) }
    /// Whether this user may see and change what `owner` owns.
    pub fn may_manage(&self, owner: i64) -> bool { self.id == owner || self.sees_all() }
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via { Session, ApiKey }

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user: User,
    pub via: Via,
}

/// An API key as listings show it: never the secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub key_id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The mint reply: the only time the secret leaves the server.
#[derive(Debug, Clone, Serialize)]
pub struct MintedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub key_secret: String,
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn now_unix() -> i64 { time::OffsetDateTime::now_utc().unix_timestamp() }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["", "ann", "@x", "a@", "a b@c", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_refuses_control_characters_anywhere() {
        // C0 (tab, newlines, NUL, ESC), DEL and C1 (U+0085 NEL, U+009B CSI), inside and at either end.
        for c in ['\t', '\n', '\r', '\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}'] {
            for bad in [format!("a{c}b@x.io"), format!("ab@x.io{c}"), format!("{c}ab@x.io")] {
                let e = Email::parse(&bad).unwrap_err();
                assert!(e.to_string().contains("control characters"), "{bad:?}: {e}");
            }
        }
    }

    #[test]
    fn email_length_is_capped_without_echoing_the_input() {
        let at_limit = format!("{}@x.io", "a".repeat(Email::MAX - 5));
        assert_eq!(Email::parse(&at_limit).unwrap().as_str().len(), Email::MAX);
        let huge = format!("{}@x.io", "a".repeat(60 * 1024));
        let msg = Email::parse(&huge).unwrap_err().to_string();
        assert!(msg.contains("at most 254") && msg.len() < 100, "{msg}");
    }

    #[test]
    fn password_bounds_follow_bcrypt() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(72)).is_ok());
        assert!(Password::parse(&"x".repeat(73)).is_err());
        assert_eq!(format!("{:?}", Password::parse("secret-pw").unwrap()), "Password(***)");
    }

    #[test]
    fn role_names_round_trip_and_unknown_ones_are_refused() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        for bad in ["Admin", "ADMIN", " admin", "root", ""] {
            let e = bad.parse::<Role>().unwrap_err();
            assert_eq!(e.to_string(), format!("role must be 'admin' or 'user' (got '{bad}')"));
            assert!(matches!(Role::parse(bad), Err(DomainError::Invalid(_))));
        }
    }

    #[test]
    fn admins_see_everything_and_users_their_own() {
        let user = |id, role| User { id, email: "x@y.z".into(), role, created_at: String::new() };
        let (admin, ann) = (user(1, Role::Admin), user(2, Role::User));
        assert_eq!((admin.owner_scope(), ann.owner_scope()), (None, Some(2)));
        assert!(admin.may_manage(2) && admin.may_manage(1));
        assert!(ann.may_manage(2) && !ann.may_manage(1));
        assert!(admin.sees_all() && !ann.sees_all());
        assert_eq!(Role::SEES_ALL.as_str(), "admin", "the stored name SQL compares against");
    }
}
