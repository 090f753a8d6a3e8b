//! Validated domain values (parse once, valid everywhere) and the records actors hand back.
use serde::Serialize;

use crate::error::DomainError;

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

impl Role {
    pub fn parse(s: &str) -> Result<Role, DomainError> {
        match s {
            "admin" => Ok(Role::Admin),
            "user" => Ok(Role::User),
            other => Err(DomainError::Invalid(format!("role must be 'admin' or 'user' (got '{other}')"))),
        }
    }
    pub fn as_str(self) -> &'static str { match self { Role::Admin => "admin", Role::User => "user" } }
}

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: String,
}

impl User {
    pub fn is_admin(&self) -> bool { self.role == Role::Admin }
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
}
