//! Our servers on 127.0.0.1, port 0: serving on the test's own loop (`listen_*`), or started on
//! worker threads (`start_*`). Each returns the address it took.

use std::net::SocketAddr;

use cyclone::httpserver::{HttpServer, HttpService};
use cyclone::iostream::IoStream;
use cyclone::tcpserver::{ConnectionInfo, ServeConnection, TcpServer};
use cyclone::tls::{TlsFactory, TlsServerConfig, TlsStream};
use tokio::net::TcpStream;

/// Serves `server` on the test's loop; returns it and its address.
pub fn listen_http<S: HttpService>(mut server: HttpServer<S>) -> (HttpServer<S>, SocketAddr) {
    server.listen_on(0, Some("127.0.0.1")).unwrap();
    let addr = server.local_addrs()[0];
    (server, addr)
}

/// Starts `server` on `workers` threads of its own.
pub fn start_http<S: HttpService>(server: &mut HttpServer<S>, workers: usize) -> SocketAddr {
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(workers).unwrap();
    server.local_addrs()[0]
}

/// Serves `server` on the test's loop.
pub fn listen_tcp<F: ServeConnection>(server: &mut TcpServer<F>) -> SocketAddr {
    server.listen(0, Some("127.0.0.1")).unwrap();
    server.local_addrs()[0]
}

/// Starts `server` on `workers` threads of its own.
pub fn start_tcp<F: ServeConnection>(server: &mut TcpServer<F>, workers: usize) -> SocketAddr {
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(workers).unwrap();
    server.local_addrs()[0]
}

/// A TLS server on 127.0.0.1 that writes `report` of each connection's TLS stream as one line
/// (the SNI name it saw, whether the session resumed), then closes: how the handshake tests
/// see the server's side of the handshake. On `workers` threads of its own, or on the test's
/// loop for `None`; keep it while it should serve. Returns it and its port.
pub fn tls_reporter(
    tls: TlsServerConfig,
    workers: Option<usize>,
    report: fn(Option<&TlsStream<TcpStream>>) -> String,
) -> (
    TcpServer<TlsFactory<impl ServeConnection<TlsStream<TcpStream>>>>,
    u16,
) {
    let mut server = TcpServer::new_tls(
        move |mut stream: IoStream<TlsStream<TcpStream>>, _: ConnectionInfo| async move {
            let line = report(stream.get_ref());
            let _ = stream.write(format!("{line}\n")).await;
        },
        tls,
    );
    let addr = match workers {
        Some(workers) => start_tcp(&mut server, workers),
        None => listen_tcp(&mut server),
    };
    (server, addr.port())
}
