//! One request and its response on one connection: the head and body out, interim 1xx heads
//! skipped (a 100 releases an `expect_100_continue` body), the final head and body in, and
//! whether the connection may go back to the pool.

use std::time::Instant;

use bytes::BytesMut;
use futures::StreamExt;
use http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST, IF_MODIFIED_SINCE,
    TRANSFER_ENCODING, USER_AGENT,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

use super::connection::Connection;
use super::decompress::ACCEPT_ENCODING as ACCEPTED_CODINGS;
use super::encode::{basic_credentials, encode_chunk, encode_last_chunk, encode_request_head};
use super::error::HttpClientError;
use super::proxy::add_proxy_authorization;
use super::receive::{Outcome, Receiving};
use super::request::{DEFAULT_USER_AGENT, HttpRequest, RequestBody};
use crate::h1::{Event, Limits, ResponseDecoder};
use crate::httputil::format_timestamp;

/// A body known up front is copied behind the head (one write) when at most this large.
const COALESCE_BODY_SIZE: usize = 16 * 1024;

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
    // Whether the final head allows another request on the connection.
    let mut keep_alive = false;
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
            Some(Event::Head(final_head)) => {
                receiving = Some(Receiving::start(
                    request,
                    final_head.version,
                    final_head.status,
                    final_head.headers,
                    final_head.content_length,
                    hop_started.elapsed(),
                ));
                keep_alive = final_head.keep_alive;
            }
            Some(Event::Data(data)) => {
                if let Some(current) = &mut receiving {
                    current.data(data)?;
                }
            }
            Some(Event::End { trailers }) => {
                let Some(current) = receiving.take() else {
                    // The end of an interim response: the final head is still to come.
                    continue;
                };
                let reusable = keep_alive
                    && body_sent
                    && !decoder.is_closed()
                    && connection.read.is_empty()
                    && !current.is_switching_protocols();
                return current.finish(trailers, reusable);
            }
        }
    }
}
