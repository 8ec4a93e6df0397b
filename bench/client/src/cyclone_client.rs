//! cyclone's `AsyncHttpClient`: one client on one loop, `concurrency` fetches in flight through
//! its `max_clients` slots, keep-alive connections from its pool.

use std::sync::Arc;

use cyclone::httpclient::{AsyncHttpClient, ClientOptions, HttpRequest};

use crate::load::{DRAIN_LIMIT, Measurement, Plan, Tally};

/// Runs the closed loop on a cyclone loop and measures it.
pub fn run(url: &str, plan: Plan) -> Result<Measurement, String> {
    // Every worker gets a slot and, between requests, an idle connection kept for it: the
    // defaults (10 slots, 10 idle per host) would queue fetches and close connections.
    let options = ClientOptions::new()
        .max_clients(plan.concurrency)
        .max_idle_per_host(plan.concurrency)
        .max_idle_total(plan.concurrency);
    // Built once and cloned per fetch, as a caller reusing one request would.
    let request = HttpRequest::new(url);
    cyclone::run(async move {
        let client = AsyncHttpClient::with_options(options);
        let tally = Tally::shared();
        let workers: Vec<_> = (0..plan.concurrency)
            .map(|_| {
                let client = client.clone();
                let request = request.clone();
                let tally = Arc::clone(&tally);
                tokio::task::spawn_local(async move {
                    while !tally.stopped() {
                        match client.fetch(request.clone()).await {
                            Ok(_) => tally.success(),
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
        client.close();
        Ok(measurement)
    })
}
