//! A real `redis-server` for the room tests: started on a free loopback port in a temporary
//! directory, stopped by its pid (SIGKILL, as a crash), and restarted on the same port with
//! what it had written (append-only file, fsync on every write), so a test can take Redis
//! away mid-stream and bring it back. Outside CI a missing `redis-server` skips the test;
//! under CI it fails, naming the Debian package.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::deps::require_binary;
use super::wait::blocking_until;

/// One `redis-server` process and where it keeps its files.
#[derive(Debug)]
pub struct RedisServer {
    /// The executable.
    binary: PathBuf,
    /// The running server, while it runs.
    child: Option<Child>,
    /// Its loopback port (the same across restarts).
    pub port: u16,
    /// Its working directory (append-only file), removed on drop.
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one, or `None` (outside CI) when `redis-server` is not installed.
    #[track_caller]
    pub fn start() -> Option<RedisServer> {
        let binary = require_binary(
            "REDIS_SERVER",
            &["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
            "install Debian's redis-server package (`apt-get install -y redis-server`; .ci/run does)",
        )?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("cyclone-redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the server's directory");
        let mut server = RedisServer {
            binary,
            child: None,
            port,
            dir,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL, by pid) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on its port, with what it had written, and waits until it
    /// answers `PING`.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args([
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
                "--loglevel",
                "warning",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        blocking_until("redis-server answers PING", || ping(addr));
    }
}

/// Whether a Redis at `addr` answers `PING` with `+PONG`.
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
