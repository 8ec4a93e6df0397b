//! Tornado's TCP echo server: every line a client sends comes back.
//!
//! ```text
//! cargo run --example tcp_echo -- --port 8888 --workers 2
//! printf 'hello\n' | nc 127.0.0.1 8888
//! ```
//!
//! Ctrl-C stops accepting, gives open connections 5 seconds to finish, then closes them.

use std::time::Duration;

use cyclone::iostream::{IoStream, TcpStream};
use cyclone::tcpserver::{ConnectionInfo, TcpServer};

/// Reads lines and writes each one back until the client hangs up.
async fn handle_stream(mut stream: IoStream<TcpStream>, _info: ConnectionInfo) {
    while let Ok(line) = stream.read_until(b"\n", None).await {
        if stream.write(line).await.is_err() {
            break;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = flag("--port").unwrap_or(8888);
    let workers = flag("--workers").unwrap_or(1);
    // Tornado's log lines (the access log among them); `--logging none` (or `warning`...) as Tornado.
    cyclone::log::enable_pretty_logging_with(cyclone::log::LogOptions {
        level: flag("--logging"),
        ..Default::default()
    })?;
    cyclone::run(async move {
        let mut server = TcpServer::new(handle_stream);
        server.bind(port, Some("127.0.0.1"))?;
        server.start(workers)?;
        println!("listening on {}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}

/// The number after `name` on the command line, if any.
fn flag<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1)?.parse().ok()
}
