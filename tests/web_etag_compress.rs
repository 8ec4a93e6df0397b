//! ETags (304 Not Modified) and `compress_response` (gzip with `Vary`) through real HTTP.

use std::io::Read;

use cyclone::testing::TestServer;
use cyclone::web::{
    Application, EntityTag, HttpError, RequestContext, RequestHandler, Settings, handler, url,
};
use http::{HeaderValue, Method, header};

#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let size: usize = cx.get_argument_or("size", "11")?.parse().unwrap_or(11);
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("hello world".repeat(size.div_ceil(11)).into_bytes()[..size].to_vec());
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("posted");
        Ok(())
    }
}

/// Writes "hello world" in two pieces: the ETag is of the whole body, not of its pieces.
#[derive(Default)]
struct Pieces;

impl RequestHandler for Pieces {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("hello ");
        cx.write("world");
        Ok(())
    }
}

/// Opts out of ETags, as a Tornado handler returning None from compute_etag.
#[derive(Default)]
struct NoEtag;

impl RequestHandler for NoEtag {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("no etag");
        Ok(())
    }

    fn compute_etag(_cx: &RequestContext) -> Option<EntityTag> {
        None
    }
}

/// A tag of its own, longer than an inline one (Tornado's `compute_etag` returning a version).
#[derive(Default)]
struct Versioned;

/// `Versioned`'s tag.
const VERSION_TAG: &str = "W/\"version-2026-12-03-of-the-page-and-its-assets\"";

impl RequestHandler for Versioned {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        if cx.get_argument("later").is_ok() {
            // Answered after a turn of the loop: the answer reaches the connection through
            // its channel after the work ran, not at once.
            tokio::task::yield_now().await;
        }
        if cx.get_argument("own").is_ok() {
            // A tag the handler sets itself wins over `compute_etag`.
            cx.set_header("ETag", "\"own\"")?;
        }
        cx.write("versioned");
        Ok(())
    }

    fn compute_etag(_cx: &RequestContext) -> Option<EntityTag> {
        EntityTag::new(VERSION_TAG).ok()
    }
}

#[actix_rt::test]
async fn matching_if_none_match_is_304() {
    let app = Application::new([
        url("/", handler::<Page>()),
        url("/none", handler::<NoEtag>()),
        url("/pieces", handler::<Pieces>()),
        url("/versioned", handler::<Versioned>()),
    ])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let first = server.fetch("/").await.unwrap();
    // XXH3-64 of "hello world", as Python's `xxhash.xxh3_64_hexdigest` computes it.
    assert_eq!(first.headers["etag"], "\"d447b1ea40e6988b\"");
    let pieces = server.fetch("/pieces").await.unwrap();
    assert_eq!(pieces.headers["etag"], first.headers["etag"]);
    let etag = first.headers["etag"].clone();

    let again = server
        .fetch_request(
            server
                .request("/")
                .header(header::IF_NONE_MATCH, etag.clone()),
        )
        .await
        .unwrap();
    assert_eq!(again.code, 304);
    assert!(again.body.is_empty());
    assert!(!again.headers.contains_key(header::CONTENT_TYPE));
    // The 304 names the tag it confirms (RFC 9110 §15.4.5), as Tornado's does.
    assert_eq!(again.headers["etag"], etag);
    let head = server
        .fetch_request(server.request("/").method(Method::HEAD))
        .await
        .unwrap();
    assert_eq!(head.headers["etag"], etag);

    let weak_list =
        HeaderValue::from_str(&format!("\"other\", W/{}", etag.to_str().unwrap())).unwrap();
    let again = server
        .fetch_request(server.request("/").header(header::IF_NONE_MATCH, weak_list))
        .await
        .unwrap();
    assert_eq!(again.code, 304);

    let changed = server
        .fetch_request(
            server
                .request("/?size=5")
                .header(header::IF_NONE_MATCH, etag),
        )
        .await
        .unwrap();
    assert_eq!(changed.code, 200);
    assert_eq!(changed.body.as_ref(), b"hello");

    let post = server
        .fetch_request(server.request("/").method(Method::POST).body(""))
        .await
        .unwrap();
    assert!(!post.headers.contains_key(header::ETAG));
    let none = server.fetch("/none").await.unwrap();
    assert!(!none.headers.contains_key(header::ETAG));

    let versioned = server.fetch("/versioned").await.unwrap();
    assert_eq!(versioned.headers["etag"], VERSION_TAG);
    assert_eq!(versioned.headers.get_all(header::ETAG).iter().count(), 1);
    let strong = "\"version-2026-12-03-of-the-page-and-its-assets\"";
    let cached = server
        .fetch_request(
            server
                .request("/versioned")
                .header(header::IF_NONE_MATCH, HeaderValue::from_static(strong)),
        )
        .await
        .unwrap();
    assert_eq!(cached.code, 304);
    for path in ["/versioned?own=1", "/versioned?own=1&later=1"] {
        let own = server.fetch(path).await.unwrap();
        assert_eq!(own.headers["etag"], "\"own\"", "{path}");
        assert_eq!(
            own.headers.get_all(header::ETAG).iter().count(),
            1,
            "{path}"
        );
    }
    // The same tag, and the same 304, when the answer comes after the handler awaited.
    let later = server.fetch("/versioned?later=1").await.unwrap();
    assert_eq!(later.headers["etag"], VERSION_TAG);
    assert_eq!(later.headers.get_all(header::ETAG).iter().count(), 1);
    let cached = server
        .fetch_request(
            server
                .request("/versioned?later=1")
                .header(header::IF_NONE_MATCH, HeaderValue::from_static(strong)),
        )
        .await
        .unwrap();
    assert_eq!(cached.code, 304);
    assert_eq!(cached.headers["etag"], VERSION_TAG);
    server.stop().await;
}

#[actix_rt::test]
async fn compress_response_gzips_large_compressible_bodies() {
    let app = Application::with_settings(
        [url("/", handler::<Page>())],
        Settings::default().compress_response(true),
    )
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let get = |path: &str, gzip: bool| {
        let mut request = server.request(path).decompress_response(false);
        if gzip {
            request = request.header(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("gzip, deflate"),
            );
        }
        server.fetch_request(request)
    };
    let response = get("/?size=5000", true).await.unwrap();
    assert_eq!(response.headers["content-encoding"], "gzip");
    assert_eq!(response.headers["vary"], "Accept-Encoding");
    assert!(response.body.len() < 5000);
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(response.body.as_ref())
        .read_to_string(&mut inflated)
        .unwrap();
    assert_eq!(inflated.len(), 5000);
    assert!(inflated.starts_with("hello worldhello world"));

    // Small bodies and clients without gzip get it plain, still with Vary.
    let small = get("/?size=100", true).await.unwrap();
    assert!(!small.headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(small.headers["vary"], "Accept-Encoding");
    let plain = get("/?size=5000", false).await.unwrap();
    assert!(!plain.headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(plain.body.len(), 5000);
    server.stop().await;
}
