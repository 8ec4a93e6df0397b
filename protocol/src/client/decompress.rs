//! `decompress_response`: gzip and deflate bodies inflated as they arrive, each inflated piece
//! handed on at once and the inflated total held to `max_body_size` (a small body cannot
//! inflate into an unbounded one).

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use bytes::Bytes;
use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use http::HeaderValue;

use super::body::BodySink;

/// The content codings this client inflates, as sent in `Accept-Encoding`.
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate";

/// Which inflater a `Content-Encoding` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// RFC 1952 gzip.
    Gzip,
    /// RFC 1950 zlib, which HTTP calls deflate (raw RFC 1951 streams are accepted too, as
    /// browsers do, because some servers send them).
    Deflate,
}

impl Coding {
    /// The coding named by a `Content-Encoding` value, if this client inflates it.
    pub(crate) fn from_header(value: &HeaderValue) -> Option<Coding> {
        let value = value.to_str().ok()?.trim();
        if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
            Some(Coding::Gzip)
        } else if value.eq_ignore_ascii_case("deflate") {
            Some(Coding::Deflate)
        } else {
            None
        }
    }
}

/// Hands inflated bytes to the body sink as the inflater writes them (in pieces of at most its
/// 32 KiB window), so nothing inflated is held here.
struct SinkWriter(Rc<RefCell<BodySink>>);

impl Write for SinkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .borrow_mut()
            .deliver(Bytes::copy_from_slice(data))
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.to_string()))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The inflater in use, chosen on the first bytes for deflate (zlib header or raw).
enum Inflater {
    /// Waiting for the first two bytes of a deflate body to tell zlib from raw.
    DeflateUndecided(Rc<RefCell<BodySink>>, Vec<u8>),
    Gzip(GzDecoder<SinkWriter>),
    Zlib(ZlibDecoder<SinkWriter>),
    Raw(DeflateDecoder<SinkWriter>),
}

/// Inflates one response body into a [`BodySink`].
pub(crate) struct Decompressor {
    /// The inflater; `None` once finished.
    inflater: Option<Inflater>,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor").finish_non_exhaustive()
    }
}

impl Decompressor {
    /// An inflater for `coding` writing into `sink`.
    pub(crate) fn new(coding: Coding, sink: Rc<RefCell<BodySink>>) -> Self {
        let inflater = match coding {
            Coding::Gzip => Inflater::Gzip(GzDecoder::new(SinkWriter(sink))),
            Coding::Deflate => Inflater::DeflateUndecided(sink, Vec::with_capacity(2)),
        };
        Decompressor {
            inflater: Some(inflater),
        }
    }

    /// Inflates the next compressed bytes.
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let Some(inflater) = &mut self.inflater else {
            return Ok(());
        };
        match inflater {
            Inflater::DeflateUndecided(sink, pending) => {
                pending.extend_from_slice(data);
                if pending.len() < 2 {
                    return Ok(());
                }
                let header = u16::from_be_bytes([pending[0], pending[1]]);
                let zlib = pending[0] & 0x0f == 8 && header % 31 == 0;
                let pending = std::mem::take(pending);
                let writer = SinkWriter(Rc::clone(sink));
                *inflater = if zlib {
                    Inflater::Zlib(ZlibDecoder::new(writer))
                } else {
                    Inflater::Raw(DeflateDecoder::new(writer))
                };
                self.write(&pending)
            }
            Inflater::Gzip(decoder) => decoder.write_all(data),
            Inflater::Zlib(decoder) => decoder.write_all(data),
            Inflater::Raw(decoder) => decoder.write_all(data),
        }
    }

    /// Flushes what the inflater still holds at the end of the body.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        match self.inflater.take() {
            None => Ok(()),
            Some(Inflater::DeflateUndecided(_, pending)) if pending.is_empty() => Ok(()),
            Some(Inflater::DeflateUndecided(..)) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "deflate body ended after one byte",
            )),
            Some(Inflater::Gzip(decoder)) => decoder.finish().map(drop),
            Some(Inflater::Zlib(decoder)) => decoder.finish().map(drop),
            Some(Inflater::Raw(decoder)) => decoder.finish().map(drop),
        }
    }
}
