//! Tornado's `@removeslash` / `@addslash` as `cx.removeslash().await?` /
//! `cx.addslash().await?`: GET and HEAD redirected for good (query kept), other methods 404.

use cyclone::testing::TestServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
use http::Method;
use http::header::LOCATION;

#[derive(Default)]
struct NoSlash;

impl RequestHandler for NoSlash {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.removeslash().await?;
        cx.write(format!("no slash: {}", cx.request().path()));
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.removeslash().await?;
        cx.write("posted");
        Ok(())
    }
}

#[derive(Default)]
struct WithSlash;

impl RequestHandler for WithSlash {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.addslash().await?;
        cx.write(format!("slash: {}", cx.request().path()));
        Ok(())
    }
}

fn app() -> Application {
    Application::new([
        url("/article/?", handler::<NoSlash>()),
        url("/", handler::<NoSlash>()),
        url("/dir/?", handler::<WithSlash>()),
    ])
    .unwrap()
}

#[cyclone::test]
async fn removeslash_and_addslash_redirect_to_one_url() {
    let server = TestServer::start(app()).unwrap();
    let moved = server.fetch("/article/?page=2").await.unwrap();
    assert_eq!(moved.code, 301);
    assert_eq!(moved.headers[LOCATION], "/article?page=2");
    assert_eq!(
        &server.fetch("/article").await.unwrap().body[..],
        b"no slash: /article"
    );
    // The root has no slash to remove.
    assert_eq!(&server.fetch("/").await.unwrap().body[..], b"no slash: /");
    // Other methods cannot be redirected safely: 404, as Tornado.
    let post = server
        .fetch_request(server.request("/article/").method(Method::POST).body("x"))
        .await
        .unwrap();
    assert_eq!(post.code, 404);
    let post = server
        .fetch_request(server.request("/article").method(Method::POST).body("x"))
        .await
        .unwrap();
    assert_eq!((post.code, &post.body[..]), (200, &b"posted"[..]));

    let moved = server.fetch("/dir").await.unwrap();
    assert_eq!(
        (moved.code, moved.headers[LOCATION].to_str().unwrap()),
        (301, "/dir/")
    );
    assert_eq!(
        &server.fetch("/dir/").await.unwrap().body[..],
        b"slash: /dir/"
    );
    let head = server
        .fetch_request(server.request("/dir?x=1").method(Method::HEAD))
        .await
        .unwrap();
    assert_eq!(
        (head.code, head.headers[LOCATION].to_str().unwrap()),
        (301, "/dir/?x=1")
    );
    server.stop().await;
}
