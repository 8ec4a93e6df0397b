//! A real browser for the tests that need one: Debian's headless Chromium, driven through
//! chromedriver (started by the test on a free loopback port, killed by the guard) with the
//! `fantoccini` WebDriver client.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;

/// What to install when the browser is missing.
pub const PACKAGES: &str = "apt-get install -y chromium chromium-driver";

/// The most chromedriver may take to listen (generous: only a failing run waits it out, and a
/// loaded machine starts it slowly).
pub const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Chromium and chromedriver, or `None` (the test then returns) when either is missing
/// outside CI; under `CI=true` a missing one fails the test naming the packages
/// (`support::deps`).
pub fn require_browser() -> Option<(PathBuf, PathBuf)> {
    let install = format!("install them with `{PACKAGES}`");
    let chromium = super::deps::require_binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        &install,
    )?;
    let driver = super::deps::require_binary("CHROMEDRIVER", &["/usr/bin/chromedriver"], &install)?;
    Some((chromium, driver))
}

/// chromedriver, run by the test on a free loopback port; killed when dropped.
pub struct Driver {
    /// The process.
    child: Child,
    /// Its WebDriver URL.
    pub url: String,
}

impl Driver {
    /// Starts `driver` and waits (at most [`DRIVER_START_TIMEOUT`]) until it listens.
    pub fn start(driver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", driver.display()));
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < DRIVER_START_TIMEOUT,
                "chromedriver did not listen within {DRIVER_START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium with nothing that reaches the network, in the fresh profile `profile`.
pub fn capabilities(chromium: &Path, profile: &Path) -> Capabilities {
    capabilities_with(chromium, profile, &[])
}

/// [`capabilities`] with `extra` command-line switches (a certificate to trust, say).
pub fn capabilities_with(chromium: &Path, profile: &Path, extra: &[String]) -> Capabilities {
    let mut options = serde_json::json!({
        "binary": chromium.display().to_string(),
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--no-first-run",
            "--no-default-browser-check",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    if let Some(args) = options["args"].as_array_mut() {
        args.extend(
            extra
                .iter()
                .map(|arg| serde_json::Value::from(arg.as_str())),
        );
    }
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    capabilities
}

/// A WebDriver session of headless Chromium (profile in `profile`), within `limit`.
pub async fn session(
    driver: &Driver,
    chromium: &Path,
    profile: &Path,
    limit: Duration,
) -> fantoccini::Client {
    session_with(driver, capabilities(chromium, profile), limit).await
}

/// A WebDriver session with `capabilities` (see [`capabilities_with`]), within `limit`.
pub async fn session_with(
    driver: &Driver,
    capabilities: Capabilities,
    limit: Duration,
) -> fantoccini::Client {
    let mut builder =
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(capabilities);
    tokio::time::timeout(limit, builder.connect(&driver.url))
        .await
        .expect("a browser session in time")
        .expect("a browser session")
}

/// Ends a browser test with the scenario's outcome: its panic again, or a failure naming
/// `limit` when it ran out of time (called after the browsers are closed, so a failing step
/// never leaves one running).
pub fn finish(
    outcome: Result<std::thread::Result<()>, tokio::time::error::Elapsed>,
    limit: Duration,
) {
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the browser scenario took more than {limit:?}"),
    }
}
