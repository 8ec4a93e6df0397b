//! `RequestContext::redirect` resolves relative URLs against the request target (Tornado's
//! `urljoin(self.request.uri, url)`), passes absolute ones through, and never lets a CR/LF
//! into the `Location` field.

use cyclone::testing::TestServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};

/// Redirects to the `to` argument.
#[derive(Default)]
struct RedirectTo;

impl RequestHandler for RedirectTo {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        // Raw (unstripped) so CR/LF at either end reach `redirect`.
        let to = cx
            .request()
            .query_arguments()?
            .get_str("to")?
            .unwrap_or("")
            .to_owned();
        cx.redirect(&to, false).await
    }
}

#[actix_rt::test]
async fn relative_redirects_are_joined_with_the_request_uri() {
    let app = Application::new([url("/.*", handler::<RedirectTo>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    let cases = [
        ("/a/x?to=b", "/a/b"),
        ("/a/x?to=..%2Fc", "/c"),
        ("/a/b/x?to=..%2Fc", "/a/c"),
        ("/a/x?to=.%2Fd%2F..%2Fe", "/a/e"),
        ("/a/x/?to=b", "/a/x/b"),
        ("/a/x?to=%3Fq%3D1", "/a/x?q=1"),
        ("/a/x?to=%2Fabs%2F.%2Fpath", "/abs/path"),
        ("/a/x?to=%2F%2Fhost%2Fp", "//host/p"),
        (
            "/a/x?to=https%3A%2F%2Fexample.com%2Fz%3Fk%3Dv",
            "https://example.com/z?k=v",
        ),
        ("/a/x?to=b%23frag", "/a/b#frag"),
        ("/a/x?to=%2Fcaf%C3%A9", "/café"),
    ];
    for (path, location) in cases {
        let response = server.fetch(path).await.unwrap();
        assert_eq!(response.code, 302, "{path}");
        assert_eq!(
            response.headers["location"].as_bytes(),
            location.as_bytes(),
            "{path}"
        );
    }
    server.stop().await;
}

#[actix_rt::test]
async fn a_redirect_with_cr_or_lf_is_a_500_and_injects_nothing() {
    let app = Application::new([url("/.*", handler::<RedirectTo>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    for to in [
        "%0D%0ASet-Cookie:%20pwned=1",
        "x%0ASet-Cookie:%20pwned=1",
        "x%0D",
    ] {
        let response = server.fetch(&format!("/a/x?to={to}")).await.unwrap();
        assert_eq!(response.code, 500, "{to}");
        assert!(!response.headers.contains_key("location"), "{to}");
        assert!(!response.headers.contains_key("set-cookie"), "{to}");
    }
    server.stop().await;
}
