//! Tornado's `tornado.log`: [`enable_pretty_logging`] installs a `tracing` subscriber that
//! prints every event as Tornado's `LogFormatter` does, coloured by level on a terminal:
//!
//! ```text
//! [I 261202 09:30:41 cyclone::access:87] 200 GET / (127.0.0.1) 0.52ms
//! ```
//!
//! Without a subscriber, `tracing` drops every event: a server would log nothing, not even its
//! access lines. Tornado's `enable_pretty_logging` (run by `tornado.options`) is the one call
//! that fixes that; this is its counterpart.
//!
//! ```no_run
//! cyclone_actors::log::enable_pretty_logging().expect("no other subscriber yet");
//! tracing::info!("listening on {}", 8888);
//! ```
//!
//! Differences from Tornado: times are UTC (Tornado prints local time), the "module" is the
//! event's `tracing` target, and the level comes from [`LogOptions::level`] or the
//! `CYCLONE_LOG` / `RUST_LOG` environment variables (an `EnvFilter` directive such as `info`
//! or `cyclone=debug,warn`) where Tornado reads `--logging`.

use std::fmt;
use std::io::IsTerminal;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The level used when neither [`LogOptions::level`] nor the environment says: `info`, as
/// Tornado's `--logging` default.
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The level is not a valid `EnvFilter` directive.
    #[error("invalid log level {level:?}: {message}")]
    Level {
        /// The level as given.
        level: String,
        /// The parser's complaint.
        message: String,
    },
    /// A global `tracing` subscriber is already installed.
    #[error("a tracing subscriber is already installed")]
    AlreadySet,
}

/// How [`enable_pretty_logging_with`] logs.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// The level or filter (`debug`, `info`, `warn`, `error`, `off`, or an `EnvFilter`
    /// directive); `None` reads `CYCLONE_LOG`, then `RUST_LOG`, then uses
    /// [`DEFAULT_LOG_LEVEL`].
    pub level: Option<String>,
    /// Colours: `None` colours when standard error is a terminal (Tornado's rule).
    pub color: Option<bool>,
}

impl LogOptions {
    /// Options with `level` (Tornado's `--logging=level`; `warning` and `none` are accepted
    /// as Tornado spells them).
    pub fn level(mut self, level: impl Into<String>) -> Self {
        self.level = Some(level.into());
        self
    }

    /// Forces colours on or off.
    pub fn color(mut self, color: bool) -> Self {
        self.color = Some(color);
        self
    }
}

/// Installs Tornado-style logging to standard error at the level the environment gives
/// (`CYCLONE_LOG`, `RUST_LOG`) or `info`.
pub fn enable_pretty_logging() -> Result<(), LogError> {
    enable_pretty_logging_with(LogOptions::default())
}

/// Installs Tornado-style logging with `options`.
pub fn enable_pretty_logging_with(options: LogOptions) -> Result<(), LogError> {
    let level = options
        .level
        .or_else(|| std::env::var("CYCLONE_LOG").ok())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned());
    let directive = match level.as_str() {
        "warning" => "warn",
        "none" => "off",
        other => other,
    };
    let filter = EnvFilter::try_new(directive).map_err(|error| LogError::Level {
        level: level.clone(),
        message: error.to_string(),
    })?;
    let color = options
        .color
        .unwrap_or_else(|| std::io::stderr().is_terminal());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(TornadoFormat { color })
        .try_init()
        .map_err(|_| LogError::AlreadySet)
}

/// Tornado's `LogFormatter`: `[L yymmdd HH:MM:SS module:line] message`.
#[derive(Debug, Clone, Copy)]
pub struct TornadoFormat {
    /// Colour the bracketed prefix by level.
    pub color: bool,
}

impl<S, N> FormatEvent<S, N> for TornadoFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        cx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let (letter, color) = match *metadata.level() {
            Level::ERROR => ('E', "\x1b[31m"),
            Level::WARN => ('W', "\x1b[33m"),
            Level::INFO => ('I', "\x1b[32m"),
            Level::DEBUG => ('D', "\x1b[34m"),
            Level::TRACE => ('T', "\x1b[34m"),
        };
        if self.color {
            writer.write_str(color)?;
        }
        write!(
            writer,
            "[{letter} {} {}",
            timestamp(SystemTime::now()),
            metadata.target()
        )?;
        if let Some(line) = metadata.line() {
            write!(writer, ":{line}")?;
        }
        writer.write_char(']')?;
        if self.color {
            writer.write_str("\x1b[0m")?;
        }
        writer.write_char(' ')?;
        cx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `yymmdd HH:MM:SS` in UTC (Tornado's `%y%m%d %H:%M:%S`).
fn timestamp(now: SystemTime) -> String {
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{:02}{month:02}{day:02} {:02}:{:02}:{:02}",
        year.rem_euclid(100),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_tornado_writes_them() {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_796_204_241); // 2026-12-02 09:37:21
        assert_eq!(timestamp(at), "261202 09:37:21");
        assert_eq!(timestamp(UNIX_EPOCH), "700101 00:00:00");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
