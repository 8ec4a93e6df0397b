//! The benchmark and conformance server: `GET /` answers `Hello, world` (text/plain),
//! `POST /echo` echoes the request body, `GET /ws` is a WebSocket echo (permessage-deflate
//! offered, 64 MiB messages); other methods on those paths get 405, other paths 404.
//!
//! ```text
//! cargo run --release --example bench_server -- --port 8888 --max-body-size 1048576
//! python3 ../shared/conformance/http1_cases.py 127.0.0.1:8888
//! ../shared/conformance/autobahn.sh ws://127.0.0.1:8888/ws
//! ```
//!
//! Flags: `--port N` (8888), `--workers N` (the `WORKERS` variable, else one per core),
//! `--max-body-size BYTES` (100 MiB), `--address A` (127.0.0.1), `--max-connections N` (the
//! server's default, 10 000: memory benchmarks with more clients raise it), `--certfile PEM
//! --keyfile PEM` (serve TLS instead, ALPN choosing h2 or http/1.1; `bench/h2load.sh`).

use std::time::Duration;

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest, Reply};
use cyclone::options::{define, options, parse_command_line};
use cyclone::tcpserver::DEFAULT_MAX_CONNECTIONS;
use cyclone::tls::TlsServerConfig;
use cyclone::web::PathArgs;
use cyclone::websocket::{
    DeflateConfig, Message, WebSocketConfig, WebSocketContext, WebSocketHandler, upgrade,
};
use http::{Method, StatusCode};

/// Largest WebSocket message echoed: Autobahn's 9.x cases send up to 16 MiB.
const MAX_WEBSOCKET_MESSAGE: usize = 64 * 1024 * 1024;

/// Routes the benchmark endpoints; the HTTP ones answer without any framework layer.
async fn bench(request: HttpServerRequest) -> Reply {
    match (request.path(), request.method()) {
        ("/", &Method::GET | &Method::HEAD) => HttpResponse::ok().text("Hello, world").into(),
        ("/echo", &Method::POST) => HttpResponse::ok().body(request.body().clone()).into(),
        ("/ws", &Method::GET) => {
            let config = WebSocketConfig::new().max_message_size(MAX_WEBSOCKET_MESSAGE);
            upgrade(request, Echo, PathArgs::default(), config)
        }
        ("/" | "/echo" | "/ws", _) => HttpResponse::new(StatusCode::METHOD_NOT_ALLOWED).into(),
        _ => HttpResponse::new(StatusCode::NOT_FOUND).into(),
    }
}

/// `/ws`: sends every message back, reading the next only once the echo is written.
struct Echo;

impl WebSocketHandler for Echo {
    fn check_origin(&self, _origin: &str, _request: &HttpServerRequest) -> bool {
        // A benchmark and conformance target: load tools send any Origin.
        true
    }

    fn get_compression_options(&self) -> Option<DeflateConfig> {
        Some(DeflateConfig::new())
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        let flushed = cx.write_message(message);
        cx.wait_for(flushed);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    define("address", String::from("127.0.0.1"))?.help("listen on this address");
    define(
        "workers",
        std::env::var("WORKERS")
            .ok()
            .and_then(|workers| workers.parse().ok())
            .unwrap_or(0usize),
    )?
    .help("worker threads, 0 for one per core; WORKERS sets the default");
    define("max_body_size", 100u64 * 1024 * 1024)?.help("largest request body, in bytes");
    define("max_connections", DEFAULT_MAX_CONNECTIONS)?.help("most live connections");
    define("certfile", String::new())?
        .help("serve TLS with this certificate chain (PEM; with --keyfile): ALPN h2 or http/1.1");
    define("keyfile", String::new())?.help("the private key (PEM) for --certfile");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let address: String = options().get("address")?;
    let workers: usize = options().get("workers")?;
    let max_body_size: u64 = options().get("max_body_size")?;
    let max_connections: usize = options().get("max_connections")?;
    let certfile: String = options().get("certfile")?;
    let keyfile: String = options().get("keyfile")?;
    let tls = if certfile.is_empty() {
        None
    } else {
        Some(
            TlsServerConfig::builder()
                .cert_chain_file(certfile)
                .private_key_file(keyfile)
                .build()?,
        )
    };
    cyclone::run(async move {
        // HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1:
        // `curl --http2-prior-knowledge http://127.0.0.1:8888/` and plain HTTP/1.1 both work.
        let mut server = HttpServer::new(bench)
            .max_body_size(max_body_size)
            .max_connections(max_connections)
            .http2(true);
        let scheme = match tls {
            // Over TLS, ALPN picks h2 or http/1.1 (bench/h2load.sh measures both kinds).
            Some(tls) => {
                server = server.ssl_options(tls);
                "https"
            }
            None => "http",
        };
        server.bind(port, Some(&address))?;
        server.start(workers)?;
        println!("listening on {scheme}://{}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
