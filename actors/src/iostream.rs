//! `IoStream`: Tornado's buffered stream over any `AsyncRead + AsyncWrite`.
//! (Stub: the real stream replaces this file.)

/// A buffered, limit-checked stream (Tornado's `IOStream`).
#[derive(Debug)]
pub struct IoStream<S> {
    /// The transport this stream owns.
    inner: S,
}

impl<S> IoStream<S> {
    /// Wraps a transport with the default limits.
    pub fn new(inner: S) -> Self {
        IoStream { inner }
    }

    /// The transport, for stubs only.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}
