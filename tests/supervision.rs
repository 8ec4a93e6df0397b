//! "An actor restarted by a supervisor keeps serving": connections on two workers talk to a
//! service actor started with `Supervisor::start`; a bad request makes the service stop itself,
//! the supervisor restarts it behind the same address, and connections (old and new) are
//! served by the fresh actor.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::prelude::*;
use cyclone::iostream::IoStream;
use cyclone::tcpserver::{ConnectionInfo, TcpServer};
use support::lines::LineClient;
use support::servers::start_tcp;
use tokio::net::TcpStream;

/// Counts hits for all connections; state is lost (reset) when it crashes and restarts.
struct Counter {
    /// Hits since the last (re)start.
    hits: u64,
    /// Incremented by `restarting`, so the test sees the supervisor at work.
    restarts: Arc<AtomicUsize>,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Supervised for Counter {
    fn restarting(&mut self, _: &mut Context<Self>) {
        self.hits = 0;
        self.restarts.fetch_add(1, Ordering::SeqCst);
    }
}

/// One request from a connection.
#[derive(Message)]
#[rtype(result = "Option<u64>")]
enum Request {
    /// Count one hit and answer the total.
    Hit,
    /// A request the service cannot handle: it stops itself, as a crash.
    Bad,
}

impl Handler<Request> for Counter {
    type Result = Option<u64>;

    fn handle(&mut self, request: Request, ctx: &mut Context<Self>) -> Option<u64> {
        match request {
            Request::Hit => {
                self.hits += 1;
                Some(self.hits)
            }
            Request::Bad => {
                ctx.stop();
                None
            }
        }
    }
}

#[actix_rt::test]
async fn connections_are_served_by_a_service_its_supervisor_restarted() {
    let restarts = Arc::new(AtomicUsize::new(0));
    let counted = restarts.clone();
    let counter = Supervisor::start(move |_| Counter {
        hits: 0,
        restarts: counted,
    });

    let mut server = TcpServer::new(
        move |mut stream: IoStream<TcpStream>, _info: ConnectionInfo| {
            let counter = counter.clone();
            async move {
                while let Ok(line) = stream.read_until(b"\n", None).await {
                    let request = if &line[..] == b"bad\n" {
                        Request::Bad
                    } else {
                        Request::Hit
                    };
                    let answer = match counter.send(request).await {
                        Ok(Some(hits)) => format!("{hits}\n"),
                        Ok(None) => "crashed\n".to_string(),
                        Err(error) => format!("unavailable: {error}\n"),
                    };
                    if stream.write(answer).await.is_err() {
                        break;
                    }
                }
            }
        },
    );
    let addr = start_tcp(&mut server, 2);

    let mut before = LineClient::connect(addr).await;
    assert_eq!(before.exchange("hit\n").await, "1\n");
    assert_eq!(before.exchange("hit\n").await, "2\n");

    let mut troublemaker = LineClient::connect(addr).await;
    assert_eq!(troublemaker.exchange("bad\n").await, "crashed\n");

    // A connection accepted after the crash, and one from before it, both reach the restarted
    // service: the count starts again from zero.
    let mut after = LineClient::connect(addr).await;
    assert_eq!(after.exchange("hit\n").await, "1\n");
    assert_eq!(before.exchange("hit\n").await, "2\n");
    assert_eq!(restarts.load(Ordering::SeqCst), 1);
    assert_eq!(server.registry().len(), 3);
}
