//! Server secrets (session and URL-signing keys): made on first start, kept in the data directory with 0600 permissions.
use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::error::DomainError;

/// Secret key material. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn bytes(&self) -> &[u8] { &self.0 }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Secret(***)") }
}

/// Reads `<dir>/<name>.key`, creating it with 32 random bytes (hex) and mode 0600 when absent.
pub fn load_or_create(dir: &Path, name: &str) -> Result<Secret, DomainError> {
    let path = dir.join(format!("{name}.key"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return hex::decode(text.trim()).map(Secret).map_err(|e| DomainError::Internal(format!("{}: {e}", path.display())));
    }
    let mut buf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&path).map_err(|e| DomainError::Internal(format!("{}: {e}", path.display())))?;
    f.write_all(hex::encode(buf).as_bytes()).and_then(|_| f.sync_all()).map_err(DomainError::internal)?;
    Ok(Secret(buf.to_vec()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn created_once_with_private_mode() {
        let d = tempfile::tempdir().unwrap();
        let a = super::load_or_create(d.path(), "s").unwrap();
        let b = super::load_or_create(d.path(), "s").unwrap();
        assert_eq!(a.bytes(), b.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join("s.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
