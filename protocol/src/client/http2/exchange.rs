//! One request and its response on a stream of a shared HTTP/2 connection: the head and body
//! out (the body held until a `100 Continue` when asked), the final head and body in, each
//! body piece's window handed back to the server as soon as the piece is consumed.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Instant;

use h2::client::ResponseFuture;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode, Version};
use url::Url;

use super::connection::StreamLease;
use super::headers::to_request;
use super::upload::{UploadError, send_body};
use crate::client::error::HttpClientError;
use crate::client::exchange::RequestHead;
use crate::client::receive::{Outcome, Receiving};
use crate::client::request::{HttpRequest, RequestBody};
use crate::h1::ParseError;

/// Sends `request` on a new stream of `lease`'s connection and reads its final response.
pub(crate) async fn exchange(
    lease: &mut StreamLease,
    request: &HttpRequest,
    url: &Url,
    head: &RequestHead,
    hop_started: Instant,
) -> Result<Outcome, HttpClientError> {
    let h2_request = to_request(&request.method, url, head)?;
    // Waits while the connection has the server's `max_concurrent_streams` open.
    let mut send = lease
        .send
        .clone()
        .ready()
        .await
        .map_err(HttpClientError::from_h2)?;
    let has_body = !matches!(request.body, RequestBody::Empty);
    let (mut response, mut upload) = send
        .send_request(h2_request, !has_body)
        .map_err(HttpClientError::from_h2)?;
    if has_body && (!request.expect_100_continue || continued(&mut response).await?) {
        match send_body(&mut upload, &request.body).await {
            // A server that stops reading the body resets the stream, perhaps after
            // answering: the response (or its error) says which.
            Ok(()) | Err(UploadError::Closed) => {}
            Err(UploadError::Stream(error)) if error.is_reset() && error.is_remote() => {}
            Err(UploadError::Stream(error)) => return Err(HttpClientError::from_h2(error)),
            Err(UploadError::Producer(error)) => return Err(HttpClientError::BodyProducer(error)),
        }
    }
    let response = response.await.map_err(HttpClientError::from_h2)?;
    lease.answered = true;
    let (parts, mut download) = response.into_parts();
    check_head_size(&parts.headers, request.max_header_size)?;
    let content_length = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse().ok());
    let mut receiving = Receiving::start(
        request,
        Version::HTTP_2,
        parts.status,
        parts.headers,
        content_length,
        hop_started.elapsed(),
    );
    if receiving.follows() {
        // The body of a redirect being followed is not wanted: dropping the stream resets it
        // (CANCEL) instead of receiving it, and the connection stays up for the next hop.
        return receiving.finish(None, false);
    }
    while let Some(piece) = download.data().await {
        let piece = piece.map_err(HttpClientError::from_h2)?;
        let size = piece.len();
        receiving.data(piece)?;
        // Consumed (buffered, inflated or handed to the streaming callback): the server may
        // send as much again. Releasing never fails for bytes just received.
        let _ = download.flow_control().release_capacity(size);
    }
    let trailers = download
        .trailers()
        .await
        .map_err(HttpClientError::from_h2)?;
    receiving.finish(trailers, false)
}

/// Waits for the server's `100 Continue` to an `expect_100_continue` request: true when it
/// came, false when the final response came first (the body is then never sent).
async fn continued(response: &mut ResponseFuture) -> Result<bool, HttpClientError> {
    poll_fn(|cx| {
        loop {
            return match response.poll_informational(cx) {
                Poll::Ready(Some(Ok(interim))) if interim.status() == StatusCode::CONTINUE => {
                    Poll::Ready(Ok(true))
                }
                // Another 1xx (103 Early Hints): keep waiting.
                Poll::Ready(Some(Ok(_))) => continue,
                Poll::Ready(Some(Err(error))) => Poll::Ready(Err(HttpClientError::from_h2(error))),
                Poll::Ready(None) => Poll::Ready(Ok(false)),
                Poll::Pending => Poll::Pending,
            };
        }
    })
    .await
}

/// Holds a decoded head to `max_header_size`, counted as HTTP/2 counts a header list
/// (RFC 9113 §6.5.2: each field's name and value plus 32).
fn check_head_size(headers: &HeaderMap, max_header_size: usize) -> Result<(), HttpClientError> {
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum();
    if size > max_header_size {
        return Err(HttpClientError::InvalidResponse(ParseError::HeadTooLarge));
    }
    Ok(())
}
