//! Failure through real HTTP: panicking handlers answer 500 and the server goes on; blocking
//! handlers run on the pool while the loop keeps answering.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use cyclone::httpserver::HttpResponse;
use cyclone::testing::TestServer;
use cyclone::web::blocking::blocking;
use cyclone::web::{
    Application, HttpError, RequestContext, RequestHandler, Settings, function, handler, url,
};
use support::logs::AccessLog;
use support::wait::{self, WAIT};

#[derive(Default)]
struct Panics;

impl RequestHandler for Panics {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        if cx.get_argument_or("panic", "")? == "1" {
            panic!("the handler fell over");
        }
        cx.write("fine");
        Ok(())
    }
}

#[actix_rt::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    for debug in [false, true] {
        let app = Application::with_settings(
            [url("/", handler::<Panics>())],
            Settings::default().debug(debug),
        )
        .unwrap();
        let server = TestServer::start(app).unwrap();
        for _ in 0..3 {
            let response = server.fetch("/?panic=1").await.unwrap();
            assert_eq!(response.code, 500);
            let body = String::from_utf8_lossy(&response.body).into_owned();
            assert_eq!(body.contains("the handler fell over"), debug, "{body}");
            let response = server.fetch("/").await.unwrap();
            assert_eq!(response.body.as_ref(), b"fine");
        }
        server.stop().await;
    }
}

/// Panics where `?at=` says: in the method (its `write_error` renders the 500, as Tornado
/// renders uncaught exceptions), in `write_error` itself, or in `on_finish`.
#[derive(Default)]
struct PanicsEverywhere {
    at: String,
}

impl RequestHandler for PanicsEverywhere {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        self.at = cx.get_argument_or("at", "")?;
        if self.at == "method" || self.at == "write_error" {
            panic!("the method fell over");
        }
        if self.at == "streaming" {
            cx.write("head and a piece");
            cx.flush().await?;
            panic!("fell over mid-stream");
        }
        cx.write("fine");
        Ok(())
    }

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        if self.at == "write_error" {
            panic!("write_error fell over too");
        }
        cx.write(format!("custom {}", error.status.as_u16()));
    }

    fn on_finish(&mut self, _cx: &RequestContext) {
        if self.at == "on_finish" {
            panic!("on_finish fell over");
        }
    }
}

#[actix_rt::test]
async fn panics_anywhere_in_a_handler_answer_once_and_are_logged_once() {
    let (settings, log) = AccessLog::record(Settings::default());
    let app = Application::with_settings(
        [
            url("/", handler::<PanicsEverywhere>()),
            url(
                "/factory",
                cyclone::web::handler_with(|| -> PanicsEverywhere {
                    panic!("the factory fell over")
                }),
            ),
        ],
        settings,
    )
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let cases = [
        ("/?at=method", 500, "custom 500"),
        (
            "/?at=write_error",
            500,
            "<title>500: Internal Server Error</title>",
        ),
        ("/?at=on_finish", 200, "fine"),
        ("/factory", 500, "<title>500: Internal Server Error</title>"),
    ];
    for (path, status, body) in cases {
        let response = server.fetch(path).await.unwrap();
        assert_eq!(response.code, status, "{path}");
        let text = String::from_utf8_lossy(&response.body);
        assert!(text.contains(body), "{path}: {text}");
    }
    // Mid-stream, the head is gone: the response is cut, logged with the status sent.
    assert!(server.fetch("/?at=streaming").await.is_err());
    assert_eq!(server.fetch("/").await.unwrap().body.as_ref(), b"fine");
    let lines = log.lines();
    let expected = [
        "500 GET /?at=method ",
        "500 GET /?at=write_error ",
        "200 GET /?at=on_finish ",
        "500 GET /factory ",
        "200 GET /?at=streaming ",
        "200 GET / ",
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, prefix) in lines.iter().zip(expected) {
        assert!(line.starts_with(prefix), "{line} should start {prefix}");
    }
    server.stop().await;
}

/// A gate the blocking jobs wait at until the test opens it.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

#[actix_rt::test]
async fn the_loop_answers_while_four_blocking_handlers_block() {
    let gate = Arc::new(Gate::default());
    let entered = Arc::new(AtomicUsize::new(0));
    let (job_gate, job_entered) = (gate.clone(), entered.clone());
    let app = Application::new([
        url(
            "/slow",
            blocking(move |_request| {
                job_entered.fetch_add(1, Ordering::SeqCst);
                let mut open = job_gate.open.lock().unwrap();
                while !*open {
                    // Bounded: a broken test must not hang the pool forever.
                    let (guard, timeout) = job_gate.changed.wait_timeout(open, WAIT).unwrap();
                    open = guard;
                    if timeout.timed_out() {
                        break;
                    }
                }
                HttpResponse::ok().text("slow done")
            }),
        ),
        url("/panic", blocking(|_| panic!("blocking job fell over"))),
        url(
            "/fast",
            function(|_, _| async { HttpResponse::ok().text("fast") }),
        ),
    ])
    .unwrap();
    let server = std::rc::Rc::new(TestServer::start(app).unwrap());

    let slow: Vec<_> = (0..4)
        .map(|_| {
            let server = server.clone();
            actix_rt::spawn(async move { server.fetch("/slow").await.unwrap() })
        })
        .collect();
    wait::until("4 jobs are blocking", || {
        entered.load(Ordering::SeqCst) >= 4
    })
    .await;
    // Four handlers block on the pool; the loop still answers.
    for _ in 0..5 {
        let response = tokio::time::timeout(Duration::from_secs(5), server.fetch("/fast"))
            .await
            .expect("the loop is not blocked")
            .unwrap();
        assert_eq!(response.body.as_ref(), b"fast");
    }
    assert_eq!(entered.load(Ordering::SeqCst), 4);
    *gate.open.lock().unwrap() = true;
    gate.changed.notify_all();
    for request in slow {
        let response = request.await.unwrap();
        assert_eq!(response.body.as_ref(), b"slow done");
    }
    // A blocking job that panics is a 500; the pool lives on.
    assert_eq!(server.fetch("/panic").await.unwrap().code, 500);
    assert_eq!(server.fetch("/fast").await.unwrap().code, 200);
}
