//! The blocking HttpClient from a plain thread, with no loop of the caller's own.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use cyclone::httpclient::{HttpClient, HttpClientError, HttpRequest};
use support::net::free_port;
use support::wait::WAIT;

/// A std-thread server answering `count` requests on one keep-alive connection.
fn keep_alive_server(count: usize) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut accepted = 0;
        let mut answered = 0;
        while answered < count {
            let (mut stream, _) = listener.accept().unwrap();
            accepted += 1;
            stream.set_read_timeout(Some(WAIT)).unwrap();
            let mut buf = Vec::new();
            while answered < count {
                let mut chunk = [0u8; 1024];
                let n = stream.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    buf.drain(..end + 4);
                    answered += 1;
                    let body = format!("answer {answered}");
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    stream.write_all(reply.as_bytes()).unwrap();
                }
            }
        }
        accepted
    });
    (url, handle)
}

#[test]
fn the_blocking_client_fetches_and_keeps_its_connection_between_calls() {
    let (url, server) = keep_alive_server(3);
    let client = HttpClient::new();
    for n in 1..=3 {
        let response = client.fetch(url.as_str()).unwrap();
        assert_eq!(response.text().unwrap(), format!("answer {n}"));
    }
    assert_eq!(server.join().unwrap(), 1);
    client.close();
}

#[test]
fn the_blocking_client_reports_errors() {
    let port = free_port();
    let client = HttpClient::new();
    let request = HttpRequest::new(format!("http://127.0.0.1:{port}/"))
        .connect_timeout(Duration::from_secs(2));
    let error = client.fetch(request).unwrap_err();
    assert!(matches!(error, HttpClientError::Connect(_)), "{error:?}");
}
