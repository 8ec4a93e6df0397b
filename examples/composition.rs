//! Handlers as actors that compose by forwarding the request message: an auth actor checks a
//! bearer token and forwards authorised requests to a rate limiter, which forwards what is
//! within budget to the backend actor. Each is an actor with its own state, one chain per
//! worker (`per_worker`), on the worker's own loop: a request reaching an idle actor is
//! handled by a direct call, so the chain costs little more than one handler. The message
//! (request + path arguments + writer) travels; nobody copies the body.
//!
//! ```text
//! cargo run --example composition
//! curl -H 'Authorization: Bearer letmein' localhost:8888/api/hello   # 200 from the backend
//! curl localhost:8888/api/hello                                       # 401 from auth
//! for i in $(seq 12); do curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer letmein' localhost:8888/api/x; done  # 429s
//! curl localhost:8888/direct/hello                                    # the backend alone
//! ```
//!
//! Flags: `--port N` (8888), `--budget N` requests per second per worker (10),
//! `--workers N` (one per core; the `WORKERS` environment variable too).

use std::time::{Duration, Instant};

use actix::prelude::*;
use cyclone::httpserver::{HttpRequestMessage, HttpResponse, HttpServer};
use cyclone::local::{LocalAddr, LocalContext};
use cyclone::options::{define, options, parse_command_line};
use cyclone::web::{Application, Forward, per_worker, url};
use http::StatusCode;

/// Checks the bearer token, then forwards to `next`.
struct Auth {
    /// Where authorised requests go: any target (a local actor here).
    next: Box<dyn Forward>,
    /// The accepted token.
    token: &'static str,
}

impl Actor for Auth {
    type Context = LocalContext<Self>;
}

impl Handler<HttpRequestMessage> for Auth {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut LocalContext<Self>) {
        let presented = message
            .request
            .header_str(&http::header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "));
        if presented == Some(self.token) {
            self.next.forward(message);
        } else {
            let _ = message.writer.respond(
                HttpResponse::new(StatusCode::UNAUTHORIZED).text("missing or wrong token\n"),
            );
        }
    }
}

/// Lets `budget` requests a second through to `next`; 429 beyond.
struct RateLimiter {
    /// Where admitted requests go.
    next: Box<dyn Forward>,
    /// Requests allowed per window.
    budget: u32,
    /// Requests admitted in the current window.
    used: u32,
    /// When the current window started.
    window: Instant,
}

impl Actor for RateLimiter {
    type Context = LocalContext<Self>;
}

impl Handler<HttpRequestMessage> for RateLimiter {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut LocalContext<Self>) {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.used = 0;
        }
        if self.used < self.budget {
            self.used += 1;
            self.next.forward(message);
        } else {
            let _ = message
                .writer
                .respond(HttpResponse::new(StatusCode::TOO_MANY_REQUESTS).text("slow down\n"));
        }
    }
}

/// The service itself: answers with the path and how many requests it has served.
#[derive(Default)]
struct Backend {
    /// Requests served.
    served: u64,
}

impl Actor for Backend {
    type Context = LocalContext<Self>;
}

impl Handler<HttpRequestMessage> for Backend {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut LocalContext<Self>) {
        self.served += 1;
        let body = format!(
            "backend: {} (request #{})\n",
            message.request.path(),
            self.served
        );
        let _ = message.writer.respond(HttpResponse::ok().text(body));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    define("port", 8888u16)?.help("run on the given port");
    define("budget", 10u32)?.help("requests a second the rate limiter lets through");
    define(
        "workers",
        std::env::var("WORKERS")
            .ok()
            .and_then(|workers| workers.parse().ok())
            .unwrap_or(0usize),
    )?
    .help("worker threads, 0 for one per core; WORKERS sets the default");
    parse_command_line();
    let port: u16 = options().get("port")?;
    let budget: u32 = options().get("budget")?;
    let workers: usize = options().get("workers")?;
    cyclone::run(async move {
        let app = Application::new([
            // The chain, one per worker: auth -> limiter -> backend.
            url(
                "/api/.*",
                per_worker(move || {
                    let backend = LocalAddr::start(Backend::default());
                    let limiter = LocalAddr::start(RateLimiter {
                        next: Box::new(backend),
                        budget,
                        used: 0,
                        window: Instant::now(),
                    });
                    LocalAddr::start(Auth {
                        next: Box::new(limiter),
                        token: "letmein",
                    })
                }),
            ),
            // The backend alone, for comparison.
            url(
                "/direct/.*",
                per_worker(|| LocalAddr::start(Backend::default())),
            ),
        ])?;
        let mut server = HttpServer::new(app);
        server.bind(port, Some("127.0.0.1"))?;
        server.start(workers)?;
        println!("listening on http://127.0.0.1:{port}/api/ (token: letmein)");
        server.serve_until_signal(Duration::from_secs(5)).await?;
        Ok(())
    })
}
