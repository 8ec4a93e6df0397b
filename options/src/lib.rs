//! Tornado's `tornado.options`: options defined anywhere in a program, set from the command
//! line (parsed by [clap](https://docs.rs/clap)) and from TOML config files, read anywhere.
//!
//! # Layout
//!
//! - [`OptionParser`]: definitions and values, [`define`](OptionParser::define) (type,
//!   default, help, metavar, group, callback, `Vec<T>` for multiple values),
//!   [`parse_command_line`](OptionParser::parse_command_line),
//!   [`parse_config_file`](OptionParser::parse_config_file) (TOML), parse callbacks, and the
//!   help grouped as Tornado's.
//! - [`options()`] and the free functions ([`define`], [`parse_command_line`],
//!   [`parse_config_file`], [`add_parse_callback`], [`print_help`]): the process-wide parser,
//!   Tornado's module-level `options`.
//! - [`OptionValue`]: the types an option can have: `bool`, integers, `f64`, `String`,
//!   `PathBuf`, `Duration` (`45s`, `1.5h`), and `Vec` of those.
//!
//! # Example
//!
//! ```
//! use cyclone_options::OptionParser;
//!
//! let options = OptionParser::new();
//! options.define("port", 8888u16)?.help("run on the given port");
//! options.define("debug", false)?.help("reload on changes");
//! options.define::<Vec<String>>("memcache_hosts", None)?.metavar("HOST:PORT");
//!
//! let rest = options.parse_command_line_from(
//!     ["server", "--port=8000", "--debug", "--memcache-hosts=a:11211,b:11211", "extra"],
//!     true,
//! )?;
//! assert_eq!(options.get::<u16>("port")?, 8000);
//! assert!(options.get::<bool>("debug")?);
//! assert_eq!(options.get::<Vec<String>>("memcache_hosts")?, ["a:11211", "b:11211"]);
//! assert_eq!(rest, ["extra"]);
//! # Ok::<(), cyclone_options::OptionsError>(())
//! ```
//!
//! # Where this differs from Tornado
//!
//! - Config files are TOML, not Python (`port = 8000`, `hosts = ["a", "b"]`), and a key that
//!   names no option is an error instead of being ignored: TOML files hold nothing else.
//! - Values are read with a type, `options.get::<u16>("port")`, not as attributes.
//! - `--name value` works as well as `--name=value` (except for `bool`, where a bare flag is
//!   `true` as in Tornado).
//! - Of Tornado's logging options only `--logging` is predefined (its levels, and `none`): the
//!   final parse installs Tornado-style logging through `tracing`. The file and rotation
//!   options (`--log-file-prefix`...) are not: a `tracing` subscriber of the program's own
//!   writes files.
//! - `define` reports a duplicate name as an error value instead of raising.

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![forbid(unsafe_code)]

mod help;
mod parser;
mod value;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

pub use parser::{Define, OptionParser};
pub use value::{Kind, OptionValue, Value};

/// Why options could not be defined, parsed or read (Tornado's `options.Error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// An option of this name is defined already.
    #[error("option {0:?} already defined")]
    Duplicate(String),
    /// No option has this name.
    #[error("unrecognized option {0:?}")]
    Unknown(String),
    /// The option has no default and was not set.
    #[error("option {0:?} has no value")]
    NoValue(String),
    /// The option is of another type than the one asked for.
    #[error("option {0:?} is of another type")]
    WrongType(String),
    /// A value could not be parsed as the option's type.
    #[error("option {name:?}: {reason}")]
    Invalid {
        /// The option.
        name: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// The command line is malformed (an unknown option, a missing value); clap's message.
    #[error("{0}")]
    CommandLine(String),
    /// `--help` was given: the help text, to print.
    #[error("help requested")]
    Help(String),
    /// A config file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A config file is not valid TOML.
    #[error("cannot parse {path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What the TOML parser said.
        message: String,
    },
}

/// The process-wide parser (Tornado's `tornado.options.options`). As Tornado's, it comes with
/// `--logging` (`debug`, `info`, `warning`, `error` or `none`; default `info`), and a final
/// parse installs Tornado-style logging at that level
/// ([`cyclone_actors::log::enable_pretty_logging`]) unless it is `none`.
static OPTIONS: LazyLock<OptionParser> = LazyLock::new(|| {
    let parser = OptionParser::new();
    if let Ok(define) = parser.define("logging", String::from("info")) {
        define
            .help("log level: debug, info, warning, error or none")
            .group("cyclone/log");
    }
    parser.add_parse_callback(|| {
        let level: String = OPTIONS
            .get("logging")
            .unwrap_or_else(|_| String::from("info"));
        if level != "none" {
            // A subscriber installed earlier (by a test, say) keeps its place.
            let _ = cyclone_actors::log::enable_pretty_logging_with(
                cyclone_actors::log::LogOptions::default().level(level),
            );
        }
    });
    parser
});

/// The process-wide parser (Tornado's `tornado.options.options`).
pub fn options() -> &'static OptionParser {
    &OPTIONS
}

/// Defines an option on the process-wide parser (Tornado's `tornado.options.define`).
///
/// ```
/// cyclone_options::define("greeting", String::from("hello"))?.help("what to say");
/// assert_eq!(cyclone_options::options().get::<String>("greeting")?, "hello");
/// # Ok::<(), cyclone_options::OptionsError>(())
/// ```
#[track_caller]
pub fn define<T: OptionValue>(
    name: &str,
    default: impl Into<Option<T>>,
) -> Result<Define<'static, T>, OptionsError> {
    options().define(name, default)
}

/// Parses the process's command line into the process-wide parser (Tornado's
/// `tornado.options.parse_command_line`); see [`OptionParser::parse_command_line`].
pub fn parse_command_line() -> Vec<String> {
    options().parse_command_line()
}

/// Reads a TOML config file into the process-wide parser (Tornado's
/// `tornado.options.parse_config_file`).
pub fn parse_config_file(path: impl AsRef<Path>, final_: bool) -> Result<(), OptionsError> {
    options().parse_config_file(path, final_)
}

/// Adds a callback run after each final parse of the process-wide parser.
pub fn add_parse_callback(callback: impl Fn() + Send + Sync + 'static) {
    options().add_parse_callback(callback);
}

/// Prints the process-wide parser's help to standard error.
pub fn print_help() {
    options().print_help();
}
