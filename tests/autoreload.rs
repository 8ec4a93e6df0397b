//! tornado.autoreload: the `autoreload` example restarts itself when a watched file changes
//! (the same process id: an exec), keeps its listening socket through it, and serves what the
//! new start read.

mod support;

use std::net::SocketAddr;

use support::examples::{Printing, get_body};
use support::scratch::fresh_dir;

/// The body of `/`, which the example must answer: its socket outlives every restart.
fn get(address: SocketAddr) -> String {
    get_body(address, "/").expect("an answer on the socket, always there")
}

#[test]
fn a_changed_file_restarts_the_process_on_the_same_socket() {
    let dir = fresh_dir("autoreload");
    let greeting = dir.join("greeting.txt");
    std::fs::write(&greeting, "Hello").unwrap();

    let watch = format!("--watch={}", greeting.display());
    let example = Printing::start("autoreload", &["--port=0", &watch]);
    let first = example.next_line("the first start");
    let address: SocketAddr = first
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.split(' ').next())
        .expect("an address")
        .parse()
        .unwrap();
    assert!(
        first.ends_with(&format!("(pid {})", example.running.0.id())),
        "{first}"
    );
    assert_eq!(get(address), "Hello");

    std::fs::write(&greeting, "Hola").unwrap();
    let second = example.next_line("a restart");
    // The same socket, the same process (exec), the new greeting.
    assert_eq!(second, first);
    assert_eq!(get(address), "Hola");

    drop(example);
    std::fs::remove_dir_all(&dir).unwrap();
}
