//! The tour example (`examples/tour.rs`) as its users meet it: the binary started on a free
//! port, driven over real sockets by cyclone's own HTTP and WebSocket clients. Log-in through
//! the form (a POST without `_xsrf` is 403; a forged or tampered cookie is no log-in), a
//! counter that loses no update under 20 concurrent POSTs, `/` answered while `/slow` holds a
//! pool thread, and a WebSocket message reaching the three members of the room.

mod support;

use std::collections::BTreeSet;

use cyclone::escape::url_escape;
use cyclone::httpclient::{
    AsyncHttpClient, ClientOptions, HeaderValue, HttpRequest, HttpResponse, Method, header,
};
use cyclone::websocket::{ClientConnection, Message, websocket_connect};
use futures::StreamExt;
use futures::future::{Either, join_all, select};
use support::examples::{Running, start_listening};
use support::wait::bounded;
use support::ws::next_message;

/// The tour, running; killed when the test ends, however it ends.
struct Tour {
    /// The example's process.
    _process: Running,
    /// `http://127.0.0.1:PORT`, from its first line.
    base: String,
}

/// Starts the tour on a free port with `flags` and waits for its "listening on" line.
fn start(flags: &[&str]) -> Tour {
    let mut args = vec!["--port=0", "--logging=none"];
    args.extend_from_slice(flags);
    let (process, address) = start_listening("tour", &args);
    Tour {
        _process: process,
        base: format!("http://{address}"),
    }
}

impl Tour {
    /// A request for `path` that returns every answer (redirects included) as it came.
    fn request(&self, path: &str) -> HttpRequest {
        HttpRequest::new(format!("{}{path}", self.base))
            .follow_redirects(false)
            .raise_error(false)
    }

    /// `request` with `cookies` (`name=value; ...`).
    fn with_cookies(&self, path: &str, cookies: &str) -> HttpRequest {
        let cookies = HeaderValue::from_str(cookies).expect("a cookie header");
        self.request(path).header(header::COOKIE, cookies)
    }
}

/// A form POST of `body` to `path` with `cookies`.
fn post_form(tour: &Tour, path: &str, cookies: &str, body: String) -> HttpRequest {
    let form = HeaderValue::from_static("application/x-www-form-urlencoded");
    tour.with_cookies(path, cookies)
        .method(Method::POST)
        .header(header::CONTENT_TYPE, form)
        .body(body)
}

/// The value of the cookie `name` that `response` sets.
fn set_cookie(response: &HttpResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next()?.split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_owned())
}

fn location(response: &HttpResponse) -> &str {
    response
        .headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

fn text(response: &HttpResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Opens `/login` and returns its XSRF cookie's value (also the token the form carries).
async fn xsrf_cookie(tour: &Tour, client: &AsyncHttpClient) -> String {
    let form = client.fetch(tour.request("/login")).await.unwrap();
    assert_eq!(form.code, 200);
    let token = set_cookie(&form, "_xsrf").expect("the form sets the _xsrf cookie");
    assert!(
        text(&form).contains(r#"name="_xsrf""#),
        "the form has its hidden field: {}",
        text(&form)
    );
    token
}

/// Logs `name` in through the form and returns the signed `user` cookie's value.
async fn log_in(tour: &Tour, client: &AsyncHttpClient, name: &str) -> String {
    let token = xsrf_cookie(tour, client).await;
    let body = format!("name={name}&_xsrf={}", url_escape(&token, true));
    let cookies = format!("_xsrf={token}");
    let answer = client
        .fetch(post_form(tour, "/login", &cookies, body))
        .await
        .unwrap();
    assert_eq!(answer.code, 302, "{}", text(&answer));
    assert_eq!(location(&answer), "/");
    set_cookie(&answer, "user").expect("the log-in sets the user cookie")
}

#[cyclone::test(timeout = 60)]
async fn log_in_needs_the_xsrf_token_and_a_cookie_signed_by_the_server() {
    let tour = start(&[]);
    let client = AsyncHttpClient::new();

    // Tornado's @authenticated: a visitor is sent to the log-in form.
    let anonymous = client.fetch(tour.request("/")).await.unwrap();
    assert_eq!(anonymous.code, 302);
    assert_eq!(location(&anonymous), "/login?next=%2F");

    // The form's POST without `_xsrf` is refused, and logs nobody in.
    let token = xsrf_cookie(&tour, &client).await;
    let cookies = format!("_xsrf={token}");
    let refused = client
        .fetch(post_form(&tour, "/login", &cookies, "name=mallory".into()))
        .await
        .unwrap();
    assert_eq!(refused.code, 403);
    assert_eq!(set_cookie(&refused, "user"), None);

    // With it, the user cookie opens `/`.
    let user = log_in(&tour, &client, "alice").await;
    let home = client
        .fetch(tour.with_cookies("/", &format!("user={user}")))
        .await
        .unwrap();
    assert_eq!(home.code, 200);
    assert!(text(&home).contains("Hello, alice."), "{}", text(&home));

    // A cookie the server did not sign is no log-in: a plain name, the signed value with
    // another name in it ("alice" and "admin" have base64 forms of one length), or with its
    // signature changed.
    assert!(user.contains("|8:YWxpY2U=|"), "alice in the value: {user}");
    let renamed = user.replace("|8:YWxpY2U=|", "|8:YWRtaW4=|");
    let mut resigned = user.clone();
    let last = resigned.pop().expect("a signature");
    resigned.push(if last == '0' { '1' } else { '0' });
    for forged in ["alice".to_owned(), "admin".to_owned(), renamed, resigned] {
        let answer = client
            .fetch(tour.with_cookies("/", &format!("user={forged}")))
            .await
            .unwrap();
        assert_eq!(answer.code, 302, "user={forged} was let in");
        assert_eq!(location(&answer), "/login?next=%2F");
    }
}

#[cyclone::test(timeout = 60)]
async fn twenty_concurrent_posts_count_to_twenty() {
    let tour = start(&[]);
    let client = AsyncHttpClient::with_options(ClientOptions::new().max_clients(20));
    let token = xsrf_cookie(&tour, &client).await;
    let cookies = format!("_xsrf={token}");
    let xsrf = HeaderValue::from_str(&token).unwrap();

    // Without the token the counter is not touched.
    let refused = client
        .fetch(
            tour.with_cookies("/counter", &cookies)
                .method(Method::POST)
                .body(""),
        )
        .await
        .unwrap();
    assert_eq!(refused.code, 403);

    let posts = (0..20).map(|_| {
        let request = tour
            .with_cookies("/counter", &cookies)
            .method(Method::POST)
            .body("")
            .header(header::HeaderName::from_static("x-xsrftoken"), xsrf.clone());
        client.fetch(request)
    });
    let mut counts = BTreeSet::new();
    for answer in join_all(posts).await {
        let answer = answer.unwrap();
        assert_eq!(answer.code, 200, "{}", text(&answer));
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        counts.insert(json["count"].as_u64().expect("a count"));
    }
    // Each POST saw its own number: none lost, none counted twice, the last at 20.
    assert_eq!(counts, (1..=20).collect::<BTreeSet<u64>>());
}

#[cyclone::test(timeout = 60)]
async fn home_answers_while_slow_blocks_a_pool_thread() {
    // /slow blocks a pool thread for 3 s: time enough for / to be answered on a busy machine.
    let tour = start(&["--slow-ms=3000"]);
    let client = AsyncHttpClient::new();
    let user = log_in(&tour, &client, "bob").await;

    let (pieces, mut received) = futures::channel::mpsc::unbounded();
    let slow = tour.request("/slow").streaming_callback(move |piece| {
        let _ = pieces.unbounded_send(piece);
    });
    let mut slow = std::pin::pin!(client.fetch(slow));
    // Its first line is flushed before the blocking call: then the call is under way.
    let first = match bounded(select(&mut slow, received.next())).await {
        Either::Right((piece, _)) => piece.expect("the first line of /slow"),
        Either::Left((answer, _)) => {
            panic!("/slow finished before its first line arrived (a blocked loop?): {answer:?}")
        }
    };
    assert_eq!(&first[..], b"sleeping\n");

    let home = std::pin::pin!(client.fetch(tour.with_cookies("/", &format!("user={user}"))));
    match bounded(select(&mut slow, home)).await {
        Either::Right((home, _)) => {
            let home = home.unwrap();
            assert_eq!(home.code, 200);
            assert!(text(&home).contains("Hello, bob."), "{}", text(&home));
        }
        Either::Left((answer, _)) => panic!("/slow finished before / was answered: {answer:?}"),
    }

    let answer = bounded(slow).await.unwrap();
    assert_eq!(answer.code, 200);
    let mut rest = Vec::new();
    while let Ok(piece) = received.try_recv() {
        rest.extend_from_slice(&piece);
    }
    assert_eq!(String::from_utf8_lossy(&rest), "slept 3000 ms\n");
}

/// The next message at `client`, which must be `expected`.
async fn hears(client: &mut ClientConnection, expected: &str) {
    match next_message(client).await {
        Some(Message::Text(text)) => assert_eq!(text.as_str(), expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[cyclone::test(timeout = 60)]
async fn a_message_in_the_room_reaches_all_three_members() {
    let tour = start(&[]);
    let room = format!("{}/room", tour.base.replace("http://", "ws://"));
    let mut members: Vec<ClientConnection> = Vec::new();
    for count in 1..=3 {
        members.push(bounded(websocket_connect(room.as_str())).await.unwrap());
        // Everyone in the room hears of the newcomer, the newcomer too: then it is in.
        for member in &mut members {
            hears(member, &format!("{count} here")).await;
        }
    }
    members[1]
        .write_message(Message::text("hello, room"))
        .await
        .unwrap();
    for member in &mut members {
        hears(member, "hello, room").await;
    }
}
