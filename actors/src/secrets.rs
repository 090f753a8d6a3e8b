//! Server secrets (session and URL-signing keys): made on first start, kept in the data directory with 0600 permissions.
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

/// Bytes of key material; the file holds them hex-encoded (64 characters).
pub const KEY_BYTES: usize = 32;

/// Secret key material. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn bytes(&self) -> &[u8] { &self.0 }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Secret(***)") }
}

/// Why a key file cannot be used. Each message is one sentence naming the file, because it ends startup.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// An empty or short key (a crash between create and write, a hand edit) would make signatures forgeable.
    #[error("{path}: not a {KEY_BYTES}-byte hex key ({found}); restore it from a backup or delete it to generate a new one (signed URLs and sessions made with the old key stop working)")]
    Malformed { path: PathBuf, found: String },
    #[error("{path}: permissions {mode:04o} let other users read the key; run `chmod 600 {path}`")]
    TooOpen { path: PathBuf, mode: u32 },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
    move |source| SecretError::Io { path: path.to_path_buf(), source }
}

/// Reads `<dir>/<name>.key`, creating it with fresh random bytes when absent; refuses a malformed or readable-by-others key.
pub fn load_or_create(dir: &Path, name: &str) -> Result<Secret, SecretError> {
    let path = dir.join(format!("{name}.key"));
    match std::fs::read(&path) {
        Ok(text) => {
            check_private(&path)?;
            parse(&path, &text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(dir, &path),
        Err(e) => Err(io(&path)(e)),
    }
}

fn parse(path: &Path, text: &[u8]) -> Result<Secret, SecretError> {
    let malformed = |found: String| SecretError::Malformed { path: path.to_path_buf(), found };
    let text = std::str::from_utf8(text).map_err(|_| malformed("not text".into()))?.trim();
    let bytes = hex::decode(text).map_err(|e| malformed(format!("{e}")))?;
    if bytes.len() != KEY_BYTES {
        return Err(malformed(format!("{} bytes", bytes.len())));
    }
    Ok(Secret(bytes))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::TooOpen { path: path.to_path_buf(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), SecretError> { Ok(()) }

/// Writes a temp file, fsyncs it, renames it into place and fsyncs the directory: a crash leaves either no key
/// file or a whole one, never the empty file that `load_or_create` would have to refuse.
fn create(dir: &Path, path: &Path) -> Result<Secret, SecretError> {
    let mut buf = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut buf);
    let tmp = dir.join(format!(".{}.tmp", path.file_name().unwrap_or_default().to_string_lossy()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(io(&tmp))?;
    f.write_all(hex::encode(buf).as_bytes()).and_then(|_| f.sync_all()).map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(Secret(buf.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_private_mode() {
        let d = tempfile::tempdir().unwrap();
        let a = load_or_create(d.path(), "s").unwrap();
        let b = load_or_create(d.path(), "s").unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert_eq!(a.bytes().len(), KEY_BYTES);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "no temp file left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join("s.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    fn write_key(d: &Path, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let p = d.join("s.key");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn empty_short_or_non_hex_keys_are_refused() {
        for text in ["", "\n", "abcd", &"ab".repeat(31), &"zz".repeat(32), &"ab".repeat(33)] {
            let d = tempfile::tempdir().unwrap();
            write_key(d.path(), text, 0o600);
            let err = load_or_create(d.path(), "s").unwrap_err();
            assert!(matches!(err, SecretError::Malformed { .. }), "{text:?}: {err}");
            assert!(err.to_string().contains("s.key"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn keys_readable_by_others_are_refused() {
        for mode in [0o644, 0o640, 0o604, 0o660] {
            let d = tempfile::tempdir().unwrap();
            write_key(d.path(), &"ab".repeat(32), mode);
            let err = load_or_create(d.path(), "s").unwrap_err();
            assert!(matches!(err, SecretError::TooOpen { .. }), "{mode:o}: {err}");
        }
        let d = tempfile::tempdir().unwrap();
        write_key(d.path(), &format!("{}\n", "ab".repeat(32)), 0o400);
        assert_eq!(load_or_create(d.path(), "s").unwrap().bytes(), &[0xab; KEY_BYTES]);
    }
}
