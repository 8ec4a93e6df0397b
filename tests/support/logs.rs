//! Log capture: what `tracing` logs in a test binary, and the access-log lines an
//! `Application` writes.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use cyclone::web::Settings;

/// Everything `tracing` logs in this test binary (info and up), so a test can check that
/// something was logged. Installs the global subscriber on first use.
pub fn captured_tracing() -> CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

/// The bytes logged so far; a writer for `tracing_subscriber` (each clone appends to them).
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Whether anything logged so far contains `needle`.
    pub fn contain(&self, needle: &str) -> bool {
        String::from_utf8_lossy(&self.0.lock().unwrap()).contains(needle)
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The access-log lines an `Application` wrote, in order, each as `AccessLogEntry` displays
/// it (`200 GET / (127.0.0.1) 0.52ms`).
#[derive(Clone, Default)]
pub struct AccessLog(Arc<Mutex<Vec<String>>>);

impl AccessLog {
    /// `settings` with a log function that records into a new log; returns both.
    pub fn record(settings: Settings) -> (Settings, AccessLog) {
        let log = AccessLog::default();
        let sink = log.clone();
        let settings = settings.log_function(move |entry| {
            sink.0.lock().unwrap().push(entry.to_string());
        });
        (settings, log)
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// How many lines so far.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether nothing was logged yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
