//! Static files (Tornado's `StaticFileHandler` and `static_url`).
//!
//! With [`Settings::static_path`](crate::Settings::static_path) the application serves that
//! folder under [`static_url_prefix`](crate::Settings::static_url_prefix) (default
//! `/static/`), and `/favicon.ico` and `/robots.txt` from it, before its own rules, as Tornado
//! does. [`StaticFileHandler::target`] serves any other folder from a rule of your own:
//!
//! ```
//! use cyclone_web::static_files::{StaticFileHandler, StaticFileOptions};
//! use cyclone_web::url;
//!
//! let docs = url(
//!     r"/docs/(.*)",
//!     StaticFileHandler::target_with("site/docs", StaticFileOptions {
//!         default_filename: Some("index.html".into()),
//!         ..StaticFileOptions::default()
//!     }),
//! );
//! # drop(docs);
//! ```
//!
//! What a request gets:
//!
//! - GET and HEAD; `Content-Type` from the extension (`mime_guess`; `charset=utf-8` for
//!   text), `Accept-Ranges: bytes`, an `ETag` and `Last-Modified`, answering a matching
//!   `If-None-Match` (or, without one, an `If-Modified-Since` not older than the file) with 304.
//! - One byte range: 206 with `Content-Range`; a range starting past the end is 416 with
//!   `Content-Range: bytes */<size>`. `If-Range` that does not match sends the whole file.
//! - A request with `v` in its query (what [`static_url`](crate::RequestContext::static_url)
//!   makes) gets `Cache-Control: max-age=31536000, public, immutable`; others none.
//! - A file larger than [`StaticFileOptions::chunk_size`] is streamed with its
//!   `Content-Length`: read one chunk at a time on the blocking pool and flushed, so a slow
//!   client holds at most the connection's queue of chunks in memory, never the file.
//! - With a `.gz` sibling and a client accepting gzip, the sibling is sent with
//!   `Content-Encoding: gzip` (and `Vary: Accept-Encoding` whenever a sibling exists).
//! - A path leading outside the root (`..`, however encoded, absolute paths, symlinks pointing
//!   out) is 403; a missing file 404; a directory without a default file 403.
//!
//! The guide is `docs/static.md`.

mod range;
mod resolve;
mod version;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cyclone_actors::executor::{ExecutorError, run_in_executor};
use http::header::{
    ACCEPT_ENCODING, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, EXPIRES, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
    VARY,
};
use http::{HeaderValue, Method, StatusCode};

pub use resolve::StaticFileError;

use crate::errors::HttpError;
use crate::handler::handler_with;
use crate::handler::{HandlerResult, RequestContext, RequestHandler};
use crate::routing::{Rule, url};
use crate::settings::Settings;
use crate::target::Target;
use range::RangeAnswer;
use resolve::{Lookup, OpenFile};

pub(crate) use version::{cached_version, hash_files};

/// Default for [`StaticFileOptions::chunk_size`]: 64 KiB, as Tornado reads.
pub const DEFAULT_STATIC_CHUNK_SIZE: usize = 64 * 1024;

/// Default for [`StaticFileOptions::cache_max_age`]: one year.
pub const DEFAULT_STATIC_CACHE_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How a [`StaticFileHandler`] serves its folder (Tornado's `static_handler_args` and
/// `StaticFileHandler` class attributes).
#[derive(Debug, Clone)]
pub struct StaticFileOptions {
    /// The file served for a directory (`index.html`); a directory asked for without its
    /// trailing `/` is redirected (301) to it. Default none: directories are 403.
    pub default_filename: Option<String>,
    /// Bytes read from disk at a time. Files up to this size are sent whole, larger ones
    /// streamed a chunk at a time. Default 64 KiB.
    pub chunk_size: usize,
    /// Serve `file.gz` for `file` to clients that accept gzip. Default on.
    pub precompressed_gzip: bool,
    /// `Cache-Control: max-age` for requests carrying `v` (versioned URLs, which change with
    /// the file). Default one year.
    pub cache_max_age: Duration,
}

impl Default for StaticFileOptions {
    fn default() -> Self {
        StaticFileOptions {
            default_filename: None,
            chunk_size: DEFAULT_STATIC_CHUNK_SIZE,
            precompressed_gzip: true,
            cache_max_age: DEFAULT_STATIC_CACHE_MAX_AGE,
        }
    }
}

/// Counters of every static file answer in the process, for monitoring and for tests that
/// check memory stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaticFileStats {
    /// Bytes read from disk to answer requests.
    pub bytes_read: u64,
    /// Answers streamed in chunks (files larger than the chunk size).
    pub files_streamed: u64,
}

/// The counters behind [`stats`].
static BYTES_READ: AtomicU64 = AtomicU64::new(0);
static FILES_STREAMED: AtomicU64 = AtomicU64::new(0);

/// The process's [`StaticFileStats`] so far.
pub fn stats() -> StaticFileStats {
    StaticFileStats {
        bytes_read: BYTES_READ.load(Ordering::Relaxed),
        files_streamed: FILES_STREAMED.load(Ordering::Relaxed),
    }
}

/// Serves files under a folder (Tornado's `StaticFileHandler`): the route's first group is the
/// path below the root. Made per request by [`target`](Self::target) /
/// [`target_with`](Self::target_with), or by the application for `static_path`.
#[derive(Debug, Clone)]
pub struct StaticFileHandler {
    /// The folder and options, shared by every request of the rule.
    root: Arc<StaticRoot>,
}

/// A folder served and how.
#[derive(Debug)]
struct StaticRoot {
    /// The folder.
    path: PathBuf,
    /// How.
    options: StaticFileOptions,
}

impl StaticFileHandler {
    /// A handler for files under `root`.
    pub fn new(root: impl Into<PathBuf>, options: StaticFileOptions) -> Self {
        StaticFileHandler {
            root: Arc::new(StaticRoot {
                path: root.into(),
                options,
            }),
        }
    }

    /// A route target serving files under `root` with the default options; the rule's
    /// pattern must have one group, the path (`url(r"/files/(.*)", ..)`).
    pub fn target(root: impl Into<PathBuf>) -> Target {
        Self::target_with(root, StaticFileOptions::default())
    }

    /// [`target`](Self::target) with `options`.
    pub fn target_with(root: impl Into<PathBuf>, options: StaticFileOptions) -> Target {
        let handler = Self::new(root, options);
        handler_with(move || handler.clone())
    }

    /// The file a request for `path` (a route group, percent-decoded) would be served from:
    /// the canonical path of a file under `root` (its `default_filename` for a directory
    /// asked for with a trailing `/`), as Tornado's `get_absolute_path` and
    /// `validate_absolute_path` together. Touches the file system: call it off the loop.
    ///
    /// Nothing outside `root` is ever returned, however `path` tries: `..` above the root,
    /// absolute paths, backslashes, NUL bytes, and symlinks that lead out are all refused.
    ///
    /// ```
    /// use cyclone_web::StaticFileHandler;
    ///
    /// let root = std::env::temp_dir().join("cyclone-resolve-path-doc");
    /// std::fs::create_dir_all(&root)?;
    /// std::fs::write(root.join("app.js"), "")?;
    /// let found = StaticFileHandler::resolve_path(&root, "app.js", None)?;
    /// assert_eq!(found, root.canonicalize()?.join("app.js"));
    /// assert_eq!(
    ///     StaticFileHandler::resolve_path(&root, "../../etc/passwd", None).unwrap_err().status(),
    ///     http::StatusCode::FORBIDDEN
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`StaticFileError::Forbidden`] (leads out, or not a file: a directory without a default
    /// file, or one asked for without its trailing `/`), [`StaticFileError::NotFound`],
    /// [`StaticFileError::Io`].
    pub fn resolve_path(
        root: &std::path::Path,
        path: &str,
        default_filename: Option<&str>,
    ) -> Result<PathBuf, StaticFileError> {
        match resolve::open(root, path, default_filename, false)? {
            Lookup::File(file) => Ok(file.path),
            Lookup::AddSlash => Err(StaticFileError::Forbidden(path.to_owned())),
        }
    }

    /// Forgets every file version `static_url` computed (Tornado's `StaticFileHandler.reset`).
    pub fn reset() {
        version::reset();
    }

    /// Answers GET (`with_body`) or HEAD.
    async fn serve(&self, cx: &mut RequestContext, with_body: bool) -> HandlerResult {
        let requested = cx.path_args().get(0).unwrap_or_default().to_owned();
        let gzip = self.root.options.precompressed_gzip && accepts_gzip(cx);
        let root = self.root.clone();
        let lookup = blocking(move || {
            resolve::open(
                &root.path,
                &requested,
                root.options.default_filename.as_deref(),
                gzip,
            )
        })
        .await??;
        let file = match lookup {
            Lookup::File(file) => file,
            Lookup::AddSlash => {
                let with_slash = format!("{}/", cx.request().path());
                cx.redirect(&with_slash, true).await?;
                return Err(HttpError::finish());
            }
        };
        self.set_headers(cx, &file)?;
        if not_modified(cx, &file) {
            cx.set_status(StatusCode::NOT_MODIFIED);
            return Ok(());
        }
        let (start, end) = match requested_range(cx, &file) {
            RangeAnswer::Whole => (0, file.len),
            RangeAnswer::Partial { start, end } => {
                cx.set_status(StatusCode::PARTIAL_CONTENT);
                cx.set_header(
                    CONTENT_RANGE.as_str(),
                    &format!("bytes {start}-{}/{}", end - 1, file.len),
                )?;
                (start, end)
            }
            RangeAnswer::Unsatisfiable => {
                cx.set_status(StatusCode::RANGE_NOT_SATISFIABLE);
                cx.set_header(CONTENT_TYPE.as_str(), "text/plain")?;
                cx.set_header(CONTENT_RANGE.as_str(), &format!("bytes */{}", file.len))?;
                cx.clear_header(ETAG.as_str());
                return Ok(());
            }
        };
        let length = end - start;
        if !with_body {
            // The head says what GET would send; the connection sends no body for HEAD.
            cx.set_header(CONTENT_LENGTH.as_str(), &length.to_string())?;
            return cx.flush().await;
        }
        self.send_body(cx, file, start, length).await
    }

    /// The header fields every answer for `file` carries.
    fn set_headers(&self, cx: &mut RequestContext, file: &OpenFile) -> HandlerResult {
        let headers = cx.headers_mut();
        headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        headers.insert(CONTENT_TYPE, content_type(file));
        if file.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if file.has_gzip_sibling {
            headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        if let Some(modified) = file.modified
            && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(modified))
        {
            headers.insert(LAST_MODIFIED, value);
        }
        if let Ok(value) = HeaderValue::from_str(&etag(file)) {
            headers.insert(ETAG, value);
        }
        let versioned = cx
            .request()
            .query_arguments()
            .is_ok_and(|arguments| arguments.get("v").is_some());
        if versioned {
            let max_age = self.root.options.cache_max_age;
            cx.set_header(
                CACHE_CONTROL.as_str(),
                &format!("max-age={}, public, immutable", max_age.as_secs()),
            )?;
            cx.set_header(
                EXPIRES.as_str(),
                &httpdate::fmt_http_date(SystemTime::now() + max_age),
            )?;
        }
        Ok(())
    }

    /// Sends bytes `start..start + length` of `file`: whole when it fits one chunk, else a chunk
    /// at a time, each read on the blocking pool and flushed before the next is read (the
    /// flush waits while the connection's queue is full, so memory stays bounded).
    async fn send_body(
        &self,
        cx: &mut RequestContext,
        file: OpenFile,
        start: u64,
        length: u64,
    ) -> HandlerResult {
        let chunk_size = self.root.options.chunk_size.max(1);
        let mut handle = file.file;
        if start > 0 {
            let (moved, result) = blocking(move || resolve::seek(handle, start)).await?;
            result?;
            handle = moved;
        }
        let Ok(whole) = usize::try_from(length) else {
            return Err(HttpError::internal("file too large for this platform"));
        };
        if whole <= chunk_size {
            let (_, bytes) = blocking(move || resolve::read_chunk(handle, whole)).await?;
            let bytes = bytes?;
            BYTES_READ.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            if bytes.len() != whole {
                return Err(HttpError::internal("static file shrank while being read"));
            }
            cx.write(bytes);
            return Ok(());
        }
        FILES_STREAMED.fetch_add(1, Ordering::Relaxed);
        cx.set_header(CONTENT_LENGTH.as_str(), &length.to_string())?;
        let mut remaining = length;
        let mut chunks = resolve::FileChunks::new(handle);
        while remaining > 0 {
            let want = usize::try_from(remaining.min(chunk_size as u64)).unwrap_or(chunk_size);
            let (moved, chunk) = blocking(move || chunks.read(want)).await?;
            chunks = moved;
            let chunk: Bytes = chunk?;
            BYTES_READ.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if chunk.is_empty() {
                // The head promised more: the connection closes rather than end short.
                return Err(HttpError::internal(
                    "static file shrank while being streamed",
                ));
            }
            remaining -= chunk.len() as u64;
            cx.write(chunk);
            cx.flush().await?;
        }
        Ok(())
    }
}

impl RequestHandler for StaticFileHandler {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn get(&mut self, cx: &mut RequestContext) -> HandlerResult {
        self.serve(cx, true).await
    }

    async fn head(&mut self, cx: &mut RequestContext) -> HandlerResult {
        self.serve(cx, false).await
    }
}

/// Runs `job` on the blocking pool: a full pool is 503, a panic 500.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HttpError> {
    run_in_executor(job).await.map_err(|error| match error {
        ExecutorError::QueueFull { .. } => HttpError::new(StatusCode::SERVICE_UNAVAILABLE)
            .log_message(format!("static file read refused: {error}")),
        error => HttpError::internal(format!("static file read failed: {error}")),
    })
}

/// Whether the client accepts a gzip-encoded body.
fn accepts_gzip(cx: &RequestContext) -> bool {
    cx.request()
        .headers()
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|parameter| {
                parameter
                    .trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The file's `Content-Type`: from its extension (the `.gz` of a served sibling aside),
/// `application/gzip` for `.gz` files asked for by name, else `application/octet-stream`;
/// text gets `charset=utf-8`.
fn content_type(file: &OpenFile) -> HeaderValue {
    let is_gz = file
        .path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gz"));
    if is_gz {
        return HeaderValue::from_static("application/gzip");
    }
    let Some(mime) = mime_guess::from_path(&file.path).first() else {
        return HeaderValue::from_static("application/octet-stream");
    };
    let textual = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            mime.essence_str(),
            "application/javascript" | "application/json" | "image/svg+xml"
        );
    let value = if textual && mime.get_param(mime_guess::mime::CHARSET).is_none() {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// A strong validator from the file's size and modification time (no need to read the file):
/// `"<size>-<nanoseconds>"` in hex, `-gz` for the gzip sibling.
fn etag(file: &OpenFile) -> String {
    let nanos = file
        .modified
        .and_then(|modified| modified.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    let gz = if file.gzip { "-gz" } else { "" };
    format!("\"{:x}-{nanos:x}{gz}\"", file.len)
}

/// Tornado's `should_return_304`: `If-None-Match` decides when present (weak comparison);
/// otherwise an `If-Modified-Since` at or after the file's time (to the second).
fn not_modified(cx: &RequestContext, file: &OpenFile) -> bool {
    let request = cx.request().headers();
    if request.contains_key(IF_NONE_MATCH) {
        return cx.check_etag_header();
    }
    let (Some(since), Some(modified)) = (
        request
            .get(IF_MODIFIED_SINCE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| httpdate::parse_http_date(value).ok()),
        file.modified,
    ) else {
        return false;
    };
    whole_seconds(modified) <= whole_seconds(since)
}

/// Seconds since the epoch (HTTP dates have no finer resolution).
fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// What the request's `Range` (and `If-Range`) ask of `file`.
fn requested_range(cx: &RequestContext, file: &OpenFile) -> RangeAnswer {
    let request = cx.request().headers();
    let Some(range) = request
        .get(RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(range::parse)
    else {
        return RangeAnswer::Whole;
    };
    if let Some(condition) = request.get(IF_RANGE).and_then(|value| value.to_str().ok()) {
        let current = if condition.starts_with('"') || condition.starts_with("W/") {
            // Ranges combine only with a strong, equal validator.
            condition == etag(file)
        } else {
            match (httpdate::parse_http_date(condition), file.modified) {
                (Ok(date), Some(modified)) => whole_seconds(date) == whole_seconds(modified),
                _ => false,
            }
        };
        if !current {
            return RangeAnswer::Whole;
        }
    }
    range::answer(range, file.len)
}

/// The rules an application with `static_path` serves before its own (Tornado's
/// `Application.__init__`): the prefix, `/favicon.ico` and `/robots.txt`.
pub(crate) fn static_rules(settings: &Settings) -> Vec<Rule> {
    let Some(root) = &settings.static_path else {
        return Vec::new();
    };
    let target = StaticFileHandler::target_with(root.clone(), settings.static_handler_args.clone());
    let prefix = regex::escape(settings.static_url_prefix_or_default());
    vec![
        url(format!("{prefix}(.*)"), target.clone()),
        url(r"/(favicon\.ico)", target.clone()),
        url(r"/(robots\.txt)", target),
    ]
}

/// `static_url_prefix` + `path`, with `?v=version` when known (Tornado's `make_static_url`).
pub fn make_static_url(settings: &Settings, path: &str, version: Option<&str>) -> String {
    let prefix = settings.static_url_prefix_or_default();
    match version {
        Some(version) => format!("{prefix}{path}?v={version}"),
        None => format!("{prefix}{path}"),
    }
}

/// The file `static_url(path)` names, for its version: under `static_path`, never above it.
pub(crate) fn file_for_url(settings: &Settings, path: &str) -> Option<PathBuf> {
    let root = settings.static_path.as_ref()?;
    let relative = resolve::relative_path(path)?;
    Some(root.join(relative))
}
