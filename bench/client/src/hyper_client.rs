//! The reference: hyper-util's legacy pooled `Client` (the engine under reqwest), its tasks on a
//! current-thread tokio runtime so that it, like cyclone's client, uses one core.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::load::{DRAIN_LIMIT, Measurement, Plan, Tally};

/// Runs the closed loop on a current-thread runtime and measures it.
pub fn run(url: &str, plan: Plan) -> Result<Measurement, String> {
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("bad url {url:?}: {error}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("tokio runtime: {error}"))?;
    runtime.block_on(async move {
        // cyclone's client sets TCP_NODELAY on its connections; so does this one.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Empty<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(plan.concurrency)
            .build(connector);
        let tally = Tally::shared();
        let workers: Vec<_> = (0..plan.concurrency)
            .map(|_| {
                let client = client.clone();
                let uri = uri.clone();
                let tally = Arc::clone(&tally);
                tokio::spawn(async move {
                    while !tally.stopped() {
                        match fetch(&client, &uri).await {
                            Ok(()) => tally.success(),
                            Err(error) => tally.failure(error),
                        }
                    }
                })
            })
            .collect();
        let measurement = tally.window(plan).await;
        for worker in workers {
            if tokio::time::timeout(DRAIN_LIMIT, worker).await.is_err() {
                return Err(format!("a request outlived the window by {DRAIN_LIMIT:?}"));
            }
        }
        Ok(measurement)
    })
}

/// One GET with the whole body read, as cyclone's `fetch` reads it; non-2xx is an error, as
/// cyclone's default `raise_error` makes it.
async fn fetch(
    client: &Client<HttpConnector, Empty<Bytes>>,
    uri: &Uri,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let response = client.get(uri.clone()).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("HTTP {status} ({} body bytes)", body.len()).into());
    }
    Ok(())
}
