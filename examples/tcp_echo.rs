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
use cyclone::options::{define, options, parse_command_line};
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
    define("port", 8888u16)?.help("run on the given port");
    define("workers", 1usize)?.help("worker threads");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let workers: usize = options().get("workers")?;
    cyclone::run(async move {
        let mut server = TcpServer::new(handle_stream);
        server.bind(port, Some("127.0.0.1"))?;
        server.start(workers)?;
        println!("listening on {}", server.local_addrs()[0]);
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
