//! Tornado's hello world (from Tornado's README), on cyclone: an `Application` with one
//! `RequestHandler`.
//!
//! ```text
//! cargo run --example hello -- --port 8888
//! curl http://127.0.0.1:8888/        # Hello, world
//! ```
//!
//! Flags: `--port N` (8888), `--workers N` (one per core; the `WORKERS` environment variable
//! too), `--max-body-size BYTES` (100 MiB), `--address A` (127.0.0.1). Ctrl-C shuts down
//! gracefully.

use std::time::Duration;

use cyclone::httpserver::HttpServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};

#[derive(Default)]
struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("Hello, world");
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = flag("--port").unwrap_or(8888);
    let workers = flag("--workers")
        .or_else(|| std::env::var("WORKERS").ok()?.parse().ok())
        .unwrap_or(0);
    let max_body_size = flag("--max-body-size").unwrap_or(100 * 1024 * 1024);
    let address: String = flag("--address").unwrap_or_else(|| "127.0.0.1".into());
    // Tornado's log lines (the access log among them); `--logging none` (or `warning`...) as Tornado.
    cyclone::log::enable_pretty_logging_with(cyclone::log::LogOptions {
        level: flag("--logging"),
        ..Default::default()
    })?;
    cyclone::run(async move {
        let app = Application::new([url("/", handler::<MainHandler>())])?;
        let mut server = HttpServer::new(app).max_body_size(max_body_size);
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
