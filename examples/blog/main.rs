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
use cyclone::options::{define, options, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    define("address", String::from("127.0.0.1"))?.help("listen on this address");
    define("db", PathBuf::from("blog.db"))?.help("the SQLite file, created on first start");
    define("workers", 0usize)?.help("worker threads, 0 for one per core");
    define("debug", false)?.help("reload templates and static files, detailed error pages");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let address: String = options().get("address")?;
    let db: PathBuf = options().get("db")?;
    let workers: usize = options().get("workers")?;
    let debug: bool = options().get("debug")?;
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
