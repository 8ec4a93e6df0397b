//! Fetches URLs and prints their bodies, like Tornado's `python -m tornado.httpclient URL`.
//!
//! ```text
//! cargo run --example fetch -- http://127.0.0.1:8888/
//! cargo run --example fetch -- --print_headers --follow_redirects=false https://example.com/
//! ```
//!
//! Flags (Tornado's names; `--flag` alone means true): `--print_headers` (false),
//! `--print_body` (true), `--follow_redirects` (true), `--validate_cert` (true),
//! `--proxy_host H` and `--proxy_port N`. A non-2xx response is printed all the same.

use std::io::Write;

use cyclone::httpclient::{HttpClient, HttpClientError, HttpRequest};

fn main() {
    // Errors and warnings from the client, as Tornado's command line prints them.
    let _ = cyclone::log::enable_pretty_logging_with(
        cyclone::log::LogOptions::default().level("warning"),
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print_headers = flag(&args, "print_headers", false);
    let print_body = flag(&args, "print_body", true);
    let follow_redirects = flag(&args, "follow_redirects", true);
    let validate_cert = flag(&args, "validate_cert", true);
    let proxy_host = value(&args, "proxy_host");
    let proxy_port = value(&args, "proxy_port").and_then(|port| port.parse().ok());
    let urls: Vec<&String> = urls(&args);
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
}

/// `--name`, `--name=true|false`; `default` when absent.
fn flag(args: &[String], name: &str, default: bool) -> bool {
    let bare = format!("--{name}");
    let prefix = format!("--{name}=");
    for arg in args {
        if *arg == bare {
            return true;
        }
        if let Some(value) = arg.strip_prefix(&prefix) {
            return matches!(value, "true" | "True" | "1" | "yes");
        }
    }
    default
}

/// `--name value` or `--name=value`.
fn value(args: &[String], name: &str) -> Option<String> {
    let bare = format!("--{name}");
    let prefix = format!("--{name}=");
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if *arg == bare {
            return iter.next().cloned();
        }
        if let Some(value) = arg.strip_prefix(&prefix) {
            return Some(value.to_owned());
        }
    }
    None
}

/// The arguments that are not flags (nor a flag's separate value).
fn urls(args: &[String]) -> Vec<&String> {
    let mut urls = Vec::new();
    let mut skip_next = false;
    for arg in args {
        if skip_next {
            skip_next = false;
        } else if arg == "--proxy_host" || arg == "--proxy_port" {
            skip_next = true;
        } else if !arg.starts_with("--") {
            urls.push(arg);
        }
    }
    urls
}
