//! `RedirectHandler` with Tornado 6.6's fixes, through real sockets: groups are substituted in
//! one pass, and a group cannot change the redirect's scheme or host (an open redirect): such
//! requests are 400. Also `redirect()`'s join, which keeps relative references on this host.

mod support;

use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, handler, redirect, url,
};
use support::raw_http::{Client, loopback};

fn start() -> TestServer {
    let app = Application::new([
        url(r"/pictures/(.*)", redirect("/photos/{0}", true)),
        url(r"/swap/([^/]*)/([^/]*)", redirect("/{1}/{0}", false)),
        url(r"/go(/.*)", redirect("{0}", false)),
        url(
            r"/site/(.*)",
            redirect("https://www.example.com/{0}", false),
        ),
        url(r"/host/(.*)", redirect("https://{0}/", false)),
        url(r"/braces/(.*)", redirect("/{{literal}}/{0}", false)),
        url(r"/next", handler::<RedirectToNext>()),
    ])
    .unwrap();
    TestServer::start(app).unwrap()
}

/// Redirects to its `next` argument, as log-in pages do.
#[derive(Default)]
struct RedirectToNext;

impl RequestHandler for RedirectToNext {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let next = cx.get_argument_or("next", "/")?;
        cx.redirect(&next, false).await
    }
}

/// Status and `Location` for a raw request target (so that targets like `//x` reach the
/// server exactly as written).
async fn get(server: &TestServer, target: &str) -> (u16, Option<String>) {
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(format!("GET {target} HTTP/1.1\r\nHost: site.example\r\n\r\n").as_bytes())
        .await;
    let answer = client.answer().await.expect("an answer");
    (answer.status, answer.header("location").map(str::to_owned))
}

#[actix_rt::test]
async fn groups_fill_the_template_in_one_pass() {
    let server = start();
    assert_eq!(
        get(&server, "/swap/a/b").await,
        (302, Some("/b/a".to_owned()))
    );
    // A group holding `{1}` stays as it is: it is never read as template.
    // (Substituted one after the other, this was `/x/x`.)
    assert_eq!(
        get(&server, "/swap/%7B1%7D/x").await,
        (302, Some("/x/{1}".to_owned()))
    );
    assert_eq!(
        get(&server, "/braces/x").await,
        (302, Some("/{literal}/x".to_owned()))
    );
    assert_eq!(
        get(&server, "/pictures/cat.jpg?size=2").await,
        (301, Some("/photos/cat.jpg?size=2".to_owned()))
    );
    server.stop().await;
}

#[actix_rt::test]
async fn a_group_that_would_redirect_to_another_host_is_400() {
    let server = start();
    for attack in [
        // The group `//evil.example` makes a network-path reference: another site.
        "/go//evil.example",
        "/go//evil.example/path?q=1",
        // Browsers read a backslash as a slash.
        "/go/%5Cevil.example",
        // The host may not come from a group at all.
        "/host/evil.example",
        "/host/www.example.com",
    ] {
        let (status, location) = get(&server, attack).await;
        assert_eq!(status, 400, "{attack} redirected to {location:?}");
        assert_eq!(location, None);
    }
    // The template's own host, with a group in the path, is fine.
    assert_eq!(
        get(&server, "/site/a/b").await,
        (302, Some("https://www.example.com/a/b".to_owned()))
    );
    assert_eq!(
        get(&server, "/go/local/page").await,
        (302, Some("/local/page".to_owned()))
    );
    // A URL in a path group is a path here.
    assert_eq!(
        get(&server, "/go/https://evil.example/").await,
        (302, Some("/https://evil.example/".to_owned()))
    );
    server.stop().await;
}

#[actix_rt::test]
async fn a_relative_next_never_leaves_the_host() {
    let server = start();
    // Dot segments that would leave `//evil.example` behind stay a path on this host.
    for (next, location) in [
        ("/.//evil.example/", "/.//evil.example/"),
        ("./%5Cevil.example", "/./\\evil.example"),
        ("/a/..//evil.example", "/.//evil.example"),
        ("/account", "/account"),
    ] {
        let (status, sent) = get(&server, &format!("/next?next={next}")).await;
        assert_eq!(status, 302, "{next}");
        assert_eq!(sent.as_deref(), Some(location), "{next}");
    }
    server.stop().await;
}
