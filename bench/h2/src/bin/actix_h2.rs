//! actix-web serving `GET /` -> `Hello, world` over h2c with prior knowledge (and HTTP/1.1) on
//! `$PORT`, or over TLS (ALPN h2) with `$CERTFILE`/`$KEYFILE`; `$WORKERS` workers.

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = cyclone_h2_peers::port();
    let server = HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("text/plain")
                    .body("Hello, world")
            }),
        )
    })
    .workers(cyclone_h2_peers::workers())
    .max_connection_rate(4096);
    let server = match cyclone_h2_peers::tls_config() {
        Some(tls) => server.bind_rustls_0_23(("127.0.0.1", port), tls)?,
        None => server.bind_auto_h2c(("127.0.0.1", port))?,
    };
    server.run().await
}
