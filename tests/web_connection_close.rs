//! `on_connection_close` through real sockets: a long-polling handler learns at once that its
//! client went away, as in Tornado, instead of at its next write.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use cyclone::testing::TestServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
use support::raw_http::{Client, loopback};
use support::wait;

/// How many long polls started waiting.
static STARTED: AtomicUsize = AtomicUsize::new(0);
/// How many long polls saw their client leave.
static CLOSED: AtomicUsize = AtomicUsize::new(0);

/// Waits for an event that never comes, like a chat long poll with no messages.
#[derive(Default)]
struct LongPoll;

impl RequestHandler for LongPoll {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        STARTED.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
        cx.write("never");
        Ok(())
    }

    fn on_connection_close(&mut self) {
        CLOSED.fetch_add(1, Ordering::SeqCst);
    }
}

#[actix_rt::test]
async fn a_long_poll_learns_at_once_that_its_client_left() {
    let app = Application::new([url("/poll", handler::<LongPoll>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    let mut client = Client::connect(loopback(server.port())).await;
    client
        .send(b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await;
    // The handler is waiting; nothing has been written, and the client leaves.
    wait::until("the long poll waits", || {
        STARTED.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(CLOSED.load(Ordering::SeqCst), 0);
    drop(client);
    wait::until("the long poll sees its client leave", || {
        CLOSED.load(Ordering::SeqCst) > 0
    })
    .await;
    assert_eq!(CLOSED.load(Ordering::SeqCst), 1);
    server.stop().await;
}
