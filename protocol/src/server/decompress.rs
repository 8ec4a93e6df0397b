//! `decompress_request`: inflating `Content-Encoding: gzip` request bodies as they arrive, with
//! the inflated size held to `max_body_size` (a small gzip body can inflate a thousandfold).

use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use flate2::write::GzDecoder;

/// Why an inflated body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecompressError {
    /// Inflated past the limit: 413.
    TooLarge,
    /// Not valid gzip: 400.
    Invalid,
}

/// Collects inflated bytes, refusing to hold more than `limit` in total.
#[derive(Debug)]
struct BoundedSink {
    /// Inflated bytes not yet taken.
    out: BytesMut,
    /// Inflated bytes so far, taken or not.
    total: u64,
    /// The most `total` may reach.
    limit: u64,
    /// The limit was hit (the io::Error alone cannot tell it from corrupt input).
    exceeded: bool,
}

impl Write for BoundedSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.total += data.len() as u64;
        if self.total > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("inflated body above the limit"));
        }
        self.out.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Inflates one gzip request body piece by piece.
#[derive(Debug)]
pub(crate) struct Decompressor {
    /// The inflater writing into a bounded sink.
    decoder: GzDecoder<BoundedSink>,
}

impl Decompressor {
    /// An inflater whose output may total at most `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        Decompressor {
            decoder: GzDecoder::new(BoundedSink {
                out: BytesMut::new(),
                total: 0,
                limit,
                exceeded: false,
            }),
        }
    }

    /// Inflates `data`; returns what it produced (possibly empty).
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<Bytes, DecompressError> {
        if let Err(_error) = self.decoder.write_all(data) {
            return Err(self.error());
        }
        Ok(self.decoder.get_mut().out.split().freeze())
    }

    /// Checks the stream is complete; returns the last inflated bytes.
    pub(crate) fn finish(&mut self) -> Result<Bytes, DecompressError> {
        if self.decoder.try_finish().is_err() {
            return Err(self.error());
        }
        Ok(self.decoder.get_mut().out.split().freeze())
    }

    fn error(&mut self) -> DecompressError {
        if self.decoder.get_ref().exceeded {
            DecompressError::TooLarge
        } else {
            DecompressError::Invalid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn inflates_split_input_and_bounds_the_output() {
        let packed = gzip(&[b'a'; 10_000]);
        let mut whole = Vec::new();
        let mut inflater = Decompressor::new(10_000);
        for piece in packed.chunks(7) {
            whole.extend_from_slice(&inflater.feed(piece).unwrap());
        }
        whole.extend_from_slice(&inflater.finish().unwrap());
        assert_eq!(whole, vec![b'a'; 10_000]);

        let mut small = Decompressor::new(9_999);
        let result = small.feed(&packed).and_then(|_| small.finish());
        assert_eq!(result, Err(DecompressError::TooLarge));

        let mut corrupt = Decompressor::new(10_000);
        let result = corrupt
            .feed(b"not gzip at all")
            .and_then(|_| corrupt.finish());
        assert_eq!(result, Err(DecompressError::Invalid));

        let mut truncated = Decompressor::new(10_000);
        let result = truncated
            .feed(&packed[..packed.len() / 2])
            .and_then(|_| truncated.finish());
        assert_eq!(result, Err(DecompressError::Invalid));
    }
}
