//! Tornado's output transforms (`OutputTransform`, `Application(transforms=...)`): code that
//! rewrites every answer of an application's handlers on its way out — its status, its header
//! fields and its body — without each handler knowing.
//!
//! A transform is made per request by the factory given to
//! [`Settings::transform`](crate::Settings::transform), sees the head with the first body
//! chunk, then each later chunk of a streamed answer, and is told which chunk is the last.
//! Transforms run in the order they were added, after the ETag is settled and before the
//! built-in gzip (`compress_response`), as Tornado runs its own `GZipContentEncoding` last.
//! They apply to the answers of `RequestHandler`s (error pages included); actors, functions and
//! services answer through their own writers.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use cyclone_protocol::server::HttpServerRequest;
use http::{HeaderMap, StatusCode};

/// Rewrites one answer on its way out (Tornado's `OutputTransform`).
///
/// ```
/// use bytes::Bytes;
/// use cyclone_web::{OutputTransform, Settings};
/// use http::{HeaderMap, HeaderValue, StatusCode};
///
/// /// Tells clients which server region answered, and shouts.
/// struct Shout;
///
/// impl OutputTransform for Shout {
///     fn transform_first_chunk(
///         &mut self,
///         _status: &mut StatusCode,
///         headers: &mut HeaderMap,
///         chunk: Bytes,
///         _finishing: bool,
///     ) -> Bytes {
///         headers.insert("x-region", HeaderValue::from_static("eu-1"));
///         headers.remove(http::header::CONTENT_LENGTH);
///         Bytes::from(chunk.to_ascii_uppercase())
///     }
///
///     fn transform_chunk(&mut self, chunk: Bytes, _finishing: bool) -> Bytes {
///         Bytes::from(chunk.to_ascii_uppercase())
///     }
/// }
///
/// let settings = Settings::default().transform(|_request| Shout);
/// # drop(settings);
/// ```
pub trait OutputTransform: Send + 'static {
    /// The answer's status, header fields and first body chunk (the whole body when
    /// `finishing`, as for an answer sent whole); returns the chunk to send. Called once,
    /// before the head goes out, so the status and fields may still change.
    fn transform_first_chunk(
        &mut self,
        status: &mut StatusCode,
        headers: &mut HeaderMap,
        chunk: Bytes,
        finishing: bool,
    ) -> Bytes;

    /// A later chunk of a streamed answer (the last when `finishing`); returns the chunk to
    /// send.
    fn transform_chunk(&mut self, chunk: Bytes, finishing: bool) -> Bytes;
}

/// What a [`TransformFactory`] calls per request.
type MakeTransform = dyn Fn(&HttpServerRequest) -> Box<dyn OutputTransform> + Send + Sync;

/// Makes one [`OutputTransform`] per request: what
/// [`Settings::transform`](crate::Settings::transform) keeps.
#[derive(Clone)]
pub struct TransformFactory(Arc<MakeTransform>);

impl TransformFactory {
    /// Wraps `factory`.
    pub fn new<T, F>(factory: F) -> Self
    where
        T: OutputTransform,
        F: Fn(&HttpServerRequest) -> T + Send + Sync + 'static,
    {
        TransformFactory(Arc::new(move |request| Box::new(factory(request))))
    }

    /// The transform for `request`.
    pub(crate) fn make(&self, request: &HttpServerRequest) -> Box<dyn OutputTransform> {
        (self.0)(request)
    }
}

impl fmt::Debug for TransformFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransformFactory")
    }
}

/// The transforms of one answer, in order.
pub(crate) struct Transforms(Vec<Box<dyn OutputTransform>>);

impl Transforms {
    /// The transforms `factories` make for `request`; `None` when there are none (the common
    /// case costs no allocation).
    pub(crate) fn start(
        factories: &[TransformFactory],
        request: &HttpServerRequest,
    ) -> Option<Transforms> {
        if factories.is_empty() {
            return None;
        }
        Some(Transforms(
            factories
                .iter()
                .map(|factory| factory.make(request))
                .collect(),
        ))
    }

    /// Runs every transform's `transform_first_chunk` in order.
    pub(crate) fn first_chunk(
        &mut self,
        status: &mut StatusCode,
        headers: &mut HeaderMap,
        mut chunk: Bytes,
        finishing: bool,
    ) -> Bytes {
        for transform in &mut self.0 {
            chunk = transform.transform_first_chunk(status, headers, chunk, finishing);
        }
        chunk
    }

    /// Runs every transform's `transform_chunk` in order.
    pub(crate) fn chunk(&mut self, mut chunk: Bytes, finishing: bool) -> Bytes {
        for transform in &mut self.0 {
            chunk = transform.transform_chunk(chunk, finishing);
        }
        chunk
    }
}

impl fmt::Debug for Transforms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Transforms").field(&self.0.len()).finish()
    }
}
