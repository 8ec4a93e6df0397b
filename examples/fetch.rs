//! Fetches URLs and prints their bodies, like Tornado's `python -m tornado.httpclient URL`.
//!
//! ```text
//! cargo run --example fetch -- http://127.0.0.1:8888/
//! cargo run --example fetch -- --print_headers --follow_redirects=false https://example.com/
//! ```
//!
//! Flags (Tornado's names, through `cyclone::options`; `--flag` alone means true; `--help`
//! lists them): `--print_headers` (false),
//! `--print_body` (true), `--follow_redirects` (true), `--validate_cert` (true),
//! `--proxy_host H` and `--proxy_port N`. A non-2xx response is printed all the same.

use std::io::Write;

use cyclone::httpclient::{HttpClient, HttpClientError, HttpRequest};
use cyclone::options::{define, options, parse_command_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Tornado's own flags for `python -m tornado.httpclient`, through tornado.options.
    define("print_headers", false)?.help("print the response's status line and header fields");
    define("print_body", true)?.help("print the response's body");
    define("follow_redirects", true)?.help("follow redirects");
    define("validate_cert", true)?.help("check the server's certificate");
    define::<String>("proxy_host", None)?.help("send requests through this proxy");
    define::<u16>("proxy_port", None)?.help("the proxy's port");
    let urls = parse_command_line();
    let print_headers: bool = options().get("print_headers")?;
    let print_body: bool = options().get("print_body")?;
    let follow_redirects: bool = options().get("follow_redirects")?;
    let validate_cert: bool = options().get("validate_cert")?;
    let proxy_host: Option<String> = options().get("proxy_host").ok();
    let proxy_port: Option<u16> = options().get("proxy_port").ok();
    if urls.is_empty() {
        eprintln!("usage: fetch [--print_headers] [--follow_redirects=false] URL...");
        std::process::exit(2);
    }

    let client = HttpClient::new();
    for url in urls {
        let mut request = HttpRequest::new(url.as_str())
            .follow_redirects(follow_redirects)
            .validate_cert(validate_cert);
        if let (Some(host), Some(port)) = (&proxy_host, proxy_port) {
            request = request.proxy(host.as_str(), port);
        }
        let response = match client.fetch(request) {
            Ok(response) => response,
            Err(HttpClientError::Http { response, .. }) => *response,
            Err(error) => {
                eprintln!("{url}: {error}");
                std::process::exit(1);
            }
        };
        let mut out = std::io::stdout().lock();
        if print_headers {
            let _ = writeln!(out, "HTTP/1.1 {} {}", response.code, response.reason);
            for (name, value) in &response.headers {
                let _ = writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()));
            }
            let _ = writeln!(out);
        }
        if print_body {
            let _ = out.write_all(&response.body);
        }
    }
    Ok(())
}
