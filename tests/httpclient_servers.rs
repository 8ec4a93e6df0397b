//! The client against real servers: cyclone's own HttpServer, and Python's
//! `python3 -m http.server` started in a temporary directory (skipped when python3 is absent,
//! except under CI, where that fails: see `support::deps`).

mod support;

use std::process::{Child, Command, Stdio};

use cyclone::httpclient::{AsyncHttpClient, HttpClientError, HttpRequest, Method};
use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use support::net::free_port;
use support::servers::listen_http;
use support::wait::{self, bounded};

/// Echoes method, path, query and body; `/missing` is a 404.
async fn handler(request: HttpServerRequest) -> HttpResponse {
    if request.path() == "/missing" {
        return HttpResponse::new(http::StatusCode::NOT_FOUND).text("no such thing");
    }
    let text = format!(
        "{} {}?{} {}",
        request.method(),
        request.path(),
        request.query(),
        String::from_utf8_lossy(request.body())
    );
    HttpResponse::ok().text(text)
}

#[actix_rt::test]
async fn against_cyclone_http_server() {
    let (mut server, addr) = listen_http(HttpServer::new(handler));
    let client = AsyncHttpClient::new();
    for round in 0..3 {
        let response = bounded(client.fetch(format!("http://{addr}/hello?round={round}")))
            .await
            .unwrap();
        assert_eq!(response.code, 200);
        assert_eq!(
            response.text().unwrap(),
            format!("GET /hello?round={round} ")
        );
    }
    let request = HttpRequest::new(format!("http://{addr}/form"))
        .method(Method::POST)
        .body("a=1");
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.text().unwrap(), "POST /form? a=1");
    let request = HttpRequest::new(format!("http://{addr}/chunked"))
        .method(Method::PUT)
        .body_producer(|| {
            futures::stream::iter(
                ["x", "y", "z"].map(|s| Ok(bytes::Bytes::from_static(s.as_bytes()))),
            )
        });
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.text().unwrap(), "PUT /chunked? xyz");
    let error = bounded(client.fetch(format!("http://{addr}/missing")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HttpClientError::Http { code: 404, .. }),
        "{error:?}"
    );
    assert_eq!(
        client.idle_connections(),
        1,
        "every request reused one connection"
    );
    server.stop().await;
}

/// `python3 -m http.server` on a free port in its own directory; killed on drop.
struct PythonServer {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn python_server() -> Option<PythonServer> {
    let python = support::deps::require_python()?;
    let dir = std::env::temp_dir().join(format!("cyclone-httpclient-py-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("hello.txt"), b"hello from python\n").unwrap();
    std::fs::write(dir.join("sub/index.html"), b"<p>index</p>").unwrap();
    let port = free_port();
    let child = Command::new(python)
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(PythonServer { child, port, dir })
}

#[actix_rt::test]
async fn against_python_http_server() {
    let Some(server) = python_server() else {
        return;
    };
    let base = format!("http://127.0.0.1:{}", server.port);
    let client = AsyncHttpClient::new();
    // Connections are refused until it listens.
    let response = wait::until_some("python's http.server listens", || async {
        match client.fetch(format!("{base}/hello.txt")).await {
            Err(HttpClientError::Connect(_)) => None,
            other => Some(other),
        }
    })
    .await
    .unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(&response.body[..], b"hello from python\n");
    assert_eq!(response.headers["content-length"], "18");

    // http.server redirects a directory without its slash (301) to the slash form.
    let response = bounded(client.fetch(format!("{base}/sub"))).await.unwrap();
    assert_eq!(response.effective_url, format!("{base}/sub/"));
    assert_eq!(&response.body[..], b"<p>index</p>");

    let head =
        bounded(client.fetch(HttpRequest::new(format!("{base}/hello.txt")).method(Method::HEAD)))
            .await
            .unwrap();
    assert!(head.body.is_empty());
    assert_eq!(head.headers["content-length"], "18");

    let error = bounded(client.fetch(format!("{base}/nope")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), 404);
}
