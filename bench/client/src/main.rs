//! Requests/s of cyclone's pooled `AsyncHttpClient` against hyper-util's pooled client, each
//! running a closed loop of GETs on one thread against the same server.
//!
//! ```text
//! client-bench --url http://127.0.0.1:8888/ --concurrency 64 --duration 5 --client cyclone
//! ```
//!
//! Flags: `--url` (required; plain http), `--concurrency N` (64: requests in flight at once),
//! `--duration S` (5: measured seconds), `--warmup S` (1: seconds run but not counted),
//! `--client cyclone|hyper` (required). The last line printed is
//! `RESULT client=.. rps=.. errors=.. requests=.. seconds=.. concurrency=.. client_cores=..`
//! (`client_cores`: CPU the client used in the window, per second; -1 when unknown).
//! `../client.sh` runs both clients against `bench_server`, pinned, and prints the table.

mod cyclone_client;
mod hyper_client;
mod load;

use std::process::ExitCode;
use std::time::Duration;

use load::{Measurement, Plan};

/// Which client a run drives.
#[derive(Debug, Clone, Copy)]
enum Client {
    /// `cyclone::httpclient::AsyncHttpClient` on a cyclone loop.
    Cyclone,
    /// `hyper_util::client::legacy::Client` on a current-thread tokio runtime.
    Hyper,
}

impl Client {
    /// The name printed in the result line.
    fn name(self) -> &'static str {
        match self {
            Client::Cyclone => "cyclone",
            Client::Hyper => "hyper",
        }
    }
}

/// The parsed command line.
#[derive(Debug)]
struct Args {
    /// The URL every request fetches.
    url: String,
    /// The client under test.
    client: Client,
    /// Concurrency, warm-up and measured time.
    plan: Plan,
}

const USAGE: &str = "usage: client-bench --url http://127.0.0.1:PORT/ --client cyclone|hyper \
[--concurrency 64] [--duration 5] [--warmup 1]";

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut client = None;
    let mut plan = Plan {
        concurrency: 64,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(5),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--client" => {
                client = Some(match value()?.as_str() {
                    "cyclone" => Client::Cyclone,
                    "hyper" => Client::Hyper,
                    other => return Err(format!("unknown client {other:?}")),
                })
            }
            "--concurrency" => plan.concurrency = number(&flag, &value()?)?.max(1.0) as usize,
            "--duration" => plan.duration = Duration::from_secs_f64(number(&flag, &value()?)?),
            "--warmup" => plan.warmup = Duration::from_secs_f64(number(&flag, &value()?)?),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        client: client.ok_or("--client is required")?,
        plan,
    })
}

/// A non-negative finite number.
fn number(flag: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("{flag}: not a non-negative number: {text:?}")),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let measured: Result<Measurement, String> = match args.client {
        Client::Cyclone => cyclone_client::run(&args.url, args.plan),
        Client::Hyper => hyper_client::run(&args.url, args.plan),
    };
    match measured {
        Ok(measurement) => {
            println!(
                "RESULT client={} rps={:.0} errors={} requests={} seconds={:.2} concurrency={} \
                 client_cores={:.2}",
                args.client.name(),
                measurement.rps(),
                measurement.errors,
                measurement.requests,
                measurement.elapsed.as_secs_f64(),
                args.plan.concurrency,
                measurement.cores(),
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{}: {message}", args.client.name());
            ExitCode::FAILURE
        }
    }
}
