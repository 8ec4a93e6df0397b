//! Tornado's hello world (from Tornado's README), on cyclone.
//!
//! ```text
//! cargo run --example hello -- --port 8888
//! curl http://127.0.0.1:8888/        # Hello, world
//! ```
//!
//! Flags: `--port N` (8888), `--workers N` (one per core), `--max-body-size BYTES` (100 MiB),
//! `--address A` (127.0.0.1). Ctrl-C shuts down gracefully.

use std::time::Duration;

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};

/// `MainHandler.get`: writes "Hello, world".
async fn main_handler(_request: HttpServerRequest) -> HttpResponse {
    HttpResponse::ok().text("Hello, world")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = flag("--port").unwrap_or(8888);
    let workers = flag("--workers").unwrap_or(0);
    let max_body_size = flag("--max-body-size").unwrap_or(100 * 1024 * 1024);
    let address: String = flag("--address").unwrap_or_else(|| "127.0.0.1".into());
    cyclone::run(async move {
        let mut server = HttpServer::new(main_handler).max_body_size(max_body_size);
        server.bind(port, Some(&address))?;
        server.start(workers)?;
        println!("listening on http://{}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}

/// The value after `name` on the command line, if any.
fn flag<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1)?.parse().ok()
}
