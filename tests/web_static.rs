//! StaticFileHandler through raw sockets: 200 with its header fields, 304 by ETag and by date,
//! 206 and 416, HEAD, `?v=` caching, MIME types, directories, `.gz` siblings, a route target
//! with its own root, a streamed file, and traversal attempts that never get a file.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use cyclone::testing::TestServer;
use cyclone::web::static_files::{StaticFileHandler, StaticFileOptions, stats};
use cyclone::web::{Application, Settings, url};
use support::raw_http::{Answer, Client};

/// A fresh folder under the system's temporary folder.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cyclone-static-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `root/` holds the site's static files; `secret.txt` sits next to it, outside.
fn site(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("css")).unwrap();
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::create_dir_all(root.join("bare")).unwrap();
    std::fs::write(dir.join("secret.txt"), "TOP SECRET").unwrap();
    std::fs::write(root.join("hello.txt"), "hello, static world\n").unwrap();
    std::fs::write(root.join("css/site.css"), "body { color: red }\n").unwrap();
    std::fs::write(root.join("app.js"), "console.log(1)\n").unwrap();
    std::fs::write(root.join("data.json"), "{}").unwrap();
    std::fs::write(root.join("pixel.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(root.join("blob.unknownext"), "?").unwrap();
    std::fs::write(root.join("archive.tar.gz"), "not really gzip").unwrap();
    std::fs::write(root.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    std::fs::write(root.join("favicon.ico"), "ico").unwrap();
    std::fs::write(root.join("robots.txt"), "User-agent: *").unwrap();
    let digits: String = (0..100)
        .map(|index| char::from(b'0' + index % 10))
        .collect();
    std::fs::write(root.join("digits.txt"), &digits).unwrap();
    // A precompressed sibling (its bytes need not be real gzip for the test).
    std::fs::write(root.join("big.css"), "a { b: c }".repeat(100)).unwrap();
    std::fs::write(root.join("big.css.gz"), "GZIPPED").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&dir, root.join("link-out")).unwrap();
        std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("secret-link.txt")).unwrap();
    }
    (dir, root)
}

fn server_for(root: &Path) -> TestServer {
    let settings = Settings::default()
        .static_path(root)
        .static_handler_args(StaticFileOptions {
            default_filename: Some("index.html".into()),
            ..StaticFileOptions::default()
        });
    let app = Application::with_settings(
        [url(
            r"/files/(.*)",
            StaticFileHandler::target(root.join("css")),
        )],
        settings,
    )
    .unwrap();
    TestServer::start(app).unwrap()
}

fn address(server: &TestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port()))
}

async fn request(addr: SocketAddr, method: &str, target: &str, headers: &str) -> Answer {
    let mut client = Client::connect(addr).await;
    client
        .send(format!("{method} {target} HTTP/1.1\r\nHost: t\r\n{headers}\r\n").as_bytes())
        .await;
    if method == "HEAD" {
        client.head_answer().await
    } else {
        client.answer().await.expect("an answer")
    }
}

async fn get(addr: SocketAddr, target: &str) -> Answer {
    request(addr, "GET", target, "").await
}

#[actix_rt::test]
async fn a_file_with_its_header_fields() {
    let (_dir, root) = site("get");
    let server = server_for(&root);
    let answer = get(address(&server), "/static/hello.txt").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"hello, static world\n");
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(answer.header("content-length"), Some("20"));
    assert_eq!(answer.header("accept-ranges"), Some("bytes"));
    assert!(
        answer
            .header("etag")
            .is_some_and(|etag| etag.starts_with('"') && etag.ends_with('"'))
    );
    let modified = std::fs::metadata(root.join("hello.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        answer.header("last-modified"),
        Some(httpdate::fmt_http_date(modified).as_str())
    );
    // No version in the URL: no caching instructions.
    assert_eq!(answer.header("cache-control"), None);
    assert!(!answer.chunked);
}

#[actix_rt::test]
async fn not_modified_by_etag_and_by_date() {
    let (_dir, root) = site("conditional");
    let server = server_for(&root);
    let addr = address(&server);
    let first = get(addr, "/static/hello.txt").await;
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();

    let by_etag = request(
        addr,
        "GET",
        "/static/hello.txt",
        &format!("If-None-Match: {etag}\r\n"),
    )
    .await;
    assert_eq!(by_etag.status, 304);
    assert!(by_etag.body.is_empty());
    assert_eq!(by_etag.header("etag"), Some(etag.as_str()));
    let weak = request(
        addr,
        "GET",
        "/static/hello.txt",
        &format!("If-None-Match: \"x\", W/{etag}\r\n"),
    )
    .await;
    assert_eq!(weak.status, 304);
    let other = request(
        addr,
        "GET",
        "/static/hello.txt",
        "If-None-Match: \"other\"\r\n",
    )
    .await;
    assert_eq!(other.status, 200);
    // If-None-Match decides when present, even if the date would match.
    let both = request(
        addr,
        "GET",
        "/static/hello.txt",
        &format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {modified}\r\n"),
    )
    .await;
    assert_eq!(both.status, 200);

    let by_date = request(
        addr,
        "GET",
        "/static/hello.txt",
        &format!("If-Modified-Since: {modified}\r\n"),
    )
    .await;
    assert_eq!(by_date.status, 304);
    let later = httpdate::fmt_http_date(
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    );
    let by_later_date = request(
        addr,
        "GET",
        "/static/hello.txt",
        &format!("If-Modified-Since: {later}\r\n"),
    )
    .await;
    assert_eq!(by_later_date.status, 304);
    let old = request(
        addr,
        "GET",
        "/static/hello.txt",
        "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
    )
    .await;
    assert_eq!(old.status, 200);
    let garbage = request(
        addr,
        "GET",
        "/static/hello.txt",
        "If-Modified-Since: yesterday\r\n",
    )
    .await;
    assert_eq!(garbage.status, 200);
}

#[actix_rt::test]
async fn byte_ranges() {
    let (_dir, root) = site("ranges");
    let server = server_for(&root);
    let addr = address(&server);
    let digits: Vec<u8> = (0..100).map(|index| b'0' + index % 10).collect();

    let first_ten = request(addr, "GET", "/static/digits.txt", "Range: bytes=0-9\r\n").await;
    assert_eq!(first_ten.status, 206);
    assert_eq!(first_ten.header("content-range"), Some("bytes 0-9/100"));
    assert_eq!(first_ten.header("content-length"), Some("10"));
    assert_eq!(first_ten.body, &digits[..10]);

    let suffix = request(addr, "GET", "/static/digits.txt", "Range: bytes=-5\r\n").await;
    assert_eq!(suffix.status, 206);
    assert_eq!(suffix.header("content-range"), Some("bytes 95-99/100"));
    assert_eq!(suffix.body, &digits[95..]);

    let open_ended = request(addr, "GET", "/static/digits.txt", "Range: bytes=42-\r\n").await;
    assert_eq!(open_ended.status, 206);
    assert_eq!(open_ended.body, &digits[42..]);

    let past_end = request(
        addr,
        "GET",
        "/static/digits.txt",
        "Range: bytes=90-1000\r\n",
    )
    .await;
    assert_eq!(past_end.status, 206);
    assert_eq!(past_end.header("content-range"), Some("bytes 90-99/100"));

    let whole = request(addr, "GET", "/static/digits.txt", "Range: bytes=0-\r\n").await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, digits);

    for unsatisfiable in ["bytes=100-", "bytes=500-600", "bytes=7-3", "bytes=-0"] {
        let answer = request(
            addr,
            "GET",
            "/static/digits.txt",
            &format!("Range: {unsatisfiable}\r\n"),
        )
        .await;
        assert_eq!(answer.status, 416, "{unsatisfiable}");
        assert_eq!(
            answer.header("content-range"),
            Some("bytes */100"),
            "{unsatisfiable}"
        );
        assert!(answer.body.is_empty());
    }

    // Several ranges, or another unit: the whole file.
    let several = request(
        addr,
        "GET",
        "/static/digits.txt",
        "Range: bytes=0-1,5-6\r\n",
    )
    .await;
    assert_eq!(several.status, 200);
    assert_eq!(several.body.len(), 100);

    // If-Range: a current validator keeps the range, a stale one gets the whole file.
    let etag = whole.header("etag").unwrap();
    let current = request(
        addr,
        "GET",
        "/static/digits.txt",
        &format!("Range: bytes=0-0\r\nIf-Range: {etag}\r\n"),
    )
    .await;
    assert_eq!(current.status, 206);
    let stale = request(
        addr,
        "GET",
        "/static/digits.txt",
        "Range: bytes=0-0\r\nIf-Range: \"stale\"\r\n",
    )
    .await;
    assert_eq!(stale.status, 200);
}

#[actix_rt::test]
async fn head_has_the_fields_of_get_and_no_body() {
    let (_dir, root) = site("head");
    let server = server_for(&root);
    let addr = address(&server);
    let get = get(addr, "/static/digits.txt").await;
    let mut client = Client::connect(addr).await;
    client
        .send(b"HEAD /static/digits.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /static/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let head = client.head_answer().await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("100"));
    for field in ["content-type", "etag", "last-modified", "accept-ranges"] {
        assert_eq!(head.header(field), get.header(field), "{field}");
    }
    // No body came: the next answer on the connection is the pipelined GET's.
    let next = client.answer().await.unwrap();
    assert_eq!(next.body, b"hello, static world\n");

    let range = request(addr, "HEAD", "/static/digits.txt", "Range: bytes=10-19\r\n").await;
    assert_eq!(range.status, 206);
    assert_eq!(range.header("content-length"), Some("10"));
}

#[actix_rt::test]
async fn versioned_urls_are_cached_for_a_year() {
    let (_dir, root) = site("versioned");
    let server = server_for(&root);
    let answer = get(address(&server), "/static/css/site.css?v=0123456789abcdef").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("cache-control"),
        Some("max-age=31536000, public, immutable")
    );
    let expires = httpdate::parse_http_date(answer.header("expires").unwrap()).unwrap();
    let in_a_year = std::time::SystemTime::now() + std::time::Duration::from_secs(364 * 24 * 3600);
    assert!(expires > in_a_year);
}

#[actix_rt::test]
async fn content_types_by_extension() {
    let (_dir, root) = site("mime");
    let server = server_for(&root);
    let addr = address(&server);
    let cases = [
        ("/static/css/site.css", "text/css; charset=utf-8"),
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/data.json", "application/json; charset=utf-8"),
        ("/static/pixel.png", "image/png"),
        ("/static/docs/index.html", "text/html; charset=utf-8"),
        ("/static/blob.unknownext", "application/octet-stream"),
        ("/static/archive.tar.gz", "application/gzip"),
    ];
    for (path, expected) in cases {
        let answer = get(addr, path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("content-type"), Some(expected), "{path}");
    }
}

#[actix_rt::test]
async fn directories_default_files_and_other_mounts() {
    let (_dir, root) = site("directories");
    let server = server_for(&root);
    let addr = address(&server);
    let redirect = get(addr, "/static/docs").await;
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/static/docs/"));
    let index = get(addr, "/static/docs/").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.body, b"<h1>docs</h1>");
    // A directory without the default file.
    assert_eq!(get(addr, "/static/bare/").await.status, 404);
    assert_eq!(get(addr, "/static/missing.txt").await.status, 404);
    // Tornado's extra mounts of static_path.
    assert_eq!(get(addr, "/favicon.ico").await.body, b"ico");
    assert_eq!(get(addr, "/robots.txt").await.body, b"User-agent: *");
    // A route target with its own root.
    assert_eq!(
        get(addr, "/files/site.css").await.body,
        b"body { color: red }\n"
    );
    assert_eq!(get(addr, "/files/../hello.txt").await.status, 403);
    // POST is not served.
    let post = request(addr, "POST", "/static/hello.txt", "Content-Length: 0\r\n").await;
    assert_eq!(post.status, 405);

    // Without default_filename a directory is 403.
    let app = Application::with_settings([], Settings::default().static_path(&root)).unwrap();
    let plain = TestServer::start(app).unwrap();
    assert_eq!(get(address(&plain), "/static/docs/").await.status, 403);
}

#[actix_rt::test]
async fn precompressed_siblings_for_gzip_clients() {
    let (_dir, root) = site("gzip");
    let server = server_for(&root);
    let addr = address(&server);
    let gzip = request(
        addr,
        "GET",
        "/static/big.css",
        "Accept-Encoding: br, gzip\r\n",
    )
    .await;
    assert_eq!(gzip.body, b"GZIPPED");
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(gzip.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(gzip.header("vary"), Some("Accept-Encoding"));
    let plain = get(addr, "/static/big.css").await;
    assert_eq!(plain.body.len(), 1000);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    assert_ne!(plain.header("etag"), gzip.header("etag"));
    let refused = request(
        addr,
        "GET",
        "/static/big.css",
        "Accept-Encoding: gzip;q=0\r\n",
    )
    .await;
    assert_eq!(refused.body.len(), 1000);
}

#[actix_rt::test]
async fn a_file_larger_than_a_chunk_is_streamed_with_its_length() {
    let (_dir, root) = site("stream");
    let content: Vec<u8> = (0..300_000u32).map(|index| (index % 251) as u8).collect();
    std::fs::write(root.join("large.bin"), &content).unwrap();
    let server = server_for(&root);
    let addr = address(&server);
    let before = stats().files_streamed;
    let answer = get(addr, "/static/large.bin").await;
    assert_eq!(answer.status, 200);
    assert!(!answer.chunked);
    assert_eq!(answer.header("content-length"), Some("300000"));
    assert_eq!(answer.body, content);
    assert!(stats().files_streamed > before);
    let range = request(
        addr,
        "GET",
        "/static/large.bin",
        "Range: bytes=1000-199999\r\n",
    )
    .await;
    assert_eq!(range.status, 206);
    assert_eq!(range.body, &content[1000..200_000]);
}

/// Requests that try to leave the root, however spelled; none may get a file outside it.
const TRAVERSALS: &[&str] = &[
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/.%2e/secret.txt",
    "/static/css/../../secret.txt",
    "/static/css/%2e%2e/%2e%2e/secret.txt",
    "/static/./../secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..\\secret.txt",
    "/static/..%5csecret.txt",
    "/static/%252e%252e/secret.txt",
    "/static/secret.txt%00.css",
    "/static/link-out/secret.txt",
    "/static/secret-link.txt",
    "/static/link-out/root/../secret.txt",
    "/files/../../secret.txt",
    "/files/%2e%2e/%2e%2e/secret.txt",
];

#[actix_rt::test]
async fn traversal_attempts_never_get_a_file() {
    let (_dir, root) = site("traversal");
    let server = server_for(&root);
    let addr = address(&server);
    for target in TRAVERSALS {
        let answer = get(addr, target).await;
        assert!(
            [400, 403, 404].contains(&answer.status),
            "{target}: {}",
            answer.status_line
        );
        let body = String::from_utf8_lossy(&answer.body);
        assert!(!body.contains("TOP SECRET"), "{target}");
        assert!(!body.contains("root:"), "{target}");
    }
    // And the files inside the root are still served.
    assert_eq!(get(addr, "/static/css/../hello.txt").await.status, 200);
}
