//! tornado.autoreload: the `autoreload` example restarts itself when a watched file changes
//! (the same process id: an exec), keeps its listening socket through it, and serves what the
//! new start read.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::examples::{Running, example};

/// How long a line from the example may take.
const LINE_WAIT: Duration = Duration::from_secs(20);

fn get(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).expect("the socket is always there");
    stream.set_read_timeout(Some(LINE_WAIT)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_once("\r\n\r\n")
        .expect("an answer")
        .1
        .to_owned()
}

#[test]
fn a_changed_file_restarts_the_process_on_the_same_socket() {
    let dir = std::env::temp_dir().join(format!("cyclone-autoreload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let greeting = dir.join("greeting.txt");
    std::fs::write(&greeting, "Hello").unwrap();

    let mut child = Command::new(example("autoreload"))
        .arg("--port=0")
        .arg(format!("--watch={}", greeting.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the autoreload example (cargo test builds it; for one test, `cargo build --examples` first)");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (lines_in, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_in.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines.recv_timeout(LINE_WAIT).expect("the first start");
    let address: SocketAddr = first
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.split(' ').next())
        .expect("an address")
        .parse()
        .unwrap();
    assert!(
        first.ends_with(&format!("(pid {})", running.0.id())),
        "{first}"
    );
    assert_eq!(get(address), "Hello");

    std::fs::write(&greeting, "Hola").unwrap();
    let second = lines.recv_timeout(LINE_WAIT).expect("a restart");
    // The same socket, the same process (exec), the new greeting.
    assert_eq!(second, first);
    assert_eq!(get(address), "Hola");

    drop(running);
    std::fs::remove_dir_all(&dir).unwrap();
}
