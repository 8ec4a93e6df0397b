//! From a request's path to an open file under the root, refusing every way out of it: `..`
//! that climbs above the root (however it was encoded: routing has decoded it by now),
//! absolute paths, drive or backslash tricks, NUL bytes, and symlinks that lead outside.
//! Runs on the blocking pool: it touches the disk.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use http::StatusCode;

/// Why a static file cannot be served; each maps to one status in [`StaticFileError::status`].
#[derive(Debug, thiserror::Error)]
pub enum StaticFileError {
    /// The path leads outside the root, or names something that is not a file (a
    /// directory without a default file).
    #[error("{0} is not a file under the static root")]
    Forbidden(String),
    /// No such file.
    #[error("{0} not found")]
    NotFound(String),
    /// The file is there but could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl StaticFileError {
    /// The answer's status: 403, 404 or 500.
    pub fn status(&self) -> StatusCode {
        match self {
            StaticFileError::Forbidden(_) => StatusCode::FORBIDDEN,
            StaticFileError::NotFound(_) => StatusCode::NOT_FOUND,
            StaticFileError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StaticFileError> for crate::HttpError {
    fn from(error: StaticFileError) -> Self {
        crate::HttpError::new(error.status()).log_message(error.to_string())
    }
}

/// What a request's path names.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A file, opened.
    File(OpenFile),
    /// A directory with a default file, asked for without the trailing `/`: redirect to it
    /// with one so relative links in the page work (Tornado does the same).
    AddSlash,
}

/// A file to serve, opened, and what its answer's header fields need.
#[derive(Debug)]
pub(crate) struct OpenFile {
    /// The file (the `.gz` sibling when that is served).
    pub(crate) file: File,
    /// The file asked for (for its content type, even when the `.gz` sibling is served).
    pub(crate) path: PathBuf,
    /// Its size in bytes.
    pub(crate) len: u64,
    /// Its modification time, when the file system keeps one.
    pub(crate) modified: Option<SystemTime>,
    /// The `.gz` sibling is served (`Content-Encoding: gzip`).
    pub(crate) gzip: bool,
    /// A `.gz` sibling exists, so the answer depends on `Accept-Encoding`.
    pub(crate) has_gzip_sibling: bool,
}

/// The file at `requested` (the route's group, decoded) under `root`: the `.gz` sibling if
/// `gzip` and one exists, `default_filename` for a directory.
pub(crate) fn open(
    root: &Path,
    requested: &str,
    default_filename: Option<&str>,
    gzip: bool,
) -> Result<Lookup, StaticFileError> {
    let shown = || requested.to_owned();
    let root = root.canonicalize().map_err(|source| StaticFileError::Io {
        path: root.display().to_string(),
        source,
    })?;
    let relative = relative_path(requested).ok_or_else(|| StaticFileError::Forbidden(shown()))?;
    let mut path = inside(&root, &root.join(&relative), requested)?;
    if path.is_dir() {
        let Some(default_filename) = default_filename else {
            return Err(StaticFileError::Forbidden(shown()));
        };
        if !requested.is_empty() && !requested.ends_with('/') {
            return Ok(Lookup::AddSlash);
        }
        path = inside(&root, &path.join(default_filename), requested)?;
    }
    if !path.is_file() {
        return Err(StaticFileError::Forbidden(shown()));
    }
    let mut sibling = path.clone().into_os_string();
    sibling.push(".gz");
    let sibling = inside(&root, Path::new(&sibling), requested)
        .ok()
        .filter(|sibling| sibling.is_file());
    let has_gzip_sibling = sibling.is_some();
    let (served, gzip) = match sibling {
        Some(sibling) if gzip => (sibling, true),
        _ => (path.clone(), false),
    };
    let io_error = |source| StaticFileError::Io {
        path: shown(),
        source,
    };
    let file = File::open(&served).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    Ok(Lookup::File(OpenFile {
        file,
        path,
        len: metadata.len(),
        modified: metadata.modified().ok(),
        gzip,
        has_gzip_sibling,
    }))
}

/// `candidate` with symlinks resolved, if it exists and is under `root` (already resolved);
/// 404 if it does not exist, 403 if it leads out.
fn inside(root: &Path, candidate: &Path, requested: &str) -> Result<PathBuf, StaticFileError> {
    let resolved = candidate
        .canonicalize()
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                StaticFileError::NotFound(requested.to_owned())
            }
            _ => StaticFileError::Io {
                path: requested.to_owned(),
                source: error,
            },
        })?;
    if resolved.starts_with(root) {
        Ok(resolved)
    } else {
        Err(StaticFileError::Forbidden(requested.to_owned()))
    }
}

/// `requested` as a relative path of plain names, `.` and empty segments dropped and `..`
/// taking back the name before it; `None` when it would climb above the root or a segment is
/// not a plain name on this system (a drive, a root, a NUL byte, a backslash).
pub(crate) fn relative_path(requested: &str) -> Option<PathBuf> {
    let mut names: Vec<&str> = Vec::new();
    for segment in requested.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                names.pop()?;
            }
            name => {
                let plain = !name.contains(['\0', '\\'])
                    && matches!(
                        Path::new(name).components().collect::<Vec<_>>().as_slice(),
                        [Component::Normal(_)]
                    );
                if !plain {
                    return None;
                }
                names.push(name);
            }
        }
    }
    Some(names.iter().collect())
}

/// Reads up to `want` bytes from `file` at its position (fewer only at the end of the file),
/// into a buffer of its own: for a file that fits one chunk.
pub(crate) fn read_chunk(mut file: File, want: usize) -> (File, io::Result<Bytes>) {
    use std::io::Read;
    // The read fills the buffer's spare capacity: a zeroed buffer (`vec![0; want]`) would cost
    // a memset for bytes the read overwrites.
    let mut buffer = Vec::with_capacity(want);
    let limit = u64::try_from(want).unwrap_or(u64::MAX);
    match (&mut file).take(limit).read_to_end(&mut buffer) {
        Ok(_) => (file, Ok(Bytes::from(buffer))),
        Err(error) => (file, Err(error)),
    }
}

/// A file streamed a chunk at a time, with the buffer its chunks are read into.
///
/// The buffer outlives its chunks: once the connection has written a chunk and dropped it, the
/// next read takes the same memory back (`BytesMut::reserve` reclaims a buffer no chunk shares
/// any more). A fresh 64 KiB buffer a chunk was memory the pool thread's allocator had just
/// handed back to the kernel, so the read faulted every page of it in again: ~170 page faults
/// a 1 MiB file, and ~2× actix-files' CPU a request.
pub(crate) struct FileChunks {
    file: File,
    buffer: BytesMut,
}

impl FileChunks {
    /// Streams `file` from its current position.
    pub(crate) fn new(file: File) -> Self {
        Self {
            file,
            buffer: BytesMut::new(),
        }
    }

    /// Reads the next chunk of up to `want` bytes (fewer only at the end of the file); runs on
    /// the blocking pool, so it takes and gives back `self`.
    pub(crate) fn read(mut self, want: usize) -> (Self, io::Result<Bytes>) {
        use std::io::Read;
        self.buffer.clear();
        // Zeroing warm memory costs a fraction of what faulting fresh pages did.
        self.buffer.resize(want, 0);
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut self.buffer[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return (self, Err(error)),
            }
        }
        self.buffer.truncate(filled);
        let chunk = self.buffer.split().freeze();
        (self, Ok(chunk))
    }
}

/// Moves `file` to byte `offset`.
pub(crate) fn seek(mut file: File, offset: u64) -> (File, io::Result<()>) {
    let result = file.seek(SeekFrom::Start(offset)).map(|_| ());
    (file, result)
}
