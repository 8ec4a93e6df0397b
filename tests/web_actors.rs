//! Handlers as actors, over real HTTP: a running `RequestHandler` receives a message from
//! another actor between its awaits and answers with it; per-worker actors keep their own
//! state on the worker's loop; an actor forwards the one request message to a handler
//! target, which still sees its application's settings.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod support;

use actix::prelude::*;
use cyclone::testing::TestServer;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, actor, handler, handler_with,
    per_worker, url,
};
use http::StatusCode;
use support::target_actors::{Counter, TokenGate};

/// What the room sends a waiting handler.
#[derive(Message)]
#[rtype(result = "()")]
struct NewMessage(String);

/// A waiter's subscription.
#[derive(Message)]
#[rtype(result = "()")]
struct Subscribe(Recipient<NewMessage>);

/// Someone posted.
#[derive(Message)]
#[rtype(result = "usize")]
struct Post(String);

/// Tells every waiter about each post; answers a post with how many waiters it reached.
#[derive(Default)]
struct Room {
    waiters: Vec<Recipient<NewMessage>>,
}

impl Actor for Room {
    type Context = Context<Self>;
}

impl Handler<Subscribe> for Room {
    type Result = ();

    fn handle(&mut self, Subscribe(waiter): Subscribe, _: &mut Context<Self>) {
        self.waiters.push(waiter);
    }
}

impl Handler<Post> for Room {
    type Result = usize;

    fn handle(&mut self, Post(text): Post, _: &mut Context<Self>) -> usize {
        let mut reached = 0;
        for waiter in self.waiters.drain(..) {
            if waiter.try_send(NewMessage(text.clone())).is_ok() {
                reached += 1;
            }
        }
        reached
    }
}

/// Tornado's long poll: subscribes, then waits for the room's message and answers with it.
struct Updates {
    room: Addr<Room>,
}

impl RequestHandler for Updates {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        self.room.do_send(Subscribe(cx.recipient::<NewMessage>()));
        let NewMessage(text) = cx.receive::<NewMessage>().await?;
        cx.write(format!("got {text}"));
        Ok(())
    }
}

/// Posts to the room, answering with how many waiters it reached.
struct Poster {
    room: Addr<Room>,
}

impl RequestHandler for Poster {
    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let text = String::from_utf8_lossy(cx.request().body()).into_owned();
        let reached = self
            .room
            .send(Post(text))
            .await
            .map_err(HttpError::internal)?;
        cx.write(reached.to_string());
        Ok(())
    }
}

#[actix_rt::test]
async fn a_running_handler_receives_a_message_from_another_actor_and_answers_with_it() {
    let room = Room::default().start();
    let (updates_room, poster_room) = (room.clone(), room.clone());
    let app = Application::new([
        url(
            "/updates",
            handler_with(move || Updates {
                room: updates_room.clone(),
            }),
        ),
        url(
            "/post",
            handler_with(move || Poster {
                room: poster_room.clone(),
            }),
        ),
    ])
    .unwrap();
    let server = Rc::new(TestServer::start(app).unwrap());
    let waiting = {
        let server = Rc::clone(&server);
        actix_rt::spawn(async move { server.fetch("/updates").await })
    };
    // Post until the waiter has subscribed (its subscription is a message too): a post that
    // reached nobody answers 0 and is simply repeated.
    support::wait::until_async("the waiting handler to get the post", || async {
        let request = server
            .request("/post")
            .method(http::Method::POST)
            .body("hello");
        let response = server.fetch_request(request).await.unwrap();
        assert_eq!(response.code, 200);
        response.body.as_ref() == b"1"
    })
    .await;
    let answer = waiting.await.unwrap().unwrap();
    assert_eq!(answer.code, 200);
    assert_eq!(answer.body.as_ref(), b"got hello");
    if let Ok(server) = Rc::try_unwrap(server) {
        server.stop().await;
    }
}

#[actix_rt::test]
async fn a_per_worker_actor_is_started_once_per_loop_and_keeps_its_state() {
    let started = Arc::new(AtomicUsize::new(0));
    let starts = Arc::clone(&started);
    let app = Application::new([url(
        "/count",
        per_worker(move || {
            starts.fetch_add(1, Ordering::SeqCst);
            Counter { count: 0 }.start()
        }),
    )])
    .unwrap();
    // The test server serves on this one loop: one worker, one actor.
    let server = TestServer::start(app).unwrap();
    for expected in ["/count #1", "/count #2", "/count #3"] {
        let response = server.fetch("/count").await.unwrap();
        assert_eq!(response.body.as_ref(), expected.as_bytes());
    }
    assert_eq!(started.load(Ordering::SeqCst), 1);
    server.stop().await;
}

/// Reads the application's `default_host` setting, to prove it runs with its application's
/// settings even when an actor forwarded the request to it.
#[derive(Default)]
struct SettingsEcho;

impl RequestHandler for SettingsEcho {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let host = cx.settings().default_host.clone().unwrap_or_default();
        cx.write(format!("handler saw {host} for {}", cx.request().path()));
        Ok(())
    }
}

#[actix_rt::test]
async fn an_actor_forwards_the_request_message_to_a_handler_target() {
    // Lets requests with the right token through to the target, whatever kind it is.
    let gate = TokenGate {
        next: handler::<SettingsEcho>(),
        refusal: StatusCode::FORBIDDEN,
    }
    .start();
    let settings = Settings {
        default_host: Some("example.test".into()),
        ..Settings::default()
    };
    let app =
        Application::with_settings([url("/gated", actor(gate.recipient()))], settings).unwrap();
    let server = TestServer::start(app).unwrap();
    assert_eq!(server.fetch("/gated").await.unwrap().code, 403);
    let through = server.fetch("/gated?token=ok").await.unwrap();
    assert_eq!(through.code, 200);
    assert_eq!(
        through.body.as_ref(),
        b"handler saw example.test for /gated"
    );
    server.stop().await;
}
