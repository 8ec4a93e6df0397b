//! The locale names templates see (Tornado's `locale`, `_` and `pgettext` in the template
//! namespace), as minijinja objects.
//!
//! Python templates fill placeholders with `%`: `{{ _("%(n)s posts") % {"n": n} }}`. Jinja has
//! no such operator on strings, so here `_` and `pgettext` take the values as keyword
//! arguments: `{{ _("%(n)s post", "%(n)s posts", n, n=n) }}`.

use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Value, from_args};
use minijinja::{Error, ErrorKind, State};

use super::{DateFormat, Locale, interpolate_with};

/// `_(message, plural_message=None, count=None, **values)`.
pub(crate) fn translate_function(locale: &Locale) -> Value {
    Value::from_object(Translate {
        locale: locale.clone(),
        with_context: false,
    })
}

/// `pgettext(context, message, plural_message=None, count=None, **values)`.
pub(crate) fn pgettext_function(locale: &Locale) -> Value {
    Value::from_object(Translate {
        locale: locale.clone(),
        with_context: true,
    })
}

/// `locale`: `locale.code`, `locale.name`, `locale.rtl`, and its methods.
pub(crate) fn locale_object(locale: &Locale) -> Value {
    Value::from_object(LocaleObject(locale.clone()))
}

/// `_` or `pgettext` bound to a request's locale.
#[derive(Debug)]
struct Translate {
    /// The request's locale.
    locale: Locale,
    /// `pgettext`: the first argument is the context.
    with_context: bool,
}

impl Object for Translate {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        if self.with_context {
            let (context, message, plural, count, values): (
                String,
                String,
                Option<String>,
                Option<i64>,
                Kwargs,
            ) = from_args(args)?;
            let text = match plural_and_count(plural, count)? {
                Some((plural, count)) => self
                    .locale
                    .pgettext_plural(&context, &message, &plural, count),
                None => self.locale.pgettext(&context, &message),
            };
            Ok(fill(&text, &values))
        } else {
            let (message, plural, count, values): (String, Option<String>, Option<i64>, Kwargs) =
                from_args(args)?;
            let text = match plural_and_count(plural, count)? {
                Some((plural, count)) => self.locale.translate_plural(&message, &plural, count),
                None => self.locale.translate(&message),
            };
            Ok(fill(&text, &values))
        }
    }
}

/// A plural message needs its count, as Tornado asserts.
fn plural_and_count(
    plural: Option<String>,
    count: Option<i64>,
) -> Result<Option<(String, u64)>, Error> {
    match (plural, count) {
        (Some(plural), Some(count)) => Ok(Some((plural, count.unsigned_abs()))),
        (Some(_), None) => Err(Error::new(
            ErrorKind::MissingArgument,
            "a plural message needs its count",
        )),
        (None, _) => Ok(None),
    }
}

/// `text` with its placeholders filled from the keyword arguments.
///
/// When a value is markup (safe: a link made with `{% set %}`), the result is markup too: the
/// message and the other values are escaped here, the markup goes in as it is. Otherwise the
/// result is text, escaped by the template as any other.
fn fill(text: &str, values: &Kwargs) -> Value {
    let value_of = |name: &str| values.get::<Option<Value>>(name).ok().flatten();
    let any_markup = values
        .args()
        .any(|name| value_of(name).is_some_and(|value| value.is_safe()));
    if !any_markup {
        return Value::from(interpolate_with(text, |name| {
            value_of(name).map(|value| value.to_string())
        }));
    }
    let escaped = crate::escape::xhtml_escape(text);
    Value::from_safe_string(interpolate_with(&escaped, |name| {
        value_of(name).map(|value| {
            if value.is_safe() {
                value.to_string()
            } else {
                crate::escape::xhtml_escape(&value.to_string())
            }
        })
    }))
}

/// A request's locale in templates.
#[derive(Debug)]
struct LocaleObject(Locale);

impl Object for LocaleObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "code" => Value::from(self.0.code()),
            "name" => Value::from(self.0.name()),
            "rtl" => Value::from(self.0.rtl()),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let locale = &self.0;
        match method {
            "translate" => translate_function(locale).call(state, args),
            "pgettext" => pgettext_function(locale).call(state, args),
            "list" => {
                let (parts,): (Vec<Value>,) = from_args(args)?;
                let parts: Vec<String> = parts.iter().map(Value::to_string).collect();
                Ok(Value::from(locale.list(&parts)))
            }
            "friendly_number" => {
                let (value,): (i64,) = from_args(args)?;
                Ok(Value::from(locale.friendly_number(value)))
            }
            "format_date" => {
                let (timestamp, options): (f64, Kwargs) = from_args(args)?;
                let mut format = DateFormat::new();
                if let Some(offset) = options.get::<Option<i32>>("gmt_offset")? {
                    format = format.gmt_offset(offset);
                }
                if let Some(relative) = options.get::<Option<bool>>("relative")? {
                    format = format.relative(relative);
                }
                if let Some(shorter) = options.get::<Option<bool>>("shorter")? {
                    format = format.shorter(shorter);
                }
                if let Some(full) = options.get::<Option<bool>>("full_format")? {
                    format = format.full_format(full);
                }
                options.assert_all_used()?;
                Ok(Value::from(
                    locale.format_date(date_of(timestamp)?, &format),
                ))
            }
            "format_day" => {
                let (timestamp, options): (f64, Kwargs) = from_args(args)?;
                let offset = options.get::<Option<i32>>("gmt_offset")?.unwrap_or(0);
                let dow = options.get::<Option<bool>>("dow")?.unwrap_or(true);
                options.assert_all_used()?;
                Ok(Value::from(locale.format_day(
                    date_of(timestamp)?,
                    offset,
                    dow,
                )))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A Unix timestamp (seconds, as Tornado accepts) as a date.
fn date_of(timestamp: f64) -> Result<time::OffsetDateTime, Error> {
    let nanos = (timestamp * 1e9) as i128;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|error| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("timestamp {timestamp} out of range: {error}"),
        )
    })
}
