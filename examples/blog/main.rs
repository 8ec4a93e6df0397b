//! Tornado's blog demo (`demos/blog`) on cyclone: authors sign up and log in, write entries in
//! Markdown, and readers get a home page, entry pages, an archive and an Atom feed.
//!
//! ```text
//! cargo run --release --example blog                  # http://127.0.0.1:8888/
//! cargo run --release --example blog -- --db /tmp/blog.db --port 8000 --debug
//! ```
//!
//! Flags: `--port N` (8888), `--address A` (127.0.0.1), `--db PATH` (`blog.db` in the working
//! directory, created with its tables on first start), `--workers N` (one per core),
//! `--debug` (templates and static files reloaded when they change, error pages with details).
//! Ctrl-C shuts down gracefully.
//!
//! The pieces, one file per concern under `site/`: the database on the blocking pool
//! (`db.rs`), the pages (`entries.rs`), sign-up and log-in (`auth.rs`), the `Entry` UI module
//! (`modules.rs`); templates and static files sit next to them and are found from any working
//! directory.

mod site;

use std::path::PathBuf;
use std::time::Duration;

use cyclone::httpserver::HttpServer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = flag("--port").unwrap_or(8888);
    let address: String = flag("--address").unwrap_or_else(|| "127.0.0.1".into());
    let db: PathBuf = flag("--db").unwrap_or_else(|| "blog.db".into());
    let workers = flag("--workers").unwrap_or(0);
    let debug = std::env::args().any(|arg| arg == "--debug");
    // Tornado's log lines (the access log among them); `--logging none` (or `warning`...) as Tornado.
    cyclone::log::enable_pretty_logging_with(cyclone::log::LogOptions {
        level: flag("--logging"),
        ..Default::default()
    })?;
    cyclone::run(async move {
        let app = site::application(&site::BlogOptions {
            database: db.clone(),
            debug,
        })
        .await?;
        let mut server = HttpServer::new(app);
        server.bind(port, Some(&address))?;
        server.start(workers)?;
        println!(
            "blog on http://{} (database {})",
            server.local_addrs()[0],
            db.display()
        );
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
