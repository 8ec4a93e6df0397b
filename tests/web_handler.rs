//! RequestHandler behaviour through real HTTP: writing, headers, errors, 405, HEAD, prepare,
//! arguments, files, JSON, redirects and the lifecycle hooks.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, handler, handler_with, url,
};
use http::{Method, StatusCode};
use support::logs::AccessLog;

#[derive(Default)]
struct Hello;

impl RequestHandler for Hello {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::POST];

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("X-Custom", "one")?;
        cx.add_header("X-Custom", "two")?;
        cx.set_header("X-Gone", "soon")?;
        cx.clear_header("X-Gone");
        cx.write("Hello, ");
        cx.write(String::from("world"));
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_status(StatusCode::CREATED);
        cx.write_json(&serde_json_value())?;
        Ok(())
    }
}

fn serde_json_value() -> std::collections::BTreeMap<&'static str, u32> {
    [("answer", 42)].into_iter().collect()
}

#[actix_rt::test]
async fn writes_headers_json_and_the_default_content_type() {
    let server =
        TestServer::start(Application::new([url("/", handler::<Hello>())]).unwrap()).unwrap();
    let response = server.fetch("/").await.unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(response.body.as_ref(), b"Hello, world");
    assert_eq!(response.headers["content-type"], "text/html; charset=UTF-8");
    let custom: Vec<_> = response.headers.get_all("x-custom").iter().collect();
    assert_eq!(custom, ["one", "two"]);
    assert!(!response.headers.contains_key("x-gone"));

    let response = server
        .fetch_request(server.request("/").method(Method::POST).body(""))
        .await
        .unwrap();
    assert_eq!(response.code, 201);
    assert_eq!(response.body.as_ref(), br#"{"answer":42}"#);
    assert_eq!(
        response.headers["content-type"],
        "application/json; charset=UTF-8"
    );
    server.stop().await;
}

#[actix_rt::test]
async fn unsupported_methods_are_405_with_allow_and_head_follows_get() {
    let server =
        TestServer::start(Application::new([url("/", handler::<Hello>())]).unwrap()).unwrap();
    let response = server
        .fetch_request(server.request("/").method(Method::DELETE))
        .await
        .unwrap();
    assert_eq!(response.code, 405);
    assert_eq!(response.headers["allow"], "GET, POST, HEAD");

    let response = server
        .fetch_request(server.request("/").method(Method::HEAD))
        .await
        .unwrap();
    assert_eq!(response.code, 200);
    assert!(response.body.is_empty());
    assert_eq!(response.headers["content-length"], "12");
    server.stop().await;
}

/// Implements only GET and POST, keeping the default `SUPPORTED_METHODS`.
#[derive(Default)]
struct GetAndPost;

impl RequestHandler for GetAndPost {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("got");
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("posted");
        Ok(())
    }
}

/// The issue this fixes: a 405 for PUT listed PUT (and every other default method) in `Allow`.
#[actix_rt::test]
async fn a_405_never_advertises_a_method_that_would_be_refused() {
    let server =
        TestServer::start(Application::new([url("/", handler::<GetAndPost>())]).unwrap()).unwrap();
    let allow_for = |method: Method| {
        let server = &server;
        async move {
            let mut request = server.request("/").method(method.clone());
            if method == Method::PUT {
                request = request.body("");
            }
            let response = server.fetch_request(request).await.unwrap();
            assert_eq!(response.code, 405);
            response.headers["allow"].to_str().unwrap().to_owned()
        }
    };
    // Before anything worked, nothing is advertised: never a method that would be refused.
    assert_eq!(allow_for(Method::PUT).await, "");
    assert_eq!(server.fetch("/").await.unwrap().code, 200);
    let response = server
        .fetch_request(server.request("/").method(Method::POST).body(""))
        .await
        .unwrap();
    assert_eq!(response.code, 200);
    let allow = allow_for(Method::PUT).await;
    assert_eq!(allow, "GET, POST, HEAD");
    // Every method it lists works, and the ones it refused are not in it.
    for method in allow.split(", ") {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = server.request("/").method(method.clone());
        if method == Method::POST {
            request = request.body("");
        }
        let response = server.fetch_request(request).await.unwrap();
        assert_eq!(response.code, 200, "{method} is advertised and must work");
    }
    assert_eq!(allow_for(Method::DELETE).await, "GET, HEAD, POST");
    server.stop().await;
}

/// Fails in the ways Tornado handlers fail.
#[derive(Default)]
struct Failing;

impl RequestHandler for Failing {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("never sent");
        match cx.get_argument("kind")?.as_str() {
            "teapot" => Err(HttpError::new(StatusCode::IM_A_TEAPOT).reason("Short and stout")),
            "internal" => Err(HttpError::internal("the database is on fire")),
            "number" => {
                let n: u32 = cx
                    .get_argument("n")?
                    .parse()
                    .map_err(|_| HttpError::bad_request())?;
                cx.write(format!("{n}"));
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[actix_rt::test]
async fn http_errors_clear_the_response_and_render_the_error_page() {
    let app = Application::new([url("/", handler::<Failing>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    let response = server.fetch("/?kind=teapot").await.unwrap();
    assert_eq!(response.code, 418);
    assert_eq!(
        response.body.as_ref(),
        b"<html><title>418: Short and stout</title><body>418: Short and stout</body></html>"
    );
    // A missing argument is 400 (MissingArgumentError).
    assert_eq!(server.fetch("/").await.unwrap().code, 400);
    assert_eq!(server.fetch("/?kind=number").await.unwrap().code, 400);
    assert_eq!(server.fetch("/?kind=number&n=x").await.unwrap().code, 400);
    let response = server.fetch("/?kind=number&n=7").await.unwrap();
    assert_eq!(response.body.as_ref(), b"never sent7");
    // Internal messages are not served outside debug.
    let response = server.fetch("/?kind=internal").await.unwrap();
    assert_eq!(response.code, 500);
    assert!(!String::from_utf8_lossy(&response.body).contains("fire"));
    server.stop().await;

    let debug = Application::with_settings(
        [url("/", handler::<Failing>())],
        Settings::default().debug(true),
    )
    .unwrap();
    let server = TestServer::start(debug).unwrap();
    let response = server.fetch("/?kind=internal").await.unwrap();
    assert_eq!(response.code, 500);
    assert!(String::from_utf8_lossy(&response.body).contains("the database is on fire"));
    server.stop().await;
}

/// Writes its own error page.
#[derive(Default)]
struct CustomErrors;

impl RequestHandler for CustomErrors {
    async fn get(&mut self, _cx: &mut RequestContext) -> Result<(), HttpError> {
        Err(HttpError::not_found())
    }

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        let _ = cx.write_json(&[("error", error.status.as_u16())]);
    }
}

#[actix_rt::test]
async fn write_error_can_be_overridden() {
    let app = Application::new([url("/", handler::<CustomErrors>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    let response = server.fetch("/").await.unwrap();
    assert_eq!(response.code, 404);
    assert_eq!(response.body.as_ref(), br#"[["error",404]]"#);
    server.stop().await;
}

/// Finishes in prepare when `?early` is given; counts its hooks.
struct Lifecycle {
    finished: Arc<AtomicUsize>,
}

impl RequestHandler for Lifecycle {
    async fn prepare(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        if cx.get_query_argument_or("early", "")? == "1" {
            cx.write("from prepare");
            cx.finish().await?;
        }
        Ok(())
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("from get");
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let names = cx.get_body_arguments("name")?;
        let query = cx.get_query_argument_or("q", "none")?;
        let all = cx.get_arguments("tag")?;
        let files = cx.get_files("upload")?;
        let file = files
            .first()
            .map(|file| {
                format!(
                    "{}:{}:{}",
                    file.filename,
                    file.content_type,
                    file.body.len()
                )
            })
            .unwrap_or_default();
        cx.write(format!("{names:?} {query} {all:?} {file}"));
        Ok(())
    }

    fn on_finish(&mut self, _cx: &RequestContext) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[actix_rt::test]
async fn prepare_may_finish_early_and_arguments_and_files_are_read() {
    let finished = Arc::new(AtomicUsize::new(0));
    let counter = finished.clone();
    let app = Application::new([url(
        "/",
        handler_with(move || Lifecycle {
            finished: counter.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(
        server.fetch("/?early=1").await.unwrap().body.as_ref(),
        b"from prepare"
    );
    assert_eq!(server.fetch("/").await.unwrap().body.as_ref(), b"from get");

    let response = server
        .fetch_request(
            server
                .request("/?q=rust&tag=a")
                .method(Method::POST)
                .header(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body("name=+Ada+&name=Grace&tag=b"),
        )
        .await
        .unwrap();
    assert_eq!(
        response.body.as_ref(),
        br#"["Ada", "Grace"] rust ["a", "b"] "#
    );

    let multipart = "--XX\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n";
    let response = server
        .fetch_request(
            server
                .request("/")
                .method(Method::POST)
                .header(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("multipart/form-data; boundary=XX"),
                )
                .body(Bytes::from(multipart)),
        )
        .await
        .unwrap();
    assert_eq!(response.body.as_ref(), b"[] none [] a.txt:text/plain:5");
    assert_eq!(finished.load(Ordering::SeqCst), 4);
    server.stop().await;
}

#[derive(Default)]
struct Redirecting;

impl RequestHandler for Redirecting {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let permanent = cx.get_argument_or("permanent", "")? == "1";
        cx.redirect("/elsewhere", permanent).await
    }
}

#[actix_rt::test]
async fn redirects_and_the_access_log_function() {
    let (settings, log) = AccessLog::record(Settings::default());
    let app = Application::with_settings([url("/go", handler::<Redirecting>())], settings).unwrap();
    let server = TestServer::start(app).unwrap();
    let response = server.fetch("/go").await.unwrap();
    assert_eq!(response.code, 302);
    assert_eq!(response.headers["location"], "/elsewhere");
    assert_eq!(server.fetch("/go?permanent=1").await.unwrap().code, 301);
    assert_eq!(server.fetch("/missing").await.unwrap().code, 404);
    let lines = log.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("302 GET /go (127.0.0.1) "),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("ms"));
    assert!(lines[2].starts_with("404 GET /missing (127.0.0.1) "));
    server.stop().await;
}
