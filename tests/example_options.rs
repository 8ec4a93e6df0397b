//! The examples take their flags through `cyclone::options` (Tornado's `tornado.options`): the
//! hello example started with `--port=0 --workers=1` serves on the port it reports, `--help`
//! lists its options grouped as Tornado's, and a bad value is refused with status 2.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use support::examples::{example, start_listening};

#[test]
fn hello_takes_its_port_from_the_command_line() {
    let (_running, address) = start_listening(
        "hello",
        &["--port=0", "--workers", "1", "--address=127.0.0.1"],
    );
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nHello, world"), "{answer}");
}

#[test]
fn hello_help_lists_its_options() {
    let output = Command::new(example("hello"))
        .arg("--help")
        .output()
        .expect("the hello example");
    assert!(output.status.success());
    let help = String::from_utf8(output.stderr).unwrap();
    assert!(help.contains("\nexamples/hello.rs options:\n"), "{help}");
    assert!(
        help.contains("  --port                           run on the given port (default 8888)\n"),
        "{help}"
    );
}

#[test]
fn a_bad_value_is_refused() {
    let output = Command::new(example("hello"))
        .arg("--port=http")
        .output()
        .expect("the hello example");
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.ends_with("error: option \"port\": \"http\" is not an integer\n"),
        "{error}"
    );
}
