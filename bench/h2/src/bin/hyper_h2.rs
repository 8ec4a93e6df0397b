//! hyper serving `GET /` -> `Hello, world` over h2c with prior knowledge (and HTTP/1.1, by the
//! connection preface: hyper-util's auto builder) on `$PORT`, or over TLS (ALPN h2) with
//! `$CERTFILE`/`$KEYFILE`; one current-thread runtime when `$WORKERS` is 1.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, world")));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    Ok(response)
}

fn main() {
    let workers = cyclone_h2_peers::workers();
    let runtime = if workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    };
    runtime.expect("a runtime").block_on(serve());
}

async fn serve() {
    let port = cyclone_h2_peers::port();
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let tls = cyclone_h2_peers::tls_config()
        .map(|config| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let tls = tls.clone();
        tokio::spawn(async move {
            let builder = Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service_fn(hello))
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service_fn(hello))
                        .await;
                }
            }
        });
    }
}
