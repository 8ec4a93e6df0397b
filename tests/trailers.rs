//! Trailer fields (RFC 9110 §6.5) both ways, over real sockets: an answer's trailers after its
//! chunked body on HTTP/1.1 (exact bytes, and cyclone's own client reading them), none for an
//! HTTP/1.0 client, a closing HEADERS frame on HTTP/2 (read by the `h2` crate's client); a
//! request's trailers reaching a buffered and a streaming handler over both protocols, kept
//! apart from the header fields; a field that may not be a trailer refused.

mod support;

use std::net::SocketAddr;

use bytes::Bytes;
use cyclone::httpclient::AsyncHttpClient;
use cyclone::httpserver::{HttpServer, ResponseWriter, WriterError};
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
use http::{HeaderMap, Request, StatusCode};
use support::raw_http::Client;
use support::servers::start_http;
use support::wait::bounded;
use tokio::net::TcpStream;

/// Writes a body in two pieces and a checksum trailer after it.
#[derive(Default)]
struct Checksum;

impl RequestHandler for Checksum {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("Trailer", "x-checksum")?;
        cx.write("hello ");
        cx.write("world");
        cx.add_trailer("x-checksum", "5eb63bbb")?;
        Ok(())
    }
}

/// Tries to send a framing field as a trailer.
#[derive(Default)]
struct Forbidden;

impl RequestHandler for Forbidden {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("written-before");
        cx.add_trailer("content-length", "4")
    }
}

/// What a handler saw of the request's trailers, one line: the body, the `x-sum` trailer,
/// and whether `x-sum` leaked into the header fields.
fn seen(cx: &RequestContext, body: &[u8]) -> String {
    let trailer = cx
        .request()
        .trailers()
        .and_then(|trailers| trailers.get("x-sum"))
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    format!(
        "body={} trailer={:?} in-headers={}",
        String::from_utf8_lossy(body),
        trailer,
        cx.request().headers().contains_key("x-sum"),
    )
}

/// A buffered handler reporting the trailers of its request.
#[derive(Default)]
struct Buffered;

impl RequestHandler for Buffered {
    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let line = seen(cx, &cx.request().body().clone());
        cx.write(line);
        Ok(())
    }
}

/// A streaming handler (`data_received`) reporting the trailers of its request.
#[derive(Default)]
struct Streamed {
    /// The pieces received.
    body: Vec<u8>,
}

impl RequestHandler for Streamed {
    const STREAM_REQUEST_BODY: bool = true;

    async fn data_received(
        &mut self,
        _cx: &mut RequestContext,
        chunk: Bytes,
    ) -> Result<(), HttpError> {
        self.body.extend_from_slice(&chunk);
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let line = seen(cx, &self.body);
        cx.write(line);
        Ok(())
    }
}

/// An application with the handlers above, served over HTTP/1.1 and h2c on one worker (until
/// the server returned is dropped).
fn serve() -> (HttpServer<Application>, SocketAddr) {
    let app = Application::new([
        url("/sum", handler::<Checksum>()),
        url("/forbidden", handler::<Forbidden>()),
        url("/buffered", handler::<Buffered>()),
        url("/streamed", handler::<Streamed>()),
    ])
    .unwrap();
    let mut server = HttpServer::new(app).http2(true);
    let addr = start_http(&mut server, 1);
    (server, addr)
}

#[actix_rt::test]
async fn http11_answer_trailers_follow_the_last_chunk() {
    let (_server, addr) = serve();
    let mut client = Client::connect(addr).await;
    client.send(b"GET /sum HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let head = client.head_answer().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.header("trailer"), Some("x-checksum"));
    assert_eq!(head.header("content-length"), None);
    let expected = b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-checksum: 5eb63bbb\r\n\r\n";
    client.expect_bytes(expected).await;

    // And a client reads them as trailers.
    let response = bounded(AsyncHttpClient::new().fetch(format!("http://{addr}/sum")))
        .await
        .unwrap();
    assert_eq!(response.body.as_ref(), b"hello world");
    let trailers = response.trailers.expect("trailers");
    assert_eq!(trailers.get("x-checksum").unwrap(), "5eb63bbb");
    assert!(!response.headers.contains_key("x-checksum"));
}

#[actix_rt::test]
async fn an_http10_client_gets_the_body_without_trailers() {
    let (_server, addr) = serve();
    let mut client = Client::connect(addr).await;
    client.send(b"GET /sum HTTP/1.0\r\n\r\n").await;
    let answer = client.answer().await.expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("transfer-encoding"), None);
    // Close-delimited: the body is exactly the written bytes, with nowhere to put a trailer.
    assert_eq!(answer.body, b"hello world");
}

#[actix_rt::test]
async fn a_field_that_may_not_be_a_trailer_is_refused() {
    let (_server, addr) = serve();
    let (answer, _) = support::raw_http::one_shot(
        addr,
        b"GET /forbidden HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(answer.status, 500);
    assert!(!String::from_utf8_lossy(&answer.body).contains("written-before"));

    // The writer refuses before it sends anything.
    let (writer, _answer) = ResponseWriter::channel();
    let mut trailers = HeaderMap::new();
    trailers.insert("x-fine", "1".parse().unwrap());
    trailers.insert("transfer-encoding", "chunked".parse().unwrap());
    assert_eq!(
        writer.finish_with_trailers(trailers).await,
        Err(WriterError::ForbiddenTrailer(
            http::header::TRANSFER_ENCODING
        ))
    );
}

#[actix_rt::test]
async fn http11_request_trailers_reach_buffered_and_streaming_handlers() {
    let (_server, addr) = serve();
    for path in ["/buffered", "/streamed"] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\
             Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 42\r\n\r\n"
        );
        let (answer, _) = support::raw_http::one_shot(addr, request.as_bytes()).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(
            String::from_utf8_lossy(&answer.body),
            "body=abcde trailer=Some(\"42\") in-headers=false",
            "{path}"
        );
    }
    // Without a trailer section, none.
    let (answer, _) = support::raw_http::one_shot(
        addr,
        b"POST /buffered HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\nz\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&answer.body),
        "body=z trailer=None in-headers=false"
    );
}

/// An HTTP/2 connection (h2c, prior knowledge) to `addr` through the `h2` crate's client.
async fn h2_client(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = bounded(TcpStream::connect(addr)).await.unwrap();
    let (client, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
    actix_rt::spawn(async move {
        let _ = connection.await;
    });
    client
}

#[actix_rt::test]
async fn http2_answer_trailers_close_the_stream() {
    let (_server, addr) = serve();
    let client = h2_client(addr).await;
    let mut client = bounded(client.ready()).await.unwrap();
    let request = Request::get(format!("http://{addr}/sum")).body(()).unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let response = bounded(response).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut data = Vec::new();
    while let Some(piece) = bounded(body.data()).await {
        let piece = piece.unwrap();
        let _ = body.flow_control().release_capacity(piece.len());
        data.extend_from_slice(&piece);
    }
    assert_eq!(data, b"hello world");
    let trailers = bounded(body.trailers()).await.unwrap().expect("trailers");
    assert_eq!(trailers.get("x-checksum").unwrap(), "5eb63bbb");
}

#[actix_rt::test]
async fn http2_request_trailers_reach_buffered_and_streaming_handlers() {
    let (_server, addr) = serve();
    let client = h2_client(addr).await;
    for path in ["/buffered", "/streamed"] {
        let mut client = bounded(client.clone().ready()).await.unwrap();
        let request = Request::post(format!("http://{addr}{path}"))
            .body(())
            .unwrap();
        let (response, mut send) = client.send_request(request, false).unwrap();
        send.send_data(Bytes::from_static(b"abc"), false).unwrap();
        send.send_data(Bytes::from_static(b"de"), false).unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-sum", "42".parse().unwrap());
        send.send_trailers(trailers).unwrap();
        let response = bounded(response).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let mut body = response.into_body();
        let mut data = Vec::new();
        while let Some(piece) = bounded(body.data()).await {
            data.extend_from_slice(&piece.unwrap());
        }
        assert_eq!(
            String::from_utf8_lossy(&data),
            "body=abcde trailer=Some(\"42\") in-headers=false",
            "{path}"
        );
    }
}
