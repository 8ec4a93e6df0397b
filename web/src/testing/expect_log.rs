//! Tornado's `ExpectLog`: a test asserts that a log line was (or was not) emitted, through
//! `tracing`.

use std::sync::{Arc, Mutex};

use regex::Regex;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Captures the `tracing` events of this thread while it lives, and checks that one matching
/// its target and pattern was logged (Tornado's `ExpectLog(logger, regex)`).
///
/// The capture is this thread's (`tracing::subscriber::set_default`): a `TestServer` serves on
/// the test's own loop, so its handlers' and access log's lines are seen. Captured lines are
/// not printed.
///
/// ```
/// use cyclone_web::testing::ExpectLog;
///
/// let expected = ExpectLog::new("my_app", r"^disk \d+% full$");
/// tracing::warn!(target: "my_app::storage", "disk 93% full");
/// assert_eq!(expected.matched(), 1);
/// expected.finish(); // panics if nothing matched
///
/// let quiet = ExpectLog::new("my_app", "error").required(false);
/// quiet.assert_not_logged();
/// ```
pub struct ExpectLog {
    /// What was captured.
    state: Arc<Mutex<Captured>>,
    /// Whether [`finish`](Self::finish) (or the drop) insists on a match.
    required: bool,
    /// This thread's capture, undone on drop.
    _guard: tracing::subscriber::DefaultGuard,
}

/// The lines captured so far.
#[derive(Debug, Default)]
struct Captured {
    /// How many matched.
    matched: usize,
    /// The messages that matched.
    lines: Vec<String>,
    /// [`finish`](ExpectLog::finish) ran.
    checked: bool,
}

impl std::fmt::Debug for ExpectLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpectLog")
            .field("matched", &self.matched())
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl ExpectLog {
    /// Captures this thread's events whose target starts with `target` (Tornado's logger
    /// name; `""` for any) and whose message matches `pattern` (a regex, searched). Events of
    /// every level count; see [`with_level`](Self::with_level). An invalid pattern panics (a test bug).
    pub fn new(target: &str, pattern: &str) -> Self {
        Self::with_level(target, pattern, Level::TRACE)
    }

    /// As [`new`](Self::new), counting events at `level` or more severe only (Tornado's
    /// `level=`).
    pub fn with_level(target: &str, pattern: &str, level: Level) -> Self {
        let regex = Regex::new(pattern)
            .unwrap_or_else(|error| panic!("ExpectLog pattern {pattern:?}: {error}"));
        let state = Arc::new(Mutex::new(Captured::default()));
        let layer = Matcher {
            target: target.to_owned(),
            regex,
            level,
            state: state.clone(),
        };
        let subscriber = tracing_subscriber::registry().with(layer);
        let guard = tracing::subscriber::set_default(subscriber);
        ExpectLog {
            state,
            required: true,
            _guard: guard,
        }
    }

    /// Whether a match is required (Tornado's `required=`). Default true.
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    /// How many captured events matched so far.
    pub fn matched(&self) -> usize {
        self.lock().matched
    }

    /// The messages that matched.
    pub fn lines(&self) -> Vec<String> {
        self.lock().lines.clone()
    }

    /// Ends the capture; panics if a match was required and none came (Tornado's "did not get
    /// expected log message").
    pub fn finish(self) {
        let mut state = self.lock();
        state.checked = true;
        if self.required && state.matched == 0 {
            drop(state);
            panic!("did not get expected log message");
        }
    }

    /// Ends the capture; panics if anything matched (the line must not be logged).
    pub fn assert_not_logged(self) {
        let mut state = self.lock();
        state.checked = true;
        if state.matched > 0 {
            let lines = state.lines.clone();
            drop(state);
            panic!("unexpected log message(s): {lines:?}");
        }
    }

    /// The captured state.
    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for ExpectLog {
    fn drop(&mut self) {
        let state = self.lock();
        if self.required && !state.checked && state.matched == 0 && !std::thread::panicking() {
            drop(state);
            panic!("did not get expected log message");
        }
    }
}

/// The layer counting matching events.
struct Matcher {
    /// Target prefix.
    target: String,
    /// Message pattern.
    regex: Regex,
    /// Least severe level counted.
    level: Level,
    /// Where matches go.
    state: Arc<Mutex<Captured>>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Matcher {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let metadata = event.metadata();
        // Levels order from TRACE (greatest) to ERROR (least).
        if *metadata.level() > self.level || !metadata.target().starts_with(&self.target) {
            return;
        }
        let mut message = MessageText(String::new());
        event.record(&mut message);
        if self.regex.is_match(&message.0) {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.matched += 1;
            state.lines.push(message.0);
        }
    }
}

/// An event's `message` field as text.
struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }
}
