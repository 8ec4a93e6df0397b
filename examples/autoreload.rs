//! Tornado's `debug=True` autoreload: the server starts itself again when its executable (a
//! `cargo build`) or a watched file changes, and keeps its listening socket meanwhile.
//!
//! ```text
//! cargo run --example autoreload -- --port 8888 --watch greeting.txt
//! echo "Hola" > greeting.txt            # the process restarts, same pid, same socket
//! curl http://127.0.0.1:8888/           # the new greeting
//! ```

use std::path::PathBuf;
use std::time::Duration;

use cyclone::autoreload;
use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use cyclone::netutil::{DEFAULT_BACKLOG, Family, bind_sockets};
use cyclone::options::{define, options, parse_command_line};
use cyclone::process::inherited_sockets_or;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port (0: any free port)");
    define::<PathBuf>("watch", None)?.help("a file whose text is the greeting; a change restarts");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let watched: Option<PathBuf> = options().get("watch").ok();
    // Read once per start: a change is seen because the process starts again.
    let greeting = watched
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_else(|| "Hello".into());
    let sockets = inherited_sockets_or(|| {
        bind_sockets(port, Some("127.0.0.1"), Family::V4, DEFAULT_BACKLOG, false)
    })?;
    if let Some(path) = watched {
        autoreload::watch(path);
    }
    autoreload::start(&sockets)?;
    println!(
        "listening on http://{} (pid {})",
        sockets[0].local_addr()?,
        std::process::id()
    );
    cyclone::run(async move {
        let greeting = greeting.trim().to_owned();
        let mut server = HttpServer::new(move |_: HttpServerRequest| {
            let greeting = greeting.clone();
            async move { HttpResponse::ok().text(greeting) }
        });
        server.add_sockets(sockets)?;
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
