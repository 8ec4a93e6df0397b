//! The request body on an HTTP/2 stream, within the server's flow-control windows: each piece
//! waits for capacity the server granted, so a slow reader is never sent more than it asked
//! for and the body is never copied whole into `h2`'s send buffer.

use std::future::poll_fn;
use std::io;

use bytes::Bytes;
use futures::StreamExt;
use h2::SendStream;

use crate::client::request::RequestBody;

/// Why the body did not go out whole.
#[derive(Debug)]
pub(crate) enum UploadError {
    /// The caller's body producer failed.
    Producer(io::Error),
    /// The stream failed (reset, connection gone, or `h2` refused the frame).
    Stream(h2::Error),
    /// The stream stopped accepting data (the server reset it, perhaps after answering):
    /// the response, or its error, says why.
    Closed,
}

/// Sends `body` on `stream` and ends the stream.
pub(crate) async fn send_body(
    stream: &mut SendStream<Bytes>,
    body: &RequestBody,
) -> Result<(), UploadError> {
    match body {
        RequestBody::Empty => end(stream),
        RequestBody::Bytes(bytes) => send_data(stream, bytes.clone(), true).await,
        RequestBody::Producer(producer) => {
            let mut pieces = producer();
            while let Some(piece) = pieces.next().await {
                send_data(stream, piece.map_err(UploadError::Producer)?, false).await?;
            }
            end(stream)
        }
    }
}

/// Ends the stream with an empty DATA frame.
fn end(stream: &mut SendStream<Bytes>) -> Result<(), UploadError> {
    stream
        .send_data(Bytes::new(), true)
        .map_err(UploadError::Stream)
}

/// Sends `data` in pieces as the windows allow; with `last`, the final piece ends the stream.
async fn send_data(
    stream: &mut SendStream<Bytes>,
    mut data: Bytes,
    last: bool,
) -> Result<(), UploadError> {
    if data.is_empty() {
        return if last { end(stream) } else { Ok(()) };
    }
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let mut granted = stream.capacity();
        while granted == 0 {
            granted = match poll_fn(|cx| stream.poll_capacity(cx)).await {
                Some(Ok(granted)) => granted,
                Some(Err(error)) => return Err(UploadError::Stream(error)),
                None => return Err(UploadError::Closed),
            };
        }
        let piece = data.split_to(granted.min(data.len()));
        stream
            .send_data(piece, last && data.is_empty())
            .map_err(UploadError::Stream)?;
    }
    Ok(())
}
