//! Bridges to tower: an axum router mounted under `/axum/`, the whole application wrapped in
//! tower-http's `TraceLayer` and served by cyclone's `HttpServer`, an `Application` called as
//! a `tower::Service`, and every request in a `tracing` span with its method, path, request id
//! and status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::routing::get;
use bytes::Bytes;
use cyclone::httpclient::{AsyncHttpClient, HttpRequest};
use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use cyclone::testing::ExpectLog;
use cyclone::web::tower_bridge::{TowerService, tower_service};
use cyclone::web::{Application, PathArgs, function, url};
use http_body_util::{BodyExt, Full};
use tower::Layer;
use tower_http::trace::TraceLayer;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};

fn app() -> Application {
    let axum_routes = axum::Router::new().nest(
        "/axum",
        axum::Router::new()
            .route(
                "/hello/{name}",
                get(|Path(name): Path<String>| async move { format!("hello {name} from axum") }),
            )
            .route(
                "/stream",
                get(|| async {
                    axum::body::Body::from_stream(futures::stream::iter([
                        Ok::<_, std::io::Error>(Bytes::from("one,")),
                        Ok(Bytes::from("two")),
                    ]))
                }),
            ),
    );
    Application::new([
        url("/axum/.*", tower_service(axum_routes)),
        url(
            "/",
            function(|_: HttpServerRequest, _: PathArgs| async {
                tracing::info!(target: "app", "inside the handler");
                HttpResponse::ok().text("cyclone")
            }),
        ),
    ])
    .unwrap()
}

async fn get_text(port: u16, path: &str) -> (u16, String) {
    let response = AsyncHttpClient::new()
        .fetch(HttpRequest::new(format!("http://127.0.0.1:{port}{path}")).raise_error(false))
        .await
        .unwrap();
    (
        response.code,
        String::from_utf8(response.body.to_vec()).unwrap(),
    )
}

#[cyclone::test(timeout = 20)]
async fn an_axum_router_under_axum_and_the_app_in_trace_layer() {
    // The whole application behind tower-http's TraceLayer, served by cyclone.
    let traced = TraceLayer::new_for_http().layer(app());
    let mut server = HttpServer::new(TowerService::new(traced));
    server.listen_on(0, Some("127.0.0.1")).unwrap();
    let port = server.local_addrs()[0].port();

    let traced_log = ExpectLog::new("tower_http::trace", "finished processing request");
    assert_eq!(get_text(port, "/").await, (200, "cyclone".to_owned()));
    assert_eq!(
        get_text(port, "/axum/hello/ada").await,
        (200, "hello ada from axum".to_owned())
    );
    assert_eq!(
        get_text(port, "/axum/stream").await,
        (200, "one,two".to_owned())
    );
    // axum's own 404 for a path under the mount it does not route.
    assert_eq!(get_text(port, "/axum/nothing").await.0, 404);
    // cyclone's 404 outside it.
    assert_eq!(get_text(port, "/elsewhere").await.0, 404);
    assert!(traced_log.matched() >= 5, "{:?}", traced_log.lines());
    traced_log.finish();
    server.shutdown(std::time::Duration::from_secs(1)).await;
}

#[cyclone::test]
async fn an_application_is_a_tower_service() {
    let mut app = app();
    let request = http::Request::builder()
        .uri("/axum/hello/grace")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = tower_service::Service::call(&mut app, request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"hello grace from axum");

    let missing = http::Request::builder()
        .uri("/nope")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = tower_service::Service::call(&mut app, missing)
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Each event's target and the span it was logged in.
type EventParents = Arc<Mutex<Vec<(String, Option<u64>)>>>;

/// Spans seen: their fields by span id, and the parent span of each event.
#[derive(Clone, Default)]
struct Spans {
    fields: Arc<Mutex<HashMap<u64, HashMap<String, String>>>>,
    event_parents: EventParents,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>>
    tracing_subscriber::Layer<S> for Spans
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, _cx: Context<'_, S>) {
        if attributes.metadata().target() != "cyclone::request" {
            return;
        }
        let mut fields = HashMap::new();
        attributes.record(&mut Fields(&mut fields));
        self.fields.lock().unwrap().insert(id.into_u64(), fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _cx: Context<'_, S>) {
        if let Some(fields) = self.fields.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
        let parent = cx.event_span(event).map(|span| span.id().into_u64());
        self.event_parents
            .lock()
            .unwrap()
            .push((event.metadata().target().to_owned(), parent));
    }
}

#[cyclone::test]
async fn every_request_runs_in_a_span_with_method_path_id_and_status() {
    let spans = Spans::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let server = cyclone::testing::TestServer::start(app()).unwrap();
    assert_eq!(server.fetch("/").await.unwrap().code, 200);
    assert_eq!(server.fetch("/missing").await.unwrap().code, 404);

    let fields = spans.fields.lock().unwrap().clone();
    let mut requests: Vec<&HashMap<String, String>> = fields.values().collect();
    requests.sort_by_key(|fields| fields["request_id"].parse::<u64>().unwrap());
    assert_eq!(requests.len(), 2, "{fields:?}");
    assert_eq!(requests[0]["method"], "GET");
    assert_eq!(requests[0]["path"], "\"/\"");
    assert_eq!(requests[0]["status"], "200");
    assert_eq!(requests[1]["path"], "\"/missing\"");
    assert_eq!(requests[1]["status"], "404");
    assert_ne!(requests[0]["request_id"], requests[1]["request_id"]);
    // The handler's own log line belongs to its request's span.
    let (first_id, _) = fields
        .iter()
        .find(|(_, fields)| fields["path"] == "\"/\"")
        .unwrap();
    assert!(
        spans
            .event_parents
            .lock()
            .unwrap()
            .iter()
            .any(|(target, parent)| target == "app" && *parent == Some(*first_id)),
        "the handler's event is inside the request span"
    );
    server.stop().await;
}
