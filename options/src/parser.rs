//! [`OptionParser`]: the defined options, their values, parsing and help (Tornado's
//! `OptionParser`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::OptionsError;
use crate::value::{self, Kind, OptionValue, Value};

/// Runs with an option's new value whenever it is set (Tornado's `callback=`).
type ValueCallback = Arc<dyn Fn(&Value) + Send + Sync>;

/// Whether a value fits an option's Rust type.
type FitsCheck = fn(&Value) -> bool;

/// Runs once parsing is final (Tornado's `add_parse_callback`).
type ParseCallback = Arc<dyn Fn() + Send + Sync>;

/// One defined option.
struct Definition {
    /// The name as defined (underscores or dashes).
    name: String,
    /// The kind of its value(s).
    kind: Kind,
    /// A list of values, comma-separated on the command line.
    multiple: bool,
    /// The value before any parse; `None` for no default.
    default: Option<Value>,
    /// The value set by a parse or [`OptionParser::set`].
    value: Option<Value>,
    /// The help text.
    help: Option<String>,
    /// The placeholder in the help (`--port=PORT`).
    metavar: Option<String>,
    /// The help section: the `group`, else the file that defined it (as Tornado).
    group: String,
    /// Called with each new value.
    callback: Option<ValueCallback>,
    /// Whether a value fits the defined Rust type (a `u16` port is kept as a `u64`).
    fits: FitsCheck,
}

/// What a parser holds.
#[derive(Default)]
struct State {
    /// Options by normalized name (dashes).
    options: BTreeMap<String, Definition>,
    /// Run after a final parse.
    parse_callbacks: Vec<ParseCallback>,
}

/// A set of options (Tornado's `OptionParser`; [`options()`](crate::options) is the
/// process-wide one Tornado calls `options`). `Send + Sync`: define at start-up, read anywhere.
///
/// Names are normalized as Tornado does: `max_body_size` and `max-body-size` are one option,
/// written with dashes on the command line.
pub struct OptionParser {
    /// Definitions, values and callbacks.
    state: Mutex<State>,
}

impl std::fmt::Debug for OptionParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("OptionParser")
            .field("options", &state.options.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Default for OptionParser {
    fn default() -> Self {
        Self::new()
    }
}

/// Tornado's name normalization: underscores become dashes.
fn normalize(name: &str) -> String {
    name.replace('_', "-")
}

impl OptionParser {
    /// A parser with no options but `--help`.
    pub fn new() -> Self {
        OptionParser {
            state: Mutex::default(),
        }
    }

    /// The state, taken over from a panicked holder (a callback that panicked left values as
    /// they were set).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Defines option `name` of type `T` (Tornado's `define`); `default` is its value until a
    /// parse sets one (`None`: no default, [`get`](Self::get) then fails). `Vec<T>` makes a
    /// `multiple` option. The returned [`Define`] sets `help`, `metavar`, `group` and
    /// `callback`. The help groups options by `group`, else by the file that defined them, as
    /// Tornado does.
    ///
    /// A name defined twice is [`OptionsError::Duplicate`].
    #[track_caller]
    pub fn define<T: OptionValue>(
        &self,
        name: &str,
        default: impl Into<Option<T>>,
    ) -> Result<Define<'_, T>, OptionsError> {
        let key = normalize(name);
        let file = std::panic::Location::caller().file().to_owned();
        let mut state = self.lock();
        if key == "help" || state.options.contains_key(&key) {
            return Err(OptionsError::Duplicate(key));
        }
        state.options.insert(
            key.clone(),
            Definition {
                name: name.to_owned(),
                kind: T::KIND,
                multiple: T::MULTIPLE,
                default: default.into().map(T::into_value),
                value: None,
                help: None,
                metavar: None,
                group: file,
                callback: None,
                fits: |value| T::from_value(value).is_some(),
            },
        );
        Ok(Define {
            parser: self,
            key,
            _type: PhantomData,
        })
    }

    /// The value of option `name` as `T` (Tornado's `options.name`): the value set, else the
    /// default.
    pub fn get<T: OptionValue>(&self, name: &str) -> Result<T, OptionsError> {
        let key = normalize(name);
        let state = self.lock();
        let option = state
            .options
            .get(&key)
            .ok_or_else(|| OptionsError::Unknown(key.clone()))?;
        let value = option
            .value
            .as_ref()
            .or(option.default.as_ref())
            .ok_or_else(|| OptionsError::NoValue(key.clone()))?;
        T::from_value(value).ok_or(OptionsError::WrongType(key))
    }

    /// Sets option `name` (Tornado's `options.name = value`), running its callback.
    pub fn set<T: OptionValue>(&self, name: &str, value: T) -> Result<(), OptionsError> {
        let key = normalize(name);
        let value = value.into_value();
        let callback = {
            let mut state = self.lock();
            let option = state
                .options
                .get_mut(&key)
                .ok_or_else(|| OptionsError::Unknown(key.clone()))?;
            if option.kind != T::KIND || option.multiple != T::MULTIPLE {
                return Err(OptionsError::WrongType(key));
            }
            option.value = Some(value.clone());
            option.callback.clone()
        };
        // Outside the lock: a callback may read options or parse a config file.
        if let Some(callback) = callback {
            callback(&value);
        }
        Ok(())
    }

    /// Parses the process's command line (Tornado's `parse_command_line()`), then runs the
    /// parse callbacks. `--help` prints the help to standard error and exits with status 0,
    /// as Tornado's does; an error prints the help and the error and exits with status 2.
    /// Returns the arguments after the options.
    pub fn parse_command_line(&self) -> Vec<String> {
        match self.parse_command_line_from(std::env::args_os(), true) {
            Ok(rest) => rest,
            Err(OptionsError::Help(help)) => {
                eprint!("{help}");
                std::process::exit(0)
            }
            Err(error) => {
                eprint!("{}", self.help(&program_name()));
                eprintln!("error: {error}");
                std::process::exit(2)
            }
        }
    }

    /// Parses `args` (the first is the program's name, as in `std::env::args`): `--name=value`
    /// or `--name value`, a bare `--flag` for a `bool`, comma-separated values (and integer
    /// ranges `1:4`) for a `multiple` option, the last of repeated options winning. Parsing
    /// stops at the first argument that is not an option, or after `--`; the rest is
    /// returned. With `final_`, the parse callbacks run (Tornado's `final=True`).
    ///
    /// `--help` returns [`OptionsError::Help`] with the help text. An unknown option, a
    /// missing or unparsable value is an error; options parsed before it keep their values.
    pub fn parse_command_line_from<I, A>(
        &self,
        args: I,
        final_: bool,
    ) -> Result<Vec<String>, OptionsError>
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let program = args
            .first()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(program_name);
        let command = self.command();
        let matches = command
            .try_get_matches_from(&args)
            .map_err(|error| OptionsError::CommandLine(error.to_string()))?;
        if matches.get_flag("help") {
            return Err(OptionsError::Help(self.help(&program)));
        }
        let keys: Vec<String> = self.lock().options.keys().cloned().collect();
        for key in keys {
            let Some(text) = matches
                .get_many::<String>(&key)
                .and_then(|mut values| values.next_back())
            else {
                continue;
            };
            self.set_from_text(&key, text)?;
        }
        let rest = matches
            .get_many::<String>("arguments")
            .map(|values| values.cloned().collect())
            .unwrap_or_default();
        if final_ {
            self.run_parse_callbacks();
        }
        Ok(rest)
    }

    /// Reads options from the TOML file at `path` (Tornado's `parse_config_file`, whose
    /// files are Python): top-level keys name options (underscores or dashes), values are of
    /// the option's type or text parsed as on the command line, arrays for `multiple`
    /// options. A key no option has is [`OptionsError::Unknown`] (a typo should not pass
    /// silently). With `final_`, the parse callbacks run.
    pub fn parse_config_file(
        &self,
        path: impl AsRef<Path>,
        final_: bool,
    ) -> Result<(), OptionsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| OptionsError::Io {
            path: path.to_owned(),
            source,
        })?;
        let table: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| OptionsError::Config {
                    path: path.to_owned(),
                    message: error.to_string(),
                })?;
        for (name, value) in &table {
            let key = normalize(name);
            let (kind, multiple, fits) = self.shape(&key)?;
            let parsed = value::from_toml(kind, multiple, value).map_err(|reason| {
                OptionsError::Invalid {
                    name: key.clone(),
                    reason,
                }
            })?;
            check_fits(&key, fits, &parsed)?;
            self.store(&key, parsed);
        }
        if final_ {
            self.run_parse_callbacks();
        }
        Ok(())
    }

    /// Adds `callback`, run after each final parse (Tornado's `add_parse_callback`).
    pub fn add_parse_callback(&self, callback: impl Fn() + Send + Sync + 'static) {
        self.lock().parse_callbacks.push(Arc::new(callback));
    }

    /// Runs the parse callbacks (Tornado's `run_parse_callbacks`).
    pub fn run_parse_callbacks(&self) {
        let callbacks = self.lock().parse_callbacks.clone();
        for callback in callbacks {
            callback();
        }
    }

    /// The help groups (Tornado's `groups()`).
    pub fn groups(&self) -> BTreeSet<String> {
        self.lock()
            .options
            .values()
            .map(|option| option.group.clone())
            .collect()
    }

    /// The options of `group` and their values as text (Tornado's `group_dict`).
    pub fn group_dict(&self, group: &str) -> BTreeMap<String, String> {
        self.lock()
            .options
            .values()
            .filter(|option| option.group == group)
            .filter_map(|option| {
                let value = option.value.as_ref().or(option.default.as_ref())?;
                Some((option.name.clone(), value.to_string()))
            })
            .collect()
    }

    /// Every option with a value, as text (Tornado's `as_dict`).
    pub fn as_dict(&self) -> BTreeMap<String, String> {
        self.lock()
            .options
            .values()
            .filter_map(|option| {
                let value = option.value.as_ref().or(option.default.as_ref())?;
                Some((option.name.clone(), value.to_string()))
            })
            .collect()
    }

    /// The help text, laid out as Tornado's `print_help`: a usage line, `--help`, then each
    /// group (sorted; a file's path or a `group` name) with its options sorted by name, the
    /// help wrapped at 79 columns and the default in parentheses.
    pub fn help(&self, program: &str) -> String {
        let state = self.lock();
        crate::help::render(
            program,
            state.options.values().map(|option| crate::help::Entry {
                group: &option.group,
                name: normalize(&option.name),
                metavar: option.metavar.as_deref(),
                help: option.help.as_deref(),
                default: option.default.as_ref().map(Value::to_string),
            }),
        )
    }

    /// Prints [`help`](Self::help) to standard error (Tornado's `print_help`).
    pub fn print_help(&self) {
        eprint!("{}", self.help(&program_name()));
    }

    /// Parses `text` into option `key` and stores it.
    fn set_from_text(&self, key: &str, text: &str) -> Result<(), OptionsError> {
        let (kind, multiple, fits) = self.shape(key)?;
        let value = value::parse(kind, multiple, text).map_err(|reason| OptionsError::Invalid {
            name: key.to_owned(),
            reason,
        })?;
        check_fits(key, fits, &value)?;
        self.store(key, value);
        Ok(())
    }

    /// Option `key`'s kind, multiplicity and type check.
    fn shape(&self, key: &str) -> Result<(Kind, bool, FitsCheck), OptionsError> {
        let state = self.lock();
        let option = state
            .options
            .get(key)
            .ok_or_else(|| OptionsError::Unknown(key.to_owned()))?;
        Ok((option.kind, option.multiple, option.fits))
    }

    /// Stores `value` in option `key` and runs its callback, outside the lock.
    fn store(&self, key: &str, value: Value) {
        let callback = {
            let mut state = self.lock();
            let Some(option) = state.options.get_mut(key) else {
                return;
            };
            option.value = Some(value.clone());
            option.callback.clone()
        };
        if let Some(callback) = callback {
            callback(&value);
        }
    }

    /// The clap command for the options defined now.
    fn command(&self) -> clap::Command {
        let state = self.lock();
        let mut command = clap::Command::new("program")
            .no_binary_name(false)
            .disable_help_flag(true)
            .disable_version_flag(true)
            .arg(
                clap::Arg::new("help")
                    .long("help")
                    .action(clap::ArgAction::SetTrue),
            )
            .arg(
                clap::Arg::new("arguments")
                    .num_args(0..)
                    .trailing_var_arg(true),
            );
        for (key, option) in &state.options {
            let mut arg = clap::Arg::new(key.clone())
                .long(key.clone())
                .action(clap::ArgAction::Append)
                .num_args(1);
            let underscored = key.replace('-', "_");
            if underscored != *key {
                arg = arg.alias(underscored);
            }
            if option.kind == Kind::Bool && !option.multiple {
                // `--debug` alone is `--debug=true`, as Tornado.
                arg = arg
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true");
            }
            command = command.arg(arg);
        }
        command
    }
}

/// An error unless `value` fits option `key`'s Rust type.
fn check_fits(key: &str, fits: FitsCheck, value: &Value) -> Result<(), OptionsError> {
    if fits(value) {
        Ok(())
    } else {
        Err(OptionsError::Invalid {
            name: key.to_owned(),
            reason: format!("{value} does not fit the option's type"),
        })
    }
}

/// The name of the running program, for the usage line.
fn program_name() -> String {
    std::env::args().next().unwrap_or_else(|| "program".into())
}

/// What [`OptionParser::define`] returns: sets the new option's help, metavar, group and
/// callback.
pub struct Define<'a, T> {
    /// The parser holding the option.
    parser: &'a OptionParser,
    /// The option's normalized name.
    key: String,
    /// The option's type, for the callback.
    _type: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Define<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Define").field("name", &self.key).finish()
    }
}

impl<T: OptionValue> Define<'_, T> {
    /// Changes the option through `change`.
    fn with(self, change: impl FnOnce(&mut Definition)) -> Self {
        if let Some(option) = self.parser.lock().options.get_mut(&self.key) {
            change(option);
        }
        self
    }

    /// The help text.
    pub fn help(self, help: impl Into<String>) -> Self {
        let help = help.into();
        self.with(|option| option.help = Some(help))
    }

    /// The value's placeholder in the help: `--port=PORT`.
    pub fn metavar(self, metavar: impl Into<String>) -> Self {
        let metavar = metavar.into();
        self.with(|option| option.metavar = Some(metavar))
    }

    /// The help section. Default: the file that called `define`.
    pub fn group(self, group: impl Into<String>) -> Self {
        let group = group.into();
        self.with(|option| option.group = group)
    }

    /// Called with the new value whenever the option is set (Tornado's `callback=`), for
    /// example `--config` reading a config file.
    pub fn callback(self, callback: impl Fn(T) + Send + Sync + 'static) -> Self {
        let callback: ValueCallback = Arc::new(move |value: &Value| {
            if let Some(value) = T::from_value(value) {
                callback(value);
            }
        });
        self.with(|option| option.callback = Some(callback))
    }
}
