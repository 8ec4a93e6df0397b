//! The client under test for Autobahn's fuzzingserver: fetches the case count, runs every
//! case echoing what the server sends, then asks for the report.
//!
//! ```sh
//! ../shared/conformance/setup.sh autobahn
//! cargo build --release --example autobahn_client
//! ../shared/conformance/autobahn.sh --client --port 9011 -- target/release/examples/autobahn_client
//! ```
//!
//! `AUTOBAHN_URL` (default `ws://127.0.0.1:9001`) and `AUTOBAHN_AGENT` (default `cyclone`) are
//! set by `autobahn.sh`.

use cyclone::websocket::{
    ConnectRequest, DeflateConfig, Message, WebSocketConfig, websocket_connect,
};

/// Autobahn's largest messages are 16 MiB (cases 9.*); the default limit is 10 MiB.
const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

fn config() -> WebSocketConfig {
    WebSocketConfig::new()
        .max_message_size(MAX_MESSAGE_SIZE)
        .compression(Some(DeflateConfig::new()))
}

async fn case_count(url: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let mut connection = websocket_connect(format!("{url}/getCaseCount")).await?;
    match connection.read_message().await {
        Some(Message::Text(count)) => Ok(count.trim().parse()?),
        other => Err(format!("unexpected case count answer: {other:?}").into()),
    }
}

async fn run_case(url: &str, agent: &str, case: u32) {
    let request =
        ConnectRequest::new(format!("{url}/runCase?case={case}&agent={agent}")).config(config());
    let mut connection = match websocket_connect(request).await {
        Ok(connection) => connection,
        Err(error) => {
            eprintln!("case {case}: {error}");
            return;
        }
    };
    while let Some(message) = connection.read_message().await {
        if connection.write_message(message).await.is_err() {
            break;
        }
    }
}

async fn update_reports(url: &str, agent: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut connection = websocket_connect(format!("{url}/updateReports?agent={agent}")).await?;
    while connection.read_message().await.is_some() {}
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    cyclone::log::enable_pretty_logging_with(cyclone::log::LogOptions::default().level("warning"))?;
    let url = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "cyclone".into());
    actix_rt::System::new().block_on(async {
        let count = case_count(&url).await?;
        eprintln!("{count} cases");
        for case in 1..=count {
            run_case(&url, &agent, case).await;
        }
        update_reports(&url, &agent).await
    })
}
