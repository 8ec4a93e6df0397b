//! Tornado's multi-process mode: `bind_sockets`, `fork_processes(n)`, then each worker serves
//! the shared sockets.
//!
//! ```text
//! cargo run --example fork_hello -- --port 8888 --processes 4
//! curl http://127.0.0.1:8888/          # "task 2 (pid 4711)": which worker answered
//! curl http://127.0.0.1:8888/crash     # that worker dies; the parent starts it again
//! ```
//!
//! The parent only binds and supervises; every worker is this program started again with the
//! sockets and `CYCLONE_TASK_ID`. Ctrl-C stops the parent, and the workers with it.

use std::time::Duration;

use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use cyclone::netutil::{DEFAULT_BACKLOG, Family, bind_sockets};
use cyclone::options::{define, options, parse_command_line};
use cyclone::process::{DEFAULT_MAX_RESTARTS, fork_processes, task_id};

/// Says which worker answered; `/crash` ends that worker abnormally, to show the restart.
async fn hello(request: HttpServerRequest) -> HttpResponse {
    let task = task_id().unwrap_or(0);
    if request.path() == "/crash" {
        std::process::exit(3);
    }
    HttpResponse::ok().text(format!("task {task} (pid {})", std::process::id()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port (0: any free port)");
    define("processes", 2usize)?.help("worker processes, 0 for one per core");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let processes: usize = options().get("processes")?;
    let (task, sockets) = fork_processes(processes, DEFAULT_MAX_RESTARTS, || {
        let sockets = bind_sockets(port, Some("127.0.0.1"), Family::V4, DEFAULT_BACKLOG, false)?;
        println!("listening on http://{}", sockets[0].local_addr()?);
        Ok(sockets)
    })?;
    println!("task {task} started (pid {})", std::process::id());
    cyclone::run(async move {
        let mut server = HttpServer::new(hello);
        server.add_sockets(sockets)?;
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
