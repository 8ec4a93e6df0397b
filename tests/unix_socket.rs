//! HTTP on a Unix domain socket (Tornado's `bind_unix_socket` + `add_socket`): permissions, a
//! stale socket file replaced, another file refused, and an application answering over it.

use std::os::unix::fs::PermissionsExt;

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use cyclone::netutil::bind_unix_socket;
use cyclone::web::{Application, PathArgs, function, url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[cyclone::test]
async fn an_application_answers_on_a_unix_socket() {
    let dir = std::env::temp_dir().join(format!("cyclone-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.sock");

    // A socket file left by an earlier run is replaced.
    drop(bind_unix_socket(&path, 0o600, 128).unwrap());
    let listener = bind_unix_socket(&path, 0o600, 128).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let app = Application::new([url(
        "/",
        function(|request: HttpServerRequest, _: PathArgs| async move {
            HttpResponse::ok().text(format!("hello from {}", request.remote_ip()))
        }),
    )])
    .unwrap();
    let mut server = HttpServer::new(app);
    server.add_unix_socket(listener).unwrap();

    let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nhello from 0.0.0.0"), "{answer}");
    server.shutdown(std::time::Duration::from_secs(1)).await;

    // Never deletes a file that is not a socket.
    let plain = dir.join("plain.txt");
    std::fs::write(&plain, "keep me").unwrap();
    let refused = bind_unix_socket(&plain, 0o600, 128).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "keep me");
    std::fs::remove_dir_all(&dir).unwrap();
}
