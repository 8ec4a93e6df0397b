//! follow_redirects: chains, method changes, a redirect loop, and credentials that stay on
//! their host.

mod support;

use std::sync::{Arc, Mutex};

use cyclone::httpclient::{
    AsyncHttpClient, ClientOptions, HeaderValue, HttpClientError, HttpRequest, Method, header,
};
use cyclone::netutil::OverrideResolver;
use cyclone::tcpclient::TcpClient;
use support::raw_server::{Request, echo, serve_each};
use support::wait::bounded;

fn redirect(code: u16, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} Moved\r\nLocation: {location}\r\nContent-Length: 3\r\n\r\nbye")
        .into_bytes()
}

#[actix_rt::test]
async fn a_chain_of_relative_redirects_is_followed_to_the_end() {
    let server = serve_each(|request: &Request| match request.target() {
        "/a" => redirect(301, "/b"),
        "/b" => redirect(302, "c?x=1"),
        "/c?x=1" => redirect(307, "/d"),
        _ => echo(request),
    })
    .await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(server.url("/a"))).await.unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(response.effective_url, server.url("/d"));
    assert_eq!(response.time_info.redirects, 3);
    assert!(String::from_utf8_lossy(&response.body).starts_with("GET /d HTTP/1.1"));
    assert_eq!(
        server.accepted(),
        1,
        "redirect bodies are drained and the connection reused"
    );
}

#[actix_rt::test]
async fn see_other_becomes_get_and_307_keeps_the_post() {
    let server = serve_each(|request: &Request| match request.target() {
        "/303" => redirect(303, "/landing"),
        "/302" => redirect(302, "/landing"),
        "/307" => redirect(307, "/landing"),
        _ => echo(request),
    })
    .await;
    let client = AsyncHttpClient::new();
    for (path, line, body) in [
        ("/303", "GET /landing", ""),
        ("/302", "GET /landing", ""),
        ("/307", "POST /landing", "data"),
    ] {
        let request = HttpRequest::new(server.url(path))
            .method(Method::POST)
            .body("data");
        let response = bounded(client.fetch(request)).await.unwrap();
        let text = String::from_utf8_lossy(&response.body).into_owned();
        assert!(text.starts_with(line), "{path}: {text}");
        assert!(text.ends_with(&format!("\n\n{body}")), "{path}: {text}");
        assert_eq!(text.contains("content-length"), !body.is_empty(), "{text}");
    }
}

#[actix_rt::test]
async fn a_redirect_loop_stops_at_max_redirects() {
    let server = serve_each(|_: &Request| redirect(302, "/loop")).await;
    let client = AsyncHttpClient::new();
    match bounded(client.fetch(server.url("/loop"))).await {
        Err(HttpClientError::TooManyRedirects {
            max_redirects,
            response,
        }) => {
            assert_eq!(max_redirects, 5);
            assert_eq!(response.code, 302);
            assert_eq!(response.time_info.redirects, 5);
        }
        other => panic!("expected TooManyRedirects, got {other:?}"),
    }
    let request = HttpRequest::new(server.url("/loop"))
        .max_redirects(2)
        .raise_error(false);
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.code, 302);
    assert_eq!(&response.body[..], b"bye");
    assert_eq!(response.time_info.redirects, 2);
}

#[actix_rt::test]
async fn follow_redirects_off_returns_the_redirect() {
    let server = serve_each(|_: &Request| redirect(301, "/elsewhere")).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(server.url("/")).follow_redirects(false);
    match bounded(client.fetch(request)).await {
        Err(HttpClientError::Http { code, response }) => {
            assert_eq!(code, 301);
            assert_eq!(response.headers[header::LOCATION], "/elsewhere");
        }
        other => panic!("expected the 301 as an error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn credentials_are_dropped_on_a_redirect_to_another_host() {
    let seen = Arc::new(Mutex::new(Vec::<(String, Option<String>)>::new()));
    let target = {
        let seen = Arc::clone(&seen);
        serve_each(move |request: &Request| {
            seen.lock().unwrap().push((
                request.header("host").unwrap_or("").to_owned(),
                request.header("authorization").map(str::to_owned),
            ));
            echo(request)
        })
        .await
    };
    let other = format!("http://other.test:{}/final", target.addr.port());
    let same = target.url("/final");
    let origin = serve_each(move |request: &Request| match request.target() {
        "/away" => redirect(302, &other),
        _ => redirect(302, &same),
    })
    .await;
    let resolver = OverrideResolver::new().map_host("other.test", "127.0.0.1");
    let client = AsyncHttpClient::with_options(
        ClientOptions::new().tcp_client(TcpClient::with_resolver(resolver)),
    );
    for path in ["/away", "/same-host"] {
        let request = HttpRequest::new(origin.url(path))
            .auth("user", "secret")
            .header(header::COOKIE, HeaderValue::from_static("a=1"));
        bounded(client.fetch(request)).await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].0, format!("other.test:{}", target.addr.port()));
    assert_eq!(seen[0].1, None, "no credentials for another host");
    // 127.0.0.1 with another port is another origin too: the origin server and the target differ.
    assert_eq!(seen[1].1, None);

    let same_origin = serve_each(|request: &Request| match request.target() {
        "/start" => redirect(302, "/next"),
        _ => echo(request),
    })
    .await;
    let request = HttpRequest::new(same_origin.url("/start")).auth("user", "secret");
    let response = bounded(client.fetch(request)).await.unwrap();
    let text = String::from_utf8_lossy(&response.body).into_owned();
    assert!(
        text.contains("authorization: Basic dXNlcjpzZWNyZXQ=\n"),
        "{text}"
    );
}
