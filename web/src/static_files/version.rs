//! Static file versions for `static_url` (Tornado's `get_version` and its `_static_hashes`):
//! a hash of each file's bytes, computed once on the blocking pool and kept for the process
//! (with `static_hash_cache` off, as in `debug`, checked against the file's size and
//! modification time on every use and recomputed when they change).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

use cyclone_actors::executor::run_in_executor;
use sha2::{Digest, Sha256};

use crate::handler::RequestContext;

/// Hex digits of the hash in `?v=`: 32, as Tornado's MD5 hex digest.
const VERSION_LENGTH: usize = 32;

/// Bytes read at a time while hashing: a big file is never read whole into memory.
const HASH_READ_SIZE: usize = 64 * 1024;

/// A file's version as last computed.
#[derive(Debug, Clone)]
struct Version {
    /// The hash; `None` when the file could not be read (the URL then has no `v`).
    hash: Option<String>,
    /// The size the hash was computed at.
    len: u64,
    /// The modification time the hash was computed at.
    modified: Option<SystemTime>,
}

/// Versions by file, for every application of the process (Tornado's class-level
/// `_static_hashes`).
static VERSIONS: LazyLock<Mutex<HashMap<PathBuf, Version>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn versions() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Version>> {
    VERSIONS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The known version of `file`: `Some(None)` when it is known to be unreadable, `None` when
/// it was never hashed.
pub(crate) fn cached_version(file: &Path) -> Option<Option<String>> {
    versions().get(file).map(|version| version.hash.clone())
}

/// Forgets every version (Tornado's `StaticFileHandler.reset()`): the next `static_url` of
/// each file hashes it again.
pub(crate) fn reset() {
    versions().clear();
}

/// Brings the versions of `files` up to date on the blocking pool: a file whose size or
/// modification time changed since it was hashed (or never hashed) is hashed again.
pub(crate) async fn hash_files(files: Vec<PathBuf>) {
    let job = move || {
        for file in files {
            refresh(&file);
        }
    };
    if let Err(error) = run_in_executor(job).await {
        tracing::warn!("static file versions not computed: {error}");
    }
}

/// Brings `file`'s version up to date (blocking).
fn refresh(file: &Path) {
    let metadata = std::fs::metadata(file).ok();
    let len = metadata.as_ref().map_or(0, std::fs::Metadata::len);
    let modified = metadata
        .as_ref()
        .and_then(|metadata| metadata.modified().ok());
    if let Some(known) = versions().get(file)
        && known.len == len
        && known.modified == modified
        && (known.hash.is_some() || metadata.is_none())
    {
        return;
    }
    let hash = match hash_file(file) {
        Ok(hash) => Some(hash),
        Err(error) => {
            // Tornado logs this and serves the URL without a version.
            tracing::error!("could not open static file {}: {error}", file.display());
            None
        }
    };
    versions().insert(
        file.to_owned(),
        Version {
            hash,
            len,
            modified,
        },
    );
}

/// The hex SHA-256 of the file's bytes (cut to [`VERSION_LENGTH`]), read in pieces.
fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; HASH_READ_SIZE];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => hasher.update(&buffer[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    let mut version = hex::encode(hasher.finalize());
    version.truncate(VERSION_LENGTH);
    Ok(version)
}

impl RequestContext {
    /// The URL of the static file `path` (relative to `static_path`):
    /// `/static/<path>?v=<hash>` (Tornado's `static_url`). The hash is of the file's bytes,
    /// computed on the blocking pool the first time and kept; with `static_hash_cache` off
    /// (`debug`) it is recomputed when the file changes. A request carrying `v` is answered
    /// with a one-year `Cache-Control`, so a changed file must get a new URL, which this gives.
    /// Without `static_path`, or for a file that cannot be read, the URL has no `v`.
    pub async fn static_url(&self, path: &str) -> String {
        let settings = self.settings();
        let Some(file) = super::file_for_url(settings, path) else {
            return super::make_static_url(settings, path, None);
        };
        let known = if settings.static_hash_cache_enabled() {
            cached_version(&file)
        } else {
            None
        };
        let version = match known {
            Some(version) => version,
            None => {
                hash_files(vec![file.clone()]).await;
                cached_version(&file).flatten()
            }
        };
        super::make_static_url(settings, path, version.as_deref())
    }
}
