//! Handlers as actors that compose by forwarding the request message: an auth actor checks a
//! bearer token and forwards authorised requests to a rate limiter, which forwards what is
//! within budget to the backend actor. Each is a long-lived actor with its own state; the
//! message (request + response writer) travels, nobody copies the body.
//!
//! ```text
//! cargo run --example composition
//! curl -H 'Authorization: Bearer letmein' localhost:8888/api/hello   # 200 from the backend
//! curl localhost:8888/api/hello                                       # 401 from auth
//! for i in $(seq 12); do curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer letmein' localhost:8888/api/x; done  # 429s
//! ```

use std::time::{Duration, Instant};

use actix::prelude::*;
use cyclone::httpserver::{HttpRequestMessage, HttpResponse};
use cyclone::web::{Application, actor, url};
use http::StatusCode;

/// Checks the bearer token, then forwards to `next`.
struct Auth {
    /// Where authorised requests go.
    next: Recipient<HttpRequestMessage>,
    /// The accepted token.
    token: String,
}

impl Actor for Auth {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for Auth {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        let presented = message
            .request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if presented == Some(self.token.as_str()) {
            self.next.do_send(message);
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
    next: Recipient<HttpRequestMessage>,
    /// Requests allowed per window.
    budget: u32,
    /// Requests admitted in the current window.
    used: u32,
    /// When the current window started.
    window: Instant,
}

impl Actor for RateLimiter {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for RateLimiter {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.used = 0;
        }
        if self.used < self.budget {
            self.used += 1;
            self.next.do_send(message);
        } else {
            let _ = message
                .writer
                .respond(HttpResponse::new(StatusCode::TOO_MANY_REQUESTS).text("slow down\n"));
        }
    }
}

/// The service itself: answers with the path and how many requests it has served.
struct Backend {
    /// Requests served.
    served: u64,
}

impl Actor for Backend {
    type Context = Context<Self>;
}

impl Handler<HttpRequestMessage> for Backend {
    type Result = ();

    fn handle(&mut self, message: HttpRequestMessage, _: &mut Context<Self>) {
        self.served += 1;
        let body = format!(
            "backend: {} (request #{})\n",
            message.request.path(),
            self.served
        );
        let _ = message.writer.respond(HttpResponse::ok().text(body));
    }
}

fn main() {
    cyclone::run(async {
        let backend = Backend { served: 0 }.start();
        let limiter = RateLimiter {
            next: backend.recipient(),
            budget: 10,
            used: 0,
            window: Instant::now(),
        }
        .start();
        let auth = Auth {
            next: limiter.recipient(),
            token: "letmein".into(),
        }
        .start();
        let app =
            Application::new([url("/api/.*", actor(auth.recipient()))]).expect("valid routes");
        let server = app.listen(8888).expect("port 8888 is free");
        println!("listening on http://localhost:8888/api/ (token: letmein)");
        let _ = server.serve_until_signal(Duration::from_secs(5)).await;
    });
}
