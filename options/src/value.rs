//! What an option holds: [`OptionValue`], the Rust types an option may have, and [`Value`],
//! how they are kept, parsed from text (the command line) and from TOML (config files).

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

/// The kinds of value an option can hold (Tornado's `type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// `true` / `false`; a bare `--flag` is `true`.
    Bool,
    /// A signed integer.
    Int,
    /// An unsigned integer.
    UInt,
    /// A floating-point number.
    Float,
    /// Text.
    Str,
    /// A file system path.
    Path,
    /// A duration, written as Tornado writes a `timedelta`: `45s`, `1.5h`, `1h30m`, `100ms`.
    Duration,
}

impl Kind {
    /// The name shown in errors.
    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int => "integer",
            Kind::UInt => "non-negative integer",
            Kind::Float => "number",
            Kind::Str => "string",
            Kind::Path => "path",
            Kind::Duration => "duration",
        }
    }
}

/// A value an option holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A [`Kind::Bool`].
    Bool(bool),
    /// A [`Kind::Int`].
    Int(i64),
    /// A [`Kind::UInt`].
    UInt(u64),
    /// A [`Kind::Float`].
    Float(f64),
    /// A [`Kind::Str`].
    Str(String),
    /// A [`Kind::Path`].
    Path(PathBuf),
    /// A [`Kind::Duration`].
    Duration(Duration),
    /// The values of a `multiple` option.
    List(Vec<Value>),
}

impl std::fmt::Display for Value {
    /// As the help text shows defaults: `8888`, `true`, `45s`, `a,b`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bool(value) => write!(f, "{value}"),
            Value::Int(value) => write!(f, "{value}"),
            Value::UInt(value) => write!(f, "{value}"),
            Value::Float(value) => write!(f, "{value}"),
            Value::Str(value) => f.write_str(value),
            Value::Path(value) => write!(f, "{}", value.display()),
            Value::Duration(value) => write!(f, "{value:?}"),
            Value::List(values) => {
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{value}")?;
                }
                Ok(())
            }
        }
    }
}

/// A Rust type an option can have: `bool`, the integers, `f64`, `String`, `PathBuf`,
/// `Duration`, and `Vec` of one of those for a `multiple` option.
pub trait OptionValue: Sized + 'static {
    /// The kind of value (of each element, for a `Vec`).
    const KIND: Kind;
    /// Whether this is a `multiple` option's list.
    const MULTIPLE: bool = false;
    /// Into the kept form.
    fn into_value(self) -> Value;
    /// From the kept form; `None` if it is another kind.
    fn from_value(value: &Value) -> Option<Self>;
}

macro_rules! scalar {
    ($type:ty, $kind:ident, $variant:ident, $to:expr, $from:expr) => {
        impl OptionValue for $type {
            const KIND: Kind = Kind::$kind;
            fn into_value(self) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($to)(self))
            }
            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    #[allow(clippy::redundant_closure_call)]
                    Value::$variant(inner) => ($from)(inner),
                    _ => None,
                }
            }
        }
    };
}

scalar!(bool, Bool, Bool, |v| v, |v: &bool| Some(*v));
scalar!(i64, Int, Int, |v| v, |v: &i64| Some(*v));
scalar!(i32, Int, Int, i64::from, |v: &i64| i32::try_from(*v).ok());
scalar!(u64, UInt, UInt, |v| v, |v: &u64| Some(*v));
scalar!(u32, UInt, UInt, u64::from, |v: &u64| u32::try_from(*v).ok());
scalar!(u16, UInt, UInt, u64::from, |v: &u64| u16::try_from(*v).ok());
scalar!(usize, UInt, UInt, |v: usize| v as u64, |v: &u64| {
    usize::try_from(*v).ok()
});
scalar!(f64, Float, Float, |v| v, |v: &f64| Some(*v));
scalar!(String, Str, Str, |v| v, |v: &String| Some(v.clone()));
scalar!(PathBuf, Path, Path, |v| v, |v: &PathBuf| Some(v.clone()));
scalar!(Duration, Duration, Duration, |v| v, |v: &Duration| Some(*v));

impl<T: OptionValue> OptionValue for Vec<T> {
    const KIND: Kind = T::KIND;
    const MULTIPLE: bool = true;
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(T::into_value).collect())
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(values) => values.iter().map(T::from_value).collect(),
            _ => None,
        }
    }
}

/// Parses `text` as `kind`, as Tornado's `_Option.parse`: a `multiple` option splits on
/// commas, and integers there may be ranges `lo:hi` (both ends included).
pub(crate) fn parse(kind: Kind, multiple: bool, text: &str) -> Result<Value, String> {
    if !multiple {
        return parse_one(kind, text);
    }
    let mut values = Vec::new();
    for part in text.split(',') {
        match (kind, part.split_once(':')) {
            (Kind::Int | Kind::UInt, Some((low, high))) => {
                let low = parse_integer(low)?;
                let high = parse_integer(high)?;
                for number in low..=high {
                    values.push(integer_value(kind, number)?);
                }
            }
            _ => values.push(parse_one(kind, part)?),
        }
    }
    Ok(Value::List(values))
}

/// One value of `kind` from text.
fn parse_one(kind: Kind, text: &str) -> Result<Value, String> {
    let invalid = || format!("{text:?} is not a {}", kind.name());
    Ok(match kind {
        // Tornado's _parse_bool: anything but false, 0 and f is true.
        Kind::Bool => Value::Bool(!matches!(text.to_lowercase().as_str(), "false" | "0" | "f")),
        Kind::Int | Kind::UInt => integer_value(kind, parse_integer(text)?)?,
        Kind::Float => Value::Float(text.trim().parse().map_err(|_| invalid())?),
        Kind::Str => Value::Str(text.to_owned()),
        Kind::Path => Value::Path(PathBuf::from(text)),
        Kind::Duration => Value::Duration(parse_duration(text).ok_or_else(invalid)?),
    })
}

/// An integer from text.
fn parse_integer(text: &str) -> Result<i128, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an integer"))
}

/// `number` as a value of integer `kind`, if it fits.
fn integer_value(kind: Kind, number: i128) -> Result<Value, String> {
    let out_of_range = || format!("{number} is out of range for a {}", kind.name());
    Ok(match kind {
        Kind::UInt => Value::UInt(u64::try_from(number).map_err(|_| out_of_range())?),
        _ => Value::Int(i64::try_from(number).map_err(|_| out_of_range())?),
    })
}

/// A number and an optional unit (seconds when absent), as Tornado's `_TIMEDELTA_PATTERN`.
static DURATION_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(\w*)\s*")
        .unwrap_or_else(|error| unreachable!("a fixed pattern: {error}"))
});

/// Tornado's `_parse_timedelta`: `45s`, `1.5h`, `1h 30m`, `100ms`, `2d`, `1w`; a bare number
/// is seconds. Negative totals are refused (a `Duration` cannot be negative).
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0f64;
    let mut rest = text;
    if rest.trim().is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let captures = DURATION_PART.captures(rest)?;
        let number: f64 = captures.get(1)?.as_str().parse().ok()?;
        let seconds_per_unit = match captures.get(2).map_or("", |unit| unit.as_str()) {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "ms" | "millisecond" | "milliseconds" => 1e-3,
            "us" | "microsecond" | "microseconds" => 1e-6,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "week" | "weeks" => 604_800.0,
            _ => return None,
        };
        total += number * seconds_per_unit;
        rest = &rest[captures.get(0)?.end()..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// A TOML value as `kind` (a string is parsed as on the command line, as Tornado accepts
/// strings in config files too).
pub(crate) fn from_toml(kind: Kind, multiple: bool, value: &toml::Value) -> Result<Value, String> {
    if multiple && let toml::Value::Array(items) = value {
        return items
            .iter()
            .map(|item| from_toml(kind, false, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List);
    }
    let wrong = || format!("{value} is not a {}", kind.name());
    match (kind, value) {
        (_, toml::Value::String(text)) => parse(kind, multiple, text),
        (Kind::Bool, toml::Value::Boolean(flag)) if !multiple => Ok(Value::Bool(*flag)),
        (Kind::Int | Kind::UInt, toml::Value::Integer(number)) if !multiple => {
            integer_value(kind, i128::from(*number))
        }
        (Kind::Float, toml::Value::Float(number)) if !multiple => Ok(Value::Float(*number)),
        (Kind::Float, toml::Value::Integer(number)) if !multiple => {
            Ok(Value::Float(*number as f64))
        }
        (Kind::Duration, toml::Value::Integer(seconds)) if !multiple => u64::try_from(*seconds)
            .map(|seconds| Value::Duration(Duration::from_secs(seconds)))
            .map_err(|_| wrong()),
        (Kind::Duration, toml::Value::Float(seconds)) if !multiple => {
            Duration::try_from_secs_f64(*seconds)
                .map(Value::Duration)
                .map_err(|_| wrong())
        }
        (_, other) if multiple => from_toml(kind, false, other).map(|one| Value::List(vec![one])),
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_tornado_writes_them() {
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1w"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("3 fortnights"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("-5s"), None);
    }

    #[test]
    fn multiple_integers_take_ranges() {
        assert_eq!(
            parse(Kind::UInt, true, "1:3,7").unwrap(),
            Value::List(vec![
                Value::UInt(1),
                Value::UInt(2),
                Value::UInt(3),
                Value::UInt(7)
            ])
        );
        assert!(parse(Kind::UInt, false, "-1").is_err());
        assert_eq!(parse(Kind::Bool, false, "F").unwrap(), Value::Bool(false));
        assert_eq!(parse(Kind::Bool, false, "yes").unwrap(), Value::Bool(true));
    }
}
