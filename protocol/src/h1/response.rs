//! The client side of the codec: response heads and the decoder that turns a read buffer into
//! response events, sharing body framing with the server side.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::{HeaderMap, Method, StatusCode, Version};

use super::Event;
use super::body::{BodyDecoder, BodyEvent, BodyFraming};
use super::error::{BodyError, ParseError};
use super::fields::{FieldFacts, TransferFraming};
use super::head::{
    FieldIndex, STACK_HEADERS, build_header_map, is_http_version_syntax, leading_empty_lines,
};
use super::limits::Limits;

/// One step of a response: its head, then body bytes, then its end.
pub type ResponseEvent = Event<ResponseHead>;

/// A parsed status line and header fields, with the facts a client needs derived once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseHead {
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The status code; a 1xx other than 101 is interim and another head follows.
    pub status: StatusCode,
    /// The header fields in arrival order, values sharing the read buffer's allocation.
    pub headers: HeaderMap,
    /// Whether the connection may carry another request: never after a close-delimited body.
    pub keep_alive: bool,
    /// How the body is delimited (RFC 9112 §6.3): `Length(0)` for HEAD, 1xx, 204, 304 and
    /// a successful CONNECT, whatever the fields say.
    pub framing: BodyFraming,
    /// The `Content-Length`, when one was given.
    pub content_length: Option<u64>,
}

/// Turns the bytes a server sends into [`ResponseEvent`]s, for the request method the
/// response answers (a response to HEAD has no body even with a `Content-Length`).
///
/// After a 101 Switching Protocols or a successful CONNECT, and after a response that closes
/// the connection, it decodes nothing more: the bytes left in the buffer belong to the new
/// protocol (or to nobody).
#[derive(Debug)]
pub struct ResponseDecoder {
    /// Where in the current response the decoder is.
    state: State,
    /// The limits every response on this connection is held to.
    limits: Limits,
    /// Bytes already searched for a line end without completing a head.
    scanned: usize,
    /// Where the fields of the head being parsed sit in it; kept to reuse its allocation.
    fields: Vec<FieldIndex>,
}

#[derive(Debug)]
enum State {
    Head,
    Body { body: BodyDecoder, then: After },
    Closed,
    Failed(ParseError),
}

/// What the decoder does once a body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    NextHead,
    Stop,
}

impl Default for ResponseDecoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl ResponseDecoder {
    /// A decoder for one client connection, holding every response to `limits`
    /// (`max_request_line_size` is not used).
    pub fn new(limits: Limits) -> Self {
        ResponseDecoder {
            state: State::Head,
            limits,
            scanned: 0,
            fields: Vec::new(),
        }
    }

    /// Whether no further response will be decoded.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed(_))
    }

    /// Takes the next event off the front of `buf`; `method` is that of the request being
    /// answered. `Ok(None)` means more bytes are needed. An error is final.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        method: &Method,
    ) -> Result<Option<ResponseEvent>, ParseError> {
        self.step(buf, method, false)
    }

    /// Like [`decode`](ResponseDecoder::decode), once the server has closed its side: ends a
    /// close-delimited body, and fails with [`BodyError::Incomplete`] inside any other message.
    pub fn decode_eof(
        &mut self,
        buf: &mut BytesMut,
        method: &Method,
    ) -> Result<Option<ResponseEvent>, ParseError> {
        self.step(buf, method, true)
    }

    fn step(
        &mut self,
        buf: &mut BytesMut,
        method: &Method,
        eof: bool,
    ) -> Result<Option<ResponseEvent>, ParseError> {
        let result = match &mut self.state {
            State::Failed(error) => return Err(error.clone()),
            State::Closed => return Ok(None),
            State::Head => match self.decode_head(buf, method) {
                Ok(None) if eof && !buf.is_empty() => Err(BodyError::Incomplete.into()),
                other => other,
            },
            State::Body { body, then } => {
                let then = *then;
                let event = if eof {
                    body.decode_eof(buf)
                } else {
                    body.decode(buf)
                };
                match event {
                    Ok(Some(BodyEvent::End { trailers })) => {
                        self.state = match then {
                            After::NextHead => State::Head,
                            After::Stop => State::Closed,
                        };
                        Ok(Some(Event::End { trailers }))
                    }
                    Ok(Some(BodyEvent::Data(data))) => Ok(Some(Event::Data(data))),
                    Ok(None) => Ok(None),
                    Err(error) => Err(error.into()),
                }
            }
        };
        if let Err(error) = &result {
            self.state = State::Failed(error.clone());
        }
        result
    }

    fn decode_head(
        &mut self,
        buf: &mut BytesMut,
        method: &Method,
    ) -> Result<Option<ResponseEvent>, ParseError> {
        let line_start = leading_empty_lines(buf);
        let search_from = self.scanned.max(line_start).min(buf.len());
        // What is parsed does not depend on how the bytes were split into reads (see the
        // request decoder): below the limit the complete lines only, past it exactly the
        // first `max_head_size` bytes.
        let over_limit = buf.len() > self.limits.max_head_size;
        let last_line_end = memchr::memrchr(b'\n', &buf[search_from..]);
        if last_line_end.is_none() && !over_limit {
            self.scanned = buf.len();
            return Ok(None);
        }
        let max_headers = self.limits.max_headers;
        let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        let mut heap = Vec::new();
        let storage = if max_headers <= STACK_HEADERS {
            &mut stack[..max_headers]
        } else {
            heap.resize_with(max_headers, MaybeUninit::uninit);
            &mut heap[..]
        };
        let bytes: &[u8] = match last_line_end {
            Some(end) if !over_limit => &buf[..=search_from + end],
            _ => &buf[..self.limits.max_head_size],
        };
        let mut response = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut response,
            bytes,
            storage,
        );
        let head_length = match parsed {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) if over_limit => return Err(ParseError::HeadTooLarge),
            Ok(httparse::Status::Partial) => {
                self.scanned = buf.len();
                return Ok(None);
            }
            Err(httparse::Error::Version) => {
                let line = &buf[line_start..];
                let version = line.split(|byte| *byte == b' ').next().unwrap_or_default();
                return Err(if is_http_version_syntax(version) {
                    ParseError::UnsupportedVersion
                } else {
                    ParseError::InvalidStatusLine
                });
            }
            Err(httparse::Error::Token | httparse::Error::Status) => {
                return Err(ParseError::InvalidStatusLine);
            }
            Err(error) => return Err(error.into()),
        };
        if head_length > self.limits.max_head_size {
            return Err(ParseError::HeadTooLarge);
        }
        let status = response
            .code
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or(ParseError::InvalidStatusLine)?;
        let version = match response.version {
            Some(0) => Version::HTTP_10,
            _ => Version::HTTP_11,
        };
        self.fields.clear();
        self.fields.extend(
            response
                .headers
                .iter()
                .map(|field| FieldIndex::new(bytes, field)),
        );

        self.scanned = 0;
        let head = buf.split_to(head_length).freeze();
        let mut facts = FieldFacts::default();
        let headers = build_header_map(&head, &self.fields, &mut facts)?;
        let head = derive_facts(method, status, version, headers, &facts, &self.limits)?;

        let switched = status == StatusCode::SWITCHING_PROTOCOLS
            || (method == Method::CONNECT && status.is_success());
        let then = if switched || (!head.keep_alive && !status.is_informational()) {
            After::Stop
        } else {
            After::NextHead
        };
        self.state = State::Body {
            body: BodyDecoder::new(head.framing, &self.limits),
            then,
        };
        Ok(Some(Event::Head(head)))
    }
}

/// Applies RFC 9112 §6.3's message-length rules to a parsed response head.
fn derive_facts(
    method: &Method,
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    facts: &FieldFacts,
    limits: &Limits,
) -> Result<ResponseHead, ParseError> {
    let bodiless = *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (*method == Method::CONNECT && status.is_success());
    let framing = if bodiless {
        BodyFraming::Length(0)
    } else {
        match (facts.transfer_encoding, facts.content_length) {
            (Some(_), Some(_)) => return Err(ParseError::ContentLengthWithTransferEncoding),
            (Some(_), None) if version == Version::HTTP_10 => {
                return Err(ParseError::TransferEncodingInHttp10);
            }
            (Some(codings), None) => match codings.framing() {
                TransferFraming::Chunked => BodyFraming::Chunked,
                TransferFraming::UnsupportedCoding => {
                    return Err(ParseError::UnsupportedTransferCoding);
                }
                TransferFraming::NotChunkedFinal => BodyFraming::CloseDelimited,
            },
            (None, Some(length)) if length > limits.max_body_size => {
                return Err(ParseError::ContentLengthTooLarge);
            }
            (None, Some(length)) => BodyFraming::Length(length),
            (None, None) => BodyFraming::CloseDelimited,
        }
    };
    let persistent = if version == Version::HTTP_11 {
        !facts.connection_close
    } else {
        facts.connection_keep_alive && !facts.connection_close
    };
    Ok(ResponseHead {
        version,
        status,
        headers,
        keep_alive: persistent && framing != BodyFraming::CloseDelimited,
        framing,
        content_length: facts.content_length,
    })
}
