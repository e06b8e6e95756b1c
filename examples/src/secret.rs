//! The JWT signing key: `JWT_SECRET`, or a random key kept in a file beside
//! the SQLite database, or (PostgreSQL / in-memory) a random key for this
//! process only.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where the key came from (for the start-up log; never the key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// The `JWT_SECRET` variable.
    Env,
    /// Read from this file (written by an earlier run).
    File(PathBuf),
    /// Generated now and written to this file.
    Created(PathBuf),
    /// Generated now, kept in memory only: tokens die on restart.
    Ephemeral,
}

/// A signing key and where it came from.
#[derive(Clone)]
pub struct JwtSecret {
    /// The key bytes.
    pub bytes: Vec<u8>,
    /// Its source.
    pub source: SecretSource,
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSecret")
            .field("bytes", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// The SQLite file a `sqlite:` URL names (`None` for memory databases and other schemes).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") || path.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// The key file beside a database file: `chatcore.db` -> `chatcore.db.jwt-secret`.
pub fn secret_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".jwt-secret");
    database.with_file_name(name)
}

fn random_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves the key: `env` (the `JWT_SECRET` value) wins; else the file
/// beside the SQLite database at `database_url` (created when missing,
/// mode 0600); else an ephemeral random key.
pub fn resolve(env: Option<String>, database_url: &str) -> std::io::Result<JwtSecret> {
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        return Ok(JwtSecret {
            bytes: value.into_bytes(),
            source: SecretSource::Env,
        });
    }
    let Some(database) = sqlite_path(database_url) else {
        return Ok(JwtSecret {
            bytes: random_hex().into_bytes(),
            source: SecretSource::Ephemeral,
        });
    };
    let path = secret_path(&database);
    match fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok(JwtSecret {
                bytes: text.trim().as_bytes().to_vec(),
                source: SecretSource::File(path),
            })
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let secret = random_hex();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(JwtSecret {
        bytes: secret.into_bytes(),
        source: SecretSource::Created(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://chatcore.db"),
            Some(PathBuf::from("chatcore.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:data/x.db?mode=rwc"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
        assert_eq!(
            secret_path(Path::new("/a/chatcore.db")),
            PathBuf::from("/a/chatcore.db.jwt-secret")
        );
    }

    #[test]
    fn file_secret_persists() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("c.db").display());
        let first = resolve(None, &url).unwrap();
        assert!(matches!(first.source, SecretSource::Created(_)));
        let second = resolve(None, &url).unwrap();
        assert!(matches!(second.source, SecretSource::File(_)));
        assert_eq!(first.bytes, second.bytes);
        assert_eq!(
            resolve(Some("k".repeat(32)), &url).unwrap().source,
            SecretSource::Env
        );
        assert_eq!(
            resolve(None, "postgres://x/y").unwrap().source,
            SecretSource::Ephemeral
        );
    }
}
