//! Our servers on 127.0.0.1, port 0: serving on the test's own loop (`listen_*`), or started on
//! worker threads (`start_*`). Each returns the address it took.

use std::net::SocketAddr;

use cyclone::httpserver::{HttpServer, HttpService};
use cyclone::tcpserver::{ServeConnection, TcpServer};

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
