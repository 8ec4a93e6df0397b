//! `on_connection_close` through real sockets: a long-polling handler learns at once that its
//! client went away, as in Tornado, instead of at its next write.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cyclone::testing::TestServer;
use cyclone::web::{Application, HttpError, RequestContext, RequestHandler, handler, url};
use tokio::io::AsyncWriteExt;

/// How many long polls saw their client leave.
static CLOSED: AtomicUsize = AtomicUsize::new(0);

/// Waits for an event that never comes, like a chat long poll with no messages.
#[derive(Default)]
struct LongPoll;

impl RequestHandler for LongPoll {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
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
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    stream
        .write_all(b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    // The handler is waiting; nothing has been written, and the client leaves.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(CLOSED.load(Ordering::SeqCst), 0);
    drop(stream);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while CLOSED.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(CLOSED.load(Ordering::SeqCst), 1);
    server.stop().await;
}
