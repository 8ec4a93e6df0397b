//! One request and its response on one connection: the head and body out, interim 1xx heads
//! skipped (a 100 releases an `expect_100_continue` body), the final head and body in, and
//! whether the connection may go back to the pool.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST,
    IF_MODIFIED_SINCE, TRANSFER_ENCODING, USER_AGENT,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use url::Url;

use super::body::BodySink;
use super::connection::Connection;
use super::decompress::{ACCEPT_ENCODING as ACCEPTED_CODINGS, Coding, Decompressor};
use super::encode::{basic_credentials, encode_chunk, encode_last_chunk, encode_request_head};
use super::error::HttpClientError;
use super::proxy::add_proxy_authorization;
use super::redirect::location_to_follow;
use super::request::{DEFAULT_USER_AGENT, HttpRequest, RequestBody};
use crate::h1::{BodyError, Event, Limits, ParseError, ResponseDecoder, ResponseHead};
use crate::httputil::format_timestamp;

/// A body known up front is copied behind the head (one write) when at most this large.
const COALESCE_BODY_SIZE: usize = 16 * 1024;

/// What one exchange produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The final response head.
    pub(crate) head: ResponseHead,
    /// The gathered body; empty when streamed or when the response is a redirect to follow.
    pub(crate) body: Bytes,
    /// Trailer fields of a chunked body.
    pub(crate) trailers: Option<HeaderMap>,
    /// The `Location` to follow, when this response is a redirect that will be followed.
    pub(crate) follow: Option<HeaderValue>,
    /// Whether the connection may carry another request.
    pub(crate) reusable: bool,
    /// From the start of the hop to the final head.
    pub(crate) first_byte: Duration,
}

/// The request line target and the fields of one hop.
#[derive(Debug)]
pub(crate) struct RequestHead {
    /// Origin form, or absolute form through a plain proxy.
    pub(crate) target: String,
    /// The request's fields plus Host, User-Agent, credentials and framing.
    pub(crate) headers: HeaderMap,
}

/// Tornado's `_SUPPORTED_METHODS`: anything else needs `allow_nonstandard_methods`.
const STANDARD_METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::DELETE,
    Method::PATCH,
    Method::PUT,
    Method::OPTIONS,
];

/// Rejects what Tornado rejects before sending: unknown methods, and a body on a method that
/// takes none or none on one that needs one, unless `allow_nonstandard_methods`.
pub(crate) fn validate(request: &HttpRequest) -> Result<(), HttpClientError> {
    if request.allow_nonstandard_methods {
        return Ok(());
    }
    if !STANDARD_METHODS.contains(&request.method) {
        return Err(HttpClientError::InvalidRequest(format!(
            "unknown method {} (see allow_nonstandard_methods)",
            request.method
        )));
    }
    let expected = matches!(request.method, Method::POST | Method::PUT | Method::PATCH);
    let present = !matches!(request.body, RequestBody::Empty);
    if expected != present {
        let must = if expected { "must" } else { "must not" };
        return Err(HttpClientError::InvalidRequest(format!(
            "a {} request {must} have a body (see allow_nonstandard_methods)",
            request.method
        )));
    }
    Ok(())
}

/// Builds the target and fields for sending `request` to `url`; `plain_proxy` when it goes
/// in absolute form through an HTTP proxy.
pub(crate) fn request_head(
    request: &HttpRequest,
    url: &Url,
    plain_proxy: bool,
) -> Result<RequestHead, HttpClientError> {
    let invalid = |reason: &str| HttpClientError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_owned(),
    };
    let target = if plain_proxy {
        let mut absolute = url.clone();
        // Credentials travel in Authorization, never in the request line.
        let _ = absolute.set_username("");
        let _ = absolute.set_password(None);
        absolute[..url::Position::AfterQuery].to_owned()
    } else {
        url[url::Position::BeforePath..url::Position::AfterQuery].to_owned()
    };
    let mut headers = request.headers.clone();
    if !headers.contains_key(HOST) {
        let host = url.host_str().ok_or_else(|| invalid("no host"))?;
        let value = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        headers.insert(
            HOST,
            HeaderValue::from_str(&value).map_err(|_| invalid("bad host"))?,
        );
    }
    if !headers.contains_key(USER_AGENT) {
        let agent = request.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let value = HeaderValue::from_str(agent)
            .map_err(|_| HttpClientError::InvalidRequest("bad user_agent".to_owned()))?;
        headers.insert(USER_AGENT, value);
    }
    if request.decompress_response && !headers.contains_key(ACCEPT_ENCODING) {
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(ACCEPTED_CODINGS));
    }
    let url_credentials = (!url.username().is_empty()).then(|| {
        (
            url.username().to_owned(),
            url.password().unwrap_or_default().to_owned(),
        )
    });
    if let Some((username, password)) = request.auth.clone().or(url_credentials)
        && request.auth_mode == super::AuthMode::Basic
        && !headers.contains_key(AUTHORIZATION)
    {
        let value = basic_credentials(&username, &password)
            .ok_or_else(|| HttpClientError::InvalidRequest("bad credentials".to_owned()))?;
        headers.insert(AUTHORIZATION, value);
    }
    if let Some(time) = request.if_modified_since
        && let Ok(value) = HeaderValue::from_str(&format_timestamp(time))
    {
        headers.insert(IF_MODIFIED_SINCE, value);
    }
    match &request.body {
        RequestBody::Empty => {}
        RequestBody::Bytes(body) => {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len() as u64));
        }
        RequestBody::Producer(_) => {
            if !headers.contains_key(CONTENT_LENGTH) {
                headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
            }
        }
    }
    if request.method == Method::POST && !headers.contains_key(CONTENT_TYPE) {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    if request.expect_100_continue && !matches!(request.body, RequestBody::Empty) {
        headers.insert(EXPECT, HeaderValue::from_static("100-continue"));
    }
    if plain_proxy && let Some(proxy) = &request.proxy {
        add_proxy_authorization(proxy, &mut headers);
    }
    Ok(RequestHead { target, headers })
}

/// Sends the body (if any) after the head.
async fn send_body(
    connection: &mut Connection,
    request: &HttpRequest,
    chunked: bool,
) -> Result<(), HttpClientError> {
    match &request.body {
        RequestBody::Empty => Ok(()),
        RequestBody::Bytes(body) => Ok(connection.write_all(body).await?),
        RequestBody::Producer(producer) => {
            let mut stream = producer();
            let mut framed = BytesMut::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(HttpClientError::BodyProducer)?;
                if chunked {
                    framed.clear();
                    encode_chunk(&chunk, &mut framed);
                    connection.write_all(&framed).await?;
                } else if !chunk.is_empty() {
                    connection.write_all(&chunk).await?;
                }
            }
            if chunked {
                framed.clear();
                encode_last_chunk(&mut framed);
                connection.write_all(&framed).await?;
            }
            Ok(())
        }
    }
}

/// Tornado's `header_callback` lines for a final head.
fn call_header_callback(request: &HttpRequest, head: &ResponseHead) {
    let Some(callback) = &request.header_callback else {
        return;
    };
    let mut callback = callback.borrow_mut();
    let version = if head.version == http::Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let reason = head.status.canonical_reason().unwrap_or("Unknown");
    callback(&format!("{version} {} {reason}\r\n", head.status.as_u16()));
    for (name, value) in &head.headers {
        callback(&format!(
            "{}: {}\r\n",
            name,
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    callback("\r\n");
}

/// How the body of the final response is being received.
struct Receiving {
    /// The final head.
    head: ResponseHead,
    /// Where the (inflated) bytes go.
    sink: Rc<RefCell<BodySink>>,
    /// The inflater, when the body is gzip or deflate and `decompress_response` is on.
    decompressor: Option<Decompressor>,
    /// The redirect to follow, whose body is discarded.
    follow: Option<HeaderValue>,
    /// When the head arrived.
    first_byte: Duration,
}

/// Maps a failed hand-over to the sink or inflater to one error.
fn body_error(sink: &Rc<RefCell<BodySink>>, error: std::io::Error) -> HttpClientError {
    if sink.borrow().too_large {
        HttpClientError::InvalidResponse(ParseError::Body(BodyError::TooLarge))
    } else {
        HttpClientError::Decompress(error)
    }
}

/// Sends `request` on `connection` and reads its final response.
pub(crate) async fn exchange(
    connection: &mut Connection,
    request: &HttpRequest,
    head: &RequestHead,
    hop_started: Instant,
) -> Result<Outcome, HttpClientError> {
    let has_body = !matches!(request.body, RequestBody::Empty);
    let chunked = head.headers.contains_key(TRANSFER_ENCODING);
    let mut out = BytesMut::new();
    encode_request_head(&request.method, &head.target, &head.headers, &mut out);
    let mut body_sent = !has_body;
    let mut wait_for_continue = has_body && request.expect_100_continue;
    if !wait_for_continue
        && let RequestBody::Bytes(body) = &request.body
        && body.len() <= COALESCE_BODY_SIZE
    {
        out.extend_from_slice(body);
        body_sent = true;
    }
    connection.write_all(&out).await?;
    if !wait_for_continue && !body_sent {
        send_body(connection, request, chunked).await?;
        body_sent = true;
    }

    let limits = Limits {
        max_head_size: request.max_header_size,
        max_body_size: request.max_body_size,
        ..Limits::default()
    };
    let mut decoder = ResponseDecoder::new(limits);
    let method = &request.method;
    let mut receiving: Option<Receiving> = None;
    let mut eof = false;
    loop {
        let event = if eof {
            decoder.decode_eof(&mut connection.read, method)?
        } else {
            decoder.decode(&mut connection.read, method)?
        };
        match event {
            None if eof => return Err(HttpClientError::ConnectionClosed),
            None => eof = connection.read_more().await? == 0,
            Some(Event::Head(interim))
                if interim.status.is_informational()
                    && interim.status != StatusCode::SWITCHING_PROTOCOLS =>
            {
                if interim.status == StatusCode::CONTINUE && wait_for_continue {
                    wait_for_continue = false;
                    send_body(connection, request, chunked).await?;
                    body_sent = true;
                }
            }
            Some(Event::Head(mut final_head)) => {
                let first_byte = hop_started.elapsed();
                let follow = if request.max_redirects > 0 {
                    location_to_follow(request, final_head.status, &final_head.headers).cloned()
                } else {
                    None
                };
                let sink = Rc::new(RefCell::new(match (&follow, &request.streaming_callback) {
                    (Some(_), _) => BodySink::discard(request.max_body_size),
                    (None, Some(callback)) => {
                        BodySink::stream(Rc::clone(callback), request.max_body_size)
                    }
                    (None, None) => {
                        BodySink::buffer(request.max_body_size, final_head.content_length)
                    }
                }));
                let coding = final_head
                    .headers
                    .get(CONTENT_ENCODING)
                    .and_then(Coding::from_header);
                let decompressor = match coding {
                    Some(coding) if request.decompress_response && follow.is_none() => {
                        if let Some(value) = final_head.headers.remove(CONTENT_ENCODING) {
                            final_head.headers.insert(
                                HeaderName::from_static("x-consumed-content-encoding"),
                                value,
                            );
                        }
                        Some(Decompressor::new(coding, Rc::clone(&sink)))
                    }
                    _ => None,
                };
                if follow.is_none() {
                    call_header_callback(request, &final_head);
                }
                receiving = Some(Receiving {
                    head: final_head,
                    sink,
                    decompressor,
                    follow,
                    first_byte,
                });
            }
            Some(Event::Data(data)) => {
                let Some(current) = &mut receiving else {
                    continue;
                };
                match &mut current.decompressor {
                    Some(decompressor) => decompressor
                        .write(&data)
                        .map_err(|error| body_error(&current.sink, error))?,
                    None => current.sink.borrow_mut().deliver(data).map_err(|_| {
                        HttpClientError::InvalidResponse(ParseError::Body(BodyError::TooLarge))
                    })?,
                }
            }
            Some(Event::End { trailers }) => {
                let Some(mut current) = receiving.take() else {
                    // The end of an interim response: the final head is still to come.
                    continue;
                };
                if let Some(decompressor) = &mut current.decompressor {
                    decompressor
                        .finish()
                        .map_err(|error| body_error(&current.sink, error))?;
                }
                let reusable = current.head.keep_alive
                    && body_sent
                    && !decoder.is_closed()
                    && connection.read.is_empty()
                    && current.head.status != StatusCode::SWITCHING_PROTOCOLS;
                let body = current.sink.borrow_mut().take_body();
                return Ok(Outcome {
                    head: current.head,
                    body,
                    trailers,
                    follow: current.follow,
                    reusable,
                    first_byte: current.first_byte,
                });
            }
        }
    }
}
