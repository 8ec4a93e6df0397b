//! The blog example over real sockets, as a browser without JavaScript uses it: the empty
//! blog's redirects, sign-up, log-in, compose and edit, the pages and the feed, and the clear
//! answers to bad input (404, a form re-shown with its error, a forged XSRF token refused with
//! nothing written).

mod support;

#[allow(dead_code)] // the example's helpers this test does not call
#[path = "../examples/blog/site/mod.rs"]
mod site;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use cyclone::escape::url_escape;
use cyclone::testing::TestServer;
use support::raw_http::{Answer, Client};

/// A cookie-keeping client: what a browser does with `Set-Cookie`.
struct Browser {
    /// The blog.
    addr: SocketAddr,
    /// Cookies by name.
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new(addr: SocketAddr) -> Self {
        Browser {
            addr,
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, body: &str) -> Answer {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: blog.test\r\n");
        if !cookie.is_empty() {
            request.push_str(&format!("Cookie: {}\r\n", cookie.join("; ")));
        }
        if method == "POST" {
            request.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        let mut client = Client::connect(self.addr).await;
        client.send(request.as_bytes()).await;
        let answer = client.answer().await.expect("an answer");
        for (name, value) in &answer.headers {
            if name == "set-cookie"
                && let Some((cookie, _)) = value.split_once(';')
                && let Some((name, value)) = cookie.split_once('=')
            {
                if value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        answer
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, "").await
    }

    /// Posts `fields` with the XSRF token from the cookie, as the page's form would.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.cookies.get("_xsrf").cloned().unwrap_or_default();
        let mut body: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", url_escape(value, true)))
            .collect();
        body.push(format!("_xsrf={}", url_escape(&token, true)));
        self.send("POST", path, &body.join("&")).await
    }
}

fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cyclone-blog-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("blog.db")
}

async fn start(database: PathBuf) -> TestServer {
    let app = site::application(&site::BlogOptions {
        database,
        debug: false,
    })
    .await
    .unwrap();
    TestServer::start(app).unwrap()
}

fn address(server: &TestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port()))
}

/// Signs `browser` up as Ada (from the sign-up page, for its XSRF cookie).
async fn sign_up(browser: &mut Browser) {
    assert_eq!(browser.get("/auth/create").await.status, 200);
    let answer = browser
        .post(
            "/auth/create",
            &[
                ("email", "ada@example.com"),
                ("name", "Ada"),
                ("password", "correct horse"),
                ("next", "/compose"),
            ],
        )
        .await;
    assert_eq!(answer.status, 302, "{}", text(&answer));
    assert_eq!(answer.header("location"), Some("/compose"));
    assert!(browser.cookies.contains_key(site::USER_COOKIE));
}

#[actix_rt::test]
async fn an_empty_blog_leads_to_sign_up() {
    let server = start(temp_db("empty")).await;
    let mut browser = Browser::new(address(&server));
    let home = browser.get("/").await;
    assert_eq!(
        (home.status, home.header("location")),
        (302, Some("/compose"))
    );
    let compose = browser.get("/compose").await;
    assert_eq!(
        compose.header("location"),
        Some("/auth/login?next=%2Fcompose")
    );
    let login = browser.get("/auth/login?next=%2Fcompose").await;
    assert_eq!(
        login.header("location"),
        Some("/auth/create?next=%2Fcompose")
    );
    let create = browser.get("/auth/create?next=%2Fcompose").await;
    assert_eq!(create.status, 200);
    assert!(text(&create).contains("name=\"_xsrf\""));
    assert_eq!(browser.get("/archive").await.status, 200);
    let feed = browser.get("/feed").await;
    assert_eq!(
        feed.header("content-type"),
        Some("application/atom+xml; charset=UTF-8")
    );
}

#[actix_rt::test]
async fn sign_up_compose_and_read() {
    let server = start(temp_db("flow")).await;
    let mut browser = Browser::new(address(&server));
    sign_up(&mut browser).await;

    assert_eq!(browser.get("/compose").await.status, 200);
    let posted = browser
        .post(
            "/compose",
            &[
                ("title", "Hello <World>"),
                (
                    "markdown",
                    "Some **bold** text.\n\n<script>alert(1)</script>",
                ),
            ],
        )
        .await;
    assert_eq!(posted.status, 302, "{}", text(&posted));
    assert_eq!(posted.header("location"), Some("/entry/hello-world"));

    let entry = text(&browser.get("/entry/hello-world").await);
    assert!(entry.contains("<title>Hello &lt;World&gt; - Cyclone Blog</title>"));
    assert!(entry.contains("<p>Some <strong>bold</strong> text.</p>"));
    // Raw HTML in Markdown is shown, never run.
    assert!(entry.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!entry.contains("<script>alert(1)"));
    // The Entry module's stylesheet, once, in the head.
    assert_eq!(entry.matches("/static/entry.css?v=").count(), 1);
    assert!(entry.find("entry.css").unwrap() < entry.find("</head>").unwrap());

    let home = text(&browser.get("/").await);
    assert!(home.contains("<a href=\"/entry/hello-world\">Hello &lt;World&gt;</a>"));
    assert!(home.contains("<span class=\"user\">Ada</span>"));
    let feed = text(&browser.get("/feed").await);
    assert!(feed.contains("<title type=\"text\">Hello &lt;World&gt;</title>"));
    assert!(feed.contains("<link href=\"http://blog.test/entry/hello-world\""));
    assert!(feed.contains("&lt;strong&gt;bold&lt;/strong&gt;"));
    assert!(text(&browser.get("/archive").await).contains("/entry/hello-world"));

    // The same title again gets its own slug.
    let again = browser
        .post("/compose", &[("title", "Hello World"), ("markdown", "two")])
        .await;
    assert_eq!(again.header("location"), Some("/entry/hello-world-2"));

    // Edit the first.
    let edit = text(&browser.get("/compose?id=1").await);
    assert!(edit.contains("value=\"Hello &lt;World&gt;\""));
    let saved = browser
        .post(
            "/compose",
            &[
                ("id", "1"),
                ("title", "Hello again"),
                ("markdown", "_changed_"),
            ],
        )
        .await;
    assert_eq!(saved.header("location"), Some("/entry/hello-world"));
    assert!(text(&browser.get("/entry/hello-world").await).contains("<em>changed</em>"));

    // Log out, log back in.
    let out = browser.get("/auth/logout?next=%2Farchive").await;
    assert_eq!(out.header("location"), Some("/archive"));
    assert!(!browser.cookies.contains_key(site::USER_COOKIE));
    assert_eq!(browser.get("/compose").await.status, 302);
    assert_eq!(browser.get("/auth/login").await.status, 200);
    let wrong = browser
        .post(
            "/auth/login",
            &[("email", "ada@example.com"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(text(&wrong).contains("Incorrect password."));
    assert!(text(&wrong).contains("value=\"ada@example.com\""));
    let unknown = browser
        .post(
            "/auth/login",
            &[("email", "bob@example.com"), ("password", "whatever1")],
        )
        .await;
    assert!(text(&unknown).contains("No account has that email."));
    let right = browser
        .post(
            "/auth/login",
            &[
                ("email", "ada@example.com"),
                ("password", "correct horse"),
                ("next", "/archive"),
            ],
        )
        .await;
    assert_eq!(
        (right.status, right.header("location")),
        (302, Some("/archive"))
    );
    assert_eq!(browser.get("/compose").await.status, 200);
}

#[actix_rt::test]
async fn bad_input_gets_clear_answers() {
    let server = start(temp_db("bad")).await;
    let mut browser = Browser::new(address(&server));
    sign_up(&mut browser).await;
    browser.get("/compose").await;

    let missing = browser.get("/entry/no-such-entry").await;
    assert_eq!(missing.status, 404);
    // The blog's own error page, through its layout.
    assert!(text(&missing).contains("<h2 class=\"error-status\">404: No such entry</h2>"));
    assert_eq!(browser.get("/compose?id=999").await.status, 404);
    assert_eq!(browser.get("/compose?id=abc").await.status, 400);

    // A bad form comes back with its error and what was typed.
    let untitled = browser
        .post("/compose", &[("title", ""), ("markdown", "kept *text*")])
        .await;
    assert_eq!(untitled.status, 400);
    let page = text(&untitled);
    assert!(page.contains("Give the entry a title."));
    assert!(page.contains(">kept *text*</textarea>"));

    let mut stranger = Browser::new(address(&server));
    stranger.get("/auth/create").await;
    let short = stranger
        .post(
            "/auth/create",
            &[
                ("email", "eve@example.com"),
                ("name", "Eve"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(text(&short).contains("at least 8 characters"));
    assert!(text(&short).contains("value=\"eve@example.com\""));
    let taken = stranger
        .post(
            "/auth/create",
            &[
                ("email", "ada@example.com"),
                ("name", "Eve"),
                ("password", "long enough"),
            ],
        )
        .await;
    assert!(text(&taken).contains("already has an account"));

    // A forged token, or none: 403, and nothing written.
    let forged = browser
        .send(
            "POST",
            "/compose",
            "title=Forged&markdown=forged&_xsrf=2%7C00000000%7C0123456789abcdef0123456789abcdef%7C1",
        )
        .await;
    assert_eq!(forged.status, 403);
    let missing = browser
        .send("POST", "/compose", "title=Forged&markdown=forged")
        .await;
    assert_eq!(missing.status, 403);
    assert!(!text(&browser.get("/archive").await).contains("Forged"));
    // Not logged in: 403 for a post, whatever the token.
    let anonymous = stranger
        .post("/compose", &[("title", "x"), ("markdown", "y")])
        .await;
    assert_eq!(anonymous.status, 403);
}

#[actix_rt::test]
async fn the_database_is_created_once_and_kept() {
    let database = temp_db("kept");
    assert!(!database.exists());
    {
        let server = start(database.clone()).await;
        let mut browser = Browser::new(address(&server));
        sign_up(&mut browser).await;
        browser.get("/compose").await;
        browser
            .post("/compose", &[("title", "Kept"), ("markdown", "still here")])
            .await;
        server.stop().await;
    }
    assert!(database.exists());
    let server = start(database).await;
    let mut browser = Browser::new(address(&server));
    assert!(text(&browser.get("/").await).contains("Kept"));
}

#[test]
fn slugs_as_the_demo_makes_them() {
    assert_eq!(site::db::slugify("Hello, World!"), "hello-world");
    assert_eq!(
        site::db::slugify("  Rust   2024 edition "),
        "rust-2024-edition"
    );
    assert_eq!(site::db::slugify("!!!"), "entry");
}
