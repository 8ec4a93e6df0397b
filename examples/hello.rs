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
use cyclone::options::{define, options, parse_command_line};
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
    // Tornado's tornado.options: `--port=8000` or `--port 8000`; `--help` lists them.
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
    parse_command_line();
    let port: u16 = options().get("port")?;
    let address: String = options().get("address")?;
    let workers: usize = options().get("workers")?;
    let max_body_size: u64 = options().get("max_body_size")?;
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
