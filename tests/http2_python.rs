//! HTTP/2 against Python's HTTP/2 stack: `httpx` (with its `h2` extra) as a client over
//! cleartext HTTP/2 with prior knowledge and over TLS with ALPN (and HTTP/1.1 for a client
//! that offers only that), and Python's `h2` state machine driven directly to read the
//! server's SETTINGS, which must carry `Http2Config`'s documented defaults.
//!
//! Needs a Python with `httpx[http2]` (`$CYCLONE_PYTHON`, set up by `.ci/run`); under
//! `CI=true` its absence fails the test.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use cyclone::httpserver::{Http2Config, HttpServer};
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
use serde_json::Value;
use support::python::run_python;
use support::servers::start_http;
use support::tls::Pki;

/// Answers with the request's version and the client's port (one port per connection).
#[derive(Default)]
struct Version;

impl RequestHandler for Version {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("Content-Type", "text/plain")?;
        let text = format!(
            "{:?} {}",
            cx.request().version(),
            cx.request().peer().port()
        );
        cx.write(text);
        Ok(())
    }
}

/// Answers with the length of the body it got.
#[derive(Default)]
struct Echo;

impl RequestHandler for Echo {
    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("Content-Type", "text/plain")?;
        let length = cx.request().body().len();
        cx.write(format!("{length} bytes"));
        Ok(())
    }
}

fn application() -> Application {
    Application::new([
        url("/version", handler::<Version>()),
        url("/echo", handler::<Echo>()),
    ])
    .unwrap()
}

/// httpx: a GET, a POST larger than one default window (64 KiB), 20 concurrent GETs and a
/// 404; one JSON line with each answer's version, status and text.
const HTTPX_CLIENT: &str = r#"
import asyncio, json, sys, httpx

async def main(base, ca, mode):
    if mode == "prior-knowledge":
        options = dict(http1=False, http2=True)
    else:
        options = dict(http2=(mode == "h2"), verify=ca)
    async with httpx.AsyncClient(timeout=10, **options) as client:
        got = await client.get(base + "/version")
        posted = await client.post(base + "/echo", content=b"x" * 200000)
        many = await asyncio.gather(*(client.get(base + "/version") for _ in range(20)))
        missing = await client.get(base + "/missing")
    row = lambda answer: [answer.http_version, answer.status_code, answer.text]
    print(json.dumps({
        "get": row(got),
        "post": row(posted),
        "many": [row(answer) for answer in many],
        "missing": row(missing)[:2],
    }))

asyncio.run(main(*sys.argv[1:]))
"#;

/// Python's h2 over a plain socket: the server's SETTINGS, then one GET's status and body.
const H2_CLIENT: &str = r#"
import json, socket, sys
import h2.connection, h2.config, h2.events, h2.settings

host, port = sys.argv[1], int(sys.argv[2])
sock = socket.create_connection((host, port), timeout=10)
conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
conn.initiate_connection()
conn.send_headers(1, [(":method", "GET"), (":path", "/version"), (":scheme", "http"),
                      (":authority", f"{host}:{port}")], end_stream=True)
sock.sendall(conn.data_to_send())
settings, status, body, done = None, None, b"", False
while not done:
    data = sock.recv(65536)
    if not data:
        break
    for event in conn.receive_data(data):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            settings = {h2.settings.SettingCodes(code).name: change.new_value
                        for code, change in event.changed_settings.items()}
        elif isinstance(event, h2.events.ResponseReceived):
            status = dict(event.headers)[b":status"].decode()
        elif isinstance(event, h2.events.DataReceived):
            body += event.data
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            done = True
    sock.sendall(conn.data_to_send())
conn.close_connection()
sock.sendall(conn.data_to_send())
print(json.dumps({"settings": settings, "status": status, "body": body.decode()}))
"#;

/// Checks an httpx run: every answer over `version`, the 20 concurrent ones over one
/// connection (one client port) when multiplexed.
fn check_httpx(output: &str, version: &str, multiplexed: bool) {
    let seen: Value = serde_json::from_str(output.trim()).unwrap();
    let expected_server_version = if version == "HTTP/2" {
        "HTTP/2.0"
    } else {
        "HTTP/1.1"
    };
    assert_eq!(seen["get"][0], version, "{output}");
    assert_eq!(seen["get"][1], 200, "{output}");
    assert!(
        seen["get"][2]
            .as_str()
            .unwrap()
            .starts_with(expected_server_version),
        "{output}"
    );
    assert_eq!(
        seen["post"],
        serde_json::json!([version, 200, "200000 bytes"]),
        "{output}"
    );
    assert_eq!(
        seen["missing"],
        serde_json::json!([version, 404]),
        "{output}"
    );
    let many = seen["many"].as_array().unwrap();
    assert_eq!(many.len(), 20);
    let mut ports = BTreeSet::new();
    for answer in many {
        assert_eq!(answer[0], version, "{output}");
        assert_eq!(answer[1], 200, "{output}");
        let text = answer[2].as_str().unwrap();
        let (server_version, port) = text.split_once(' ').unwrap();
        assert_eq!(server_version, expected_server_version, "{output}");
        ports.insert(port.to_owned());
    }
    if multiplexed {
        assert_eq!(
            ports.len(),
            1,
            "20 concurrent requests, one connection: {output}"
        );
    }
}

fn h2c_server() -> (HttpServer<Application>, SocketAddr) {
    let mut server = HttpServer::new(application()).http2(true);
    let addr = start_http(&mut server, 1);
    (server, addr)
}

#[actix_rt::test]
async fn httpx_speaks_h2c_with_prior_knowledge() {
    let Some(python) = support::deps::require_python_httpx() else {
        return;
    };
    let (mut server, addr) = h2c_server();
    let base = format!("http://{addr}");
    let output = run_python(
        &python,
        HTTPX_CLIENT,
        &[&base, "-", "prior-knowledge"],
        "httpx h2c",
    )
    .await;
    check_httpx(&output, "HTTP/2", true);
    server.stop().await;
}

#[actix_rt::test]
async fn httpx_over_tls_gets_h2_by_alpn_and_http1_when_it_offers_only_that() {
    let Some(python) = support::deps::require_python_httpx() else {
        return;
    };
    let pki = Pki::generate();
    let ca = pki.ca_file("http2-python");
    let mut server = HttpServer::new(application())
        .ssl_options(pki.server().build().unwrap())
        .http2(true);
    let addr = start_http(&mut server, 1);
    let base = format!("https://localhost:{}", addr.port());
    let ca_path = ca.display().to_string();
    let h2 = run_python(&python, HTTPX_CLIENT, &[&base, &ca_path, "h2"], "httpx h2").await;
    check_httpx(&h2, "HTTP/2", true);
    let http1 = run_python(
        &python,
        HTTPX_CLIENT,
        &[&base, &ca_path, "http1"],
        "httpx http/1.1",
    )
    .await;
    check_httpx(&http1, "HTTP/1.1", false);
    server.stop().await;
    let _ = std::fs::remove_file(ca);
}

#[actix_rt::test]
async fn python_h2_reads_the_documented_settings_and_gets_an_answer() {
    let Some(python) = support::deps::require_python_httpx() else {
        return;
    };
    let (mut server, addr) = h2c_server();
    let output = run_python(
        &python,
        H2_CLIENT,
        &[&addr.ip().to_string(), &addr.port().to_string()],
        "python h2",
    )
    .await;
    let seen: Value = serde_json::from_str(output.trim()).unwrap();
    assert_eq!(seen["status"], "200", "{output}");
    assert!(
        seen["body"].as_str().unwrap().starts_with("HTTP/2.0 "),
        "{output}"
    );
    let settings = &seen["settings"];
    assert_eq!(
        settings["MAX_CONCURRENT_STREAMS"],
        Http2Config::DEFAULT_MAX_CONCURRENT_STREAMS,
        "{output}"
    );
    assert_eq!(
        settings["INITIAL_WINDOW_SIZE"],
        Http2Config::DEFAULT_INITIAL_STREAM_WINDOW_SIZE,
        "{output}"
    );
    assert_eq!(
        settings["MAX_HEADER_LIST_SIZE"],
        Http2Config::DEFAULT_MAX_HEADER_LIST_SIZE,
        "{output}"
    );
    server.stop().await;
}
