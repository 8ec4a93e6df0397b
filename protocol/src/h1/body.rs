//! Body framing (RFC 9112 §6, §7): a decoder for Content-Length, chunked and close-delimited
//! bodies that knows nothing of requests or responses, so a server and a client share it.

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::error::BodyError;
use super::limits::Limits;

/// How the length of a message body is determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// Exactly this many bytes follow the head; `Length(0)` is a message without a body.
    Length(u64),
    /// `Transfer-Encoding: chunked`: chunks, a last chunk and an optional trailer section.
    Chunked,
    /// The body runs until the connection closes (responses only).
    CloseDelimited,
}

/// One step of a body: some bytes, or its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEvent {
    /// The next bytes of the body, split off the read buffer without copying. Never empty.
    Data(Bytes),
    /// The body is complete.
    End {
        /// The trailer section of a chunked body, if it had any fields. Trailers are never merged
        /// into the head: it is the caller's choice what to trust in them.
        trailers: Option<HeaderMap>,
    },
}

/// The trailer parser gets a stack array for this many fields; above it, a heap array.
const STACK_FIELDS: usize = 128;

/// A chunk size is a u64: sixteen hex digits at most.
const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// Decodes one message body from a read buffer, yielding whatever bytes are available so that a
/// large upload never has to be held in memory at once.
#[derive(Debug)]
pub struct BodyDecoder {
    /// Where in the framing the next byte belongs.
    state: State,
    /// Body bytes announced so far, checked against `max_body_size` for bodies whose length is
    /// not known up front.
    received: u64,
    /// Chunk-extension bytes this body may still carry before `ChunkExtensionsTooLarge`.
    extensions_budget: usize,
    /// Bytes at the front of the buffer already searched for a line end, so that a chunk-size
    /// line or trailer section trickling in is not searched again from its start on every read.
    scanned: usize,
    /// How much of the current chunk-size line's extension has been checked while it
    /// arrives, so that a trickled extension is checked once, not again on every read.
    extension: ExtensionScan,
    /// The limits the body is held to.
    limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length {
        remaining: u64,
    },
    ChunkSize,
    ChunkData {
        remaining: u64,
    },
    ChunkDataEnd,
    Trailers,
    CloseDelimited,
    Done,
    /// An error was returned: it is returned again on every call, as the head decoders do,
    /// so that a caller that tries again never reads past broken framing.
    Failed(BodyError),
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, held to `limits` (`max_body_size`,
    /// `max_chunk_extensions_size`, `max_trailer_size`, `max_headers` for trailer fields).
    ///
    /// A `Length` above `max_body_size` is not rejected here: the head decoders do that before
    /// building a body decoder, with an error that names the head.
    pub fn new(framing: BodyFraming, limits: &Limits) -> Self {
        let state = match framing {
            BodyFraming::Length(remaining) => State::Length { remaining },
            BodyFraming::Chunked => State::ChunkSize,
            BodyFraming::CloseDelimited => State::CloseDelimited,
        };
        BodyDecoder {
            state,
            received: 0,
            extensions_budget: limits.max_chunk_extensions_size,
            scanned: 0,
            extension: ExtensionScan::default(),
            limits: *limits,
        }
    }

    /// Whether the end of the body has been returned.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Ends a body known to be empty (`Length(0)`, most requests) without a
    /// [`decode`](Self::decode) step: true when it was one, and it is now done.
    #[inline]
    pub(crate) fn end_if_empty(&mut self) -> bool {
        let empty = matches!(self.state, State::Length { remaining: 0 });
        if empty {
            self.state = State::Done;
        }
        empty
    }

    /// Takes the next body event off the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed (the caller appends to `buf` and calls again).
    /// After [`BodyEvent::End`] every call returns `Ok(None)` and leaves `buf` alone: what
    /// remains belongs to the next message. Between calls the caller may only append to `buf`.
    /// An error is final: every later call returns it again.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<BodyEvent>, BodyError> {
        let result = self.step(buf);
        if let Err(error) = result {
            self.state = State::Failed(error);
        }
        result
    }

    /// One [`decode`](Self::decode) step, before its error is made final.
    fn step(&mut self, buf: &mut BytesMut) -> Result<Option<BodyEvent>, BodyError> {
        loop {
            match self.state {
                State::Length { remaining: 0 } => {
                    self.state = State::Done;
                    return Ok(Some(BodyEvent::End { trailers: None }));
                }
                State::Length { remaining } => {
                    let Some(data) = take_up_to(buf, remaining) else {
                        return Ok(None);
                    };
                    self.state = State::Length {
                        remaining: remaining - data.len() as u64,
                    };
                    return Ok(Some(BodyEvent::Data(data)));
                }
                State::ChunkSize => {
                    let Some(size) = self.decode_chunk_size(buf)? else {
                        return Ok(None);
                    };
                    if size == 0 {
                        self.state = State::Trailers;
                        continue;
                    }
                    self.received = self
                        .received
                        .checked_add(size)
                        .filter(|total| *total <= self.limits.max_body_size)
                        .ok_or(BodyError::TooLarge)?;
                    self.state = State::ChunkData { remaining: size };
                }
                State::ChunkData { remaining } => {
                    let Some(data) = take_up_to(buf, remaining) else {
                        return Ok(None);
                    };
                    let remaining = remaining - data.len() as u64;
                    self.state = if remaining == 0 {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData { remaining }
                    };
                    return Ok(Some(BodyEvent::Data(data)));
                }
                State::ChunkDataEnd => {
                    match buf.get(..2) {
                        Some(b"\r\n") => buf.advance(2),
                        Some(_) => return Err(BodyError::MissingChunkTerminator),
                        None if buf.first().is_some_and(|byte| *byte != b'\r') => {
                            return Err(BodyError::MissingChunkTerminator);
                        }
                        None => return Ok(None),
                    }
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    let Some(trailers) = self.decode_trailers(buf)? else {
                        return Ok(None);
                    };
                    self.state = State::Done;
                    return Ok(Some(BodyEvent::End { trailers }));
                }
                State::CloseDelimited => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    // The body up to the limit is delivered, the byte past it is the error:
                    // where the limit falls does not depend on how the bytes were read.
                    let room = self.limits.max_body_size.saturating_sub(self.received);
                    if room == 0 {
                        return Err(BodyError::TooLarge);
                    }
                    let Some(data) = take_up_to(buf, room) else {
                        return Ok(None);
                    };
                    self.received += data.len() as u64;
                    return Ok(Some(BodyEvent::Data(data)));
                }
                State::Done => return Ok(None),
                State::Failed(error) => return Err(error),
            }
        }
    }

    /// Takes the next body event once the peer has closed its side: nothing more will be
    /// appended to `buf`.
    ///
    /// Drains what `buf` still holds first; then a close-delimited body ends, and a body whose
    /// length or chunking says more was due fails with [`BodyError::Incomplete`].
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<BodyEvent>, BodyError> {
        if let Some(event) = self.decode(buf)? {
            return Ok(Some(event));
        }
        match self.state {
            State::Done => Ok(None),
            State::CloseDelimited => {
                self.state = State::Done;
                Ok(Some(BodyEvent::End { trailers: None }))
            }
            _ => {
                self.state = State::Failed(BodyError::Incomplete);
                Err(BodyError::Incomplete)
            }
        }
    }

    /// Parses `chunk-size [ chunk-ext ] CRLF` off the front of `buf`.
    fn decode_chunk_size(&mut self, buf: &mut BytesMut) -> Result<Option<u64>, BodyError> {
        let digits = buf
            .iter()
            .take_while(|byte| byte.is_ascii_hexdigit())
            .count();
        // These checks only look at a prefix, so they fail the same however the line is split.
        if digits > MAX_CHUNK_SIZE_DIGITS {
            return Err(BodyError::ChunkSizeOverflow);
        }
        if digits == 0 && !buf.is_empty() {
            return Err(BodyError::InvalidChunkSize);
        }
        let Some(line_end) = self.find_line_end(buf) else {
            // Everything after the digits but a final CR (which may begin the CRLF) is
            // extension so far: judged now, by the same left-to-right rules as a whole line,
            // so that the error does not depend on how the line was split into reads.
            let so_far = &buf[digits..];
            let so_far = so_far.strip_suffix(b"\r").unwrap_or(so_far);
            self.extension.check(so_far, self.extensions_budget)?;
            return Ok(None);
        };
        let line = &buf[..line_end];
        // A bare CR inside the extension is judged before the missing CR at the end, so that
        // the error is the same whether the LF came with the rest or later.
        let (content, crlf) = match line.strip_suffix(b"\r") {
            Some(content) => (content, true),
            None => (line, false),
        };
        let extension = &content[digits..];
        self.extension.check(extension, self.extensions_budget)?;
        if !crlf {
            return Err(BodyError::InvalidChunkSize);
        }
        self.extension = ExtensionScan::default();
        // Checked against the budget just above.
        self.extensions_budget -= extension.len();
        let size = line[..digits].iter().fold(0u64, |size, byte| {
            // At most 16 hex digits were counted, so this cannot overflow.
            (size << 4) | u64::from(hex_value(*byte))
        });
        buf.advance(line_end + 1);
        Ok(Some(size))
    }

    /// Parses the trailer section (possibly empty) that follows the last chunk.
    fn decode_trailers(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<Option<HeaderMap>>, BodyError> {
        // Nearly every chunked body ends with an empty trailer section.
        if buf.starts_with(b"\r\n") {
            buf.advance(2);
            return Ok(Some(None));
        }
        if buf.as_ref() == b"\r" {
            return Ok(None);
        }
        // What is parsed does not depend on how the bytes were split into reads: below the
        // limit the complete lines only (an error in the partial line after the last LF is
        // judged when its LF arrives), past it exactly the first `max_trailer_size` bytes.
        let over_limit = buf.len() > self.limits.max_trailer_size;
        if self.find_line_end(buf).is_none() && !over_limit {
            return Ok(None);
        }
        let parsed = if over_limit {
            &buf[..self.limits.max_trailer_size]
        } else {
            let last_line_end = memchr::memrchr(b'\n', buf).unwrap_or_default();
            &buf[..=last_line_end]
        };
        // The scan above consumed the record of what was searched; a partial parse restores it.
        let searched = buf.len();
        let max_fields = self.limits.max_headers;
        let mut stack = [httparse::EMPTY_HEADER; STACK_FIELDS];
        let mut heap = Vec::new();
        let fields: &mut [httparse::Header<'_>] = if max_fields <= STACK_FIELDS {
            &mut stack[..max_fields]
        } else {
            heap.resize(max_fields, httparse::EMPTY_HEADER);
            &mut heap
        };
        match httparse::parse_headers(parsed, fields) {
            Ok(httparse::Status::Partial) if over_limit => Err(BodyError::TrailersTooLarge),
            Ok(httparse::Status::Partial) => {
                self.scanned = searched;
                Ok(None)
            }
            Ok(httparse::Status::Complete((length, fields))) => {
                if length > self.limits.max_trailer_size {
                    return Err(BodyError::TrailersTooLarge);
                }
                let trailers = if fields.is_empty() {
                    None
                } else {
                    let mut map = HeaderMap::with_capacity(fields.len());
                    for field in fields.iter() {
                        // Trailers are rare, so copying them is cheaper than tracking offsets.
                        let name = HeaderName::from_bytes(field.name.as_bytes())
                            .map_err(|_| BodyError::InvalidTrailer)?;
                        let value = HeaderValue::from_bytes(field.value)
                            .map_err(|_| BodyError::InvalidTrailer)?;
                        map.append(name, value);
                    }
                    Some(map)
                };
                buf.advance(length);
                Ok(Some(trailers))
            }
            Err(httparse::Error::TooManyHeaders) => Err(BodyError::TrailersTooLarge),
            Err(_) => Err(BodyError::InvalidTrailer),
        }
    }

    /// The index of the first LF in `buf` not searched before; resets the record when found.
    fn find_line_end(&mut self, buf: &[u8]) -> Option<usize> {
        let from = self.scanned.min(buf.len());
        match memchr::memchr(b'\n', &buf[from..]) {
            Some(index) => {
                self.scanned = 0;
                Some(from + index)
            }
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }
}

/// The checks on the bytes after a chunk size (`[ BWS ] *( ";" chunk-ext )`, without the
/// CRLF), made left to right as they arrive: the first broken rule, by position, is the error,
/// so it does not depend on how the line was split into reads. White space may only lead to a
/// `;` (trailing white space alone is tolerated, as some clients send it), no control
/// character but HTAB may appear, and one body's extensions may not add up to more than its
/// budget.
#[derive(Debug, Default, Clone, Copy)]
struct ExtensionScan {
    /// Bytes of the extension checked so far.
    checked: usize,
    /// A `;` has been seen: what follows is extension text, not white space.
    started: bool,
}

impl ExtensionScan {
    /// Checks the bytes of `extension` (all of it so far) not checked yet.
    fn check(&mut self, extension: &[u8], budget: usize) -> Result<(), BodyError> {
        for (index, &byte) in extension.iter().enumerate().skip(self.checked) {
            match byte {
                b';' => self.started = true,
                b' ' | b'\t' => {}
                _ if !self.started => return Err(BodyError::InvalidChunkSize),
                _ => {}
            }
            if byte != b'\t' && (byte < 0x20 || byte == 0x7f) {
                return Err(BodyError::InvalidChunkExtension);
            }
            if index >= budget {
                return Err(BodyError::ChunkExtensionsTooLarge);
            }
        }
        self.checked = self.checked.max(extension.len());
        Ok(())
    }
}

/// Splits off up to `limit` bytes, or `None` if `buf` is empty.
fn take_up_to(buf: &mut BytesMut, limit: u64) -> Option<Bytes> {
    if buf.is_empty() {
        return None;
    }
    let take = usize::try_from(limit).map_or(buf.len(), |limit| limit.min(buf.len()));
    Some(buf.split_to(take).freeze())
}

fn hex_value(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => byte - b'A' + 10,
    }
}
