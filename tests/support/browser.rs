//! A real browser for the tests that need one: Debian's headless Chromium, driven through
//! chromedriver (started by the test on a free loopback port, killed by the guard) with the
//! `fantoccini` WebDriver client.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, Locator};
use futures::FutureExt;
use sha2::{Digest, Sha256};
use tokio::time::error::Elapsed;

/// What to install when the browser is missing.
pub const PACKAGES: &str = "apt-get install -y chromium chromium-driver";

/// The most chromedriver may take to listen (generous: only a failing run waits it out, and a
/// loaded machine starts it slowly).
pub const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// The most one page or element may take to appear ([`wait_for`]).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

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

/// Headless Chromium with nothing that reaches the network, in the fresh profile `profile`,
/// with `extra` command-line switches (a certificate to trust, say).
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

/// `sha256//`-less base64 of the SHA-256 of the key's SubjectPublicKeyInfo, as Chromium's
/// `--ignore-certificate-errors-spki-list` takes it.
pub fn spki_hash(key_pem: &str) -> String {
    let key = rcgen::KeyPair::from_pem(key_pem).expect("the test key");
    let digest = Sha256::digest(key.public_key_der());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The switch that has Chromium trust the certificate of `key_pem` (a test server's key) by
/// its public key's hash: the narrowest way to trust one key, for the tests served over TLS.
pub fn trust_key(key_pem: &str) -> String {
    format!(
        "--ignore-certificate-errors-spki-list={}",
        spki_hash(key_pem)
    )
}

/// One test's browsers: chromedriver, its Chromium sessions and the scratch directory that
/// holds their profiles. Every browser test starts them the same way, and must close them
/// however its scenario ends (Chromium outlives a killed chromedriver), so [`Browsers::run`]
/// does both.
pub struct Browsers {
    /// The sessions, one a profile, in the order asked for.
    sessions: Vec<Client>,
    /// chromedriver, killed once the sessions are closed.
    driver: Driver,
    /// The scratch directory of the profiles, removed at the end.
    dir: PathBuf,
}

impl Browsers {
    /// Starts chromedriver (`binaries` from [`require_browser`]) and one headless Chromium
    /// session for each of `profiles` (a directory of that name in `dir`), with the `extra`
    /// switches ([`capabilities_with`]); each session within `limit`. `dir` is removed when
    /// the browsers close.
    pub async fn start(
        (chromium, driver): &(PathBuf, PathBuf),
        dir: PathBuf,
        profiles: &[&str],
        extra: &[String],
        limit: Duration,
    ) -> Browsers {
        let driver = Driver::start(driver);
        let mut sessions = Vec::new();
        for profile in profiles {
            let capabilities = capabilities_with(chromium, &dir.join(profile), extra);
            sessions.push(session_with(&driver, capabilities, limit).await);
        }
        Browsers {
            sessions,
            driver,
            dir,
        }
    }

    /// One session that trusts the test server certificate of `key_pem` ([`trust_key`]), its
    /// profile in the fresh scratch directory `name`: what the tests served over TLS (as
    /// HTTP/2 is, to a browser) start with.
    pub async fn trusting(
        binaries: &(PathBuf, PathBuf),
        name: &str,
        key_pem: &str,
        limit: Duration,
    ) -> Browsers {
        let dir = super::scratch::fresh_dir(name);
        Browsers::start(binaries, dir, &["profile"], &[trust_key(key_pem)], limit).await
    }

    /// Runs `scenario` on the sessions within `limit`, catching its panic, then closes the
    /// sessions and chromedriver and removes the scratch directory. The outcome goes to
    /// [`finish`] once the test has stopped its own servers.
    pub async fn run<T>(
        self,
        limit: Duration,
        scenario: impl AsyncFnOnce(&[Client]) -> T,
    ) -> Result<std::thread::Result<T>, Elapsed> {
        let run = std::panic::AssertUnwindSafe(scenario(&self.sessions)).catch_unwind();
        let outcome = tokio::time::timeout(limit, run).await;
        for browser in self.sessions {
            let _ = browser.close().await;
        }
        drop(self.driver);
        let _ = std::fs::remove_dir_all(&self.dir);
        outcome
    }
}

/// The element, once the page shows it (within [`STEP_TIMEOUT`]); on failure, the page's
/// source goes into the message, as the step that failed is seen there.
pub async fn wait_for(browser: &Client, locator: Locator<'_>) -> Element {
    match browser
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(locator)
        .await
    {
        Ok(element) => element,
        Err(error) => {
            let page = browser.source().await.unwrap_or_default();
            panic!("{locator:?} did not appear: {error}\npage:\n{page}");
        }
    }
}
