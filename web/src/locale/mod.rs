//! Tornado's `tornado.locale`: translations and locale-aware formatting.
//!
//! - [`Translations`]: the catalogs of an application (Tornado's module state:
//!   `load_translations`, `load_gettext_translations`, `set_default_locale`,
//!   `get_supported_locales`), given to it with
//!   [`Settings::translations`](crate::Settings::translations).
//! - [`Locale`]: one locale (Tornado's `Locale`): [`translate`](Locale::translate) with plural
//!   forms ([`translate_plural`](Locale::translate_plural)) and contexts
//!   ([`pgettext`](Locale::pgettext)), [`format_date`](Locale::format_date),
//!   [`format_day`](Locale::format_day), [`list`](Locale::list),
//!   [`friendly_number`](Locale::friendly_number), in Tornado's English wording.
//! - On a request: [`RequestContext::locale`](crate::RequestContext::locale) (Tornado's
//!   `self.locale`), [`get_browser_locale`](crate::RequestContext::get_browser_locale)
//!   (`Accept-Language` with q-values) and the
//!   [`Settings::user_locale`](crate::Settings::user_locale) hook (Tornado's overridden
//!   `get_user_locale`). Templates get `locale`, `_` and `pgettext`.
//!
//! Messages carry Python's named placeholders, as Tornado's do (`%(name)s liked this`), so
//! the same catalogs serve both; [`interpolate`] fills them in, and in templates `_` takes
//! them as keyword arguments: `{{ _("%(name)s liked this", name=user) }}`.
//!
//! ```
//! use cyclone_web::locale::{Translations, interpolate};
//!
//! # let directory = std::env::temp_dir().join(format!("cyclone-locale-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&directory).unwrap();
//! std::fs::write(
//!     directory.join("es_LA.csv"),
//!     "\"I love you\",\"Te amo\"\n\
//!      \"%(name)s liked this\",\"A %(name)s les gustó esto\",\"plural\"\n\
//!      \"%(name)s liked this\",\"A %(name)s le gustó esto\",\"singular\"\n",
//! )?;
//! let translations = Translations::load_csv(&directory)?;
//! let spanish = translations.get(&["es-LA", "en"]);
//! assert_eq!(spanish.code(), "es_LA");
//! assert_eq!(spanish.name(), "Español");
//! assert_eq!(spanish.translate("I love you"), "Te amo");
//! let message = spanish.translate_plural("%(name)s liked this", "%(name)s liked this", 2);
//! assert_eq!(interpolate(&message, &[("name", &"Ana y Luis")]), "A Ana y Luis les gustó esto");
//! // Codes without a catalog get the default locale, whose messages are their own.
//! assert_eq!(translations.get(&["de_DE"]).translate("I love you"), "I love you");
//! # std::fs::remove_dir_all(&directory).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod catalog;
mod format;
mod names;
mod request;
pub(crate) mod template;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use catalog::Catalog;
pub use format::DateFormat;
pub(crate) use request::browser_or_default_locale;
pub use request::{UserLocaleHook, parse_accept_language};

/// Tornado's default locale: the language the application's own strings are written in.
pub const DEFAULT_LOCALE: &str = "en_US";

/// Why translations could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocaleError {
    /// A folder or file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file is not UTF-8 or UTF-16 with a byte-order mark.
    #[error("{path} is neither UTF-8 nor UTF-16 with a byte-order mark")]
    Encoding {
        /// The file.
        path: PathBuf,
    },
    /// A CSV file is malformed.
    #[error("cannot parse {path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader said.
        #[source]
        source: csv::Error,
    },
    /// A gettext catalog (`.mo` or `.po`) is malformed.
    #[error("cannot parse {path}: {message}")]
    Gettext {
        /// The file.
        path: PathBuf,
        /// What the gettext reader said.
        message: String,
    },
}

/// The translations of an application, by locale code, and its default locale (Tornado's
/// `tornado.locale` module state). A cheap handle: clones share the catalogs.
///
/// The supported locales are the catalogs' codes and the default locale, as in Tornado.
/// Without any catalog, every [`Locale`] answers each message with itself.
#[derive(Clone)]
pub struct Translations(Arc<Shared>);

/// What the handles share.
struct Shared {
    /// The default locale's code.
    default: String,
    /// Every supported locale, made once.
    locales: HashMap<String, Locale>,
}

impl std::fmt::Debug for Translations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translations")
            .field("default", &self.0.default)
            .field("supported", &self.supported_locales())
            .finish()
    }
}

impl Default for Translations {
    /// No catalogs; the default locale is `en_US`.
    fn default() -> Self {
        Translations::from_catalogs(HashMap::new(), DEFAULT_LOCALE)
    }
}

impl Translations {
    /// No catalogs; the default locale is `en_US` (Tornado before any `load_*` call).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the CSV catalogs `LOCALE.csv` in `directory` (Tornado's `load_translations`).
    ///
    /// Each row is `"message","translation"` with an optional third column, `plural`,
    /// `singular` or `unknown` (the default): a message may have a singular and a plural
    /// translation for [`Locale::translate_plural`]. Files are UTF-8 (a byte-order mark, as
    /// Excel writes, is dropped) or UTF-16 with its mark. A file whose name is no locale code
    /// (`es`, `es_GT`), and a row with another indicator, are logged and skipped, as Tornado
    /// does.
    pub fn load_csv(directory: impl AsRef<Path>) -> Result<Self, LocaleError> {
        let catalogs = catalog::load_csv_directory(directory.as_ref())?;
        Ok(Self::from_catalogs(catalogs, DEFAULT_LOCALE))
    }

    /// Reads the gettext catalogs `{directory}/{lang}/LC_MESSAGES/{domain}.mo` (Tornado's
    /// `load_gettext_translations`), with their plural rules (`Plural-Forms`) and contexts.
    /// Where a locale has no `.mo` but a `{domain}.po`, the `.po` is compiled at load (no
    /// `msgfmt` step needed). A catalog that cannot be read is logged and skipped, as Tornado
    /// does.
    pub fn load_gettext(directory: impl AsRef<Path>, domain: &str) -> Result<Self, LocaleError> {
        let catalogs = catalog::load_gettext_directory(directory.as_ref(), domain)?;
        Ok(Self::from_catalogs(catalogs, DEFAULT_LOCALE))
    }

    /// These translations with `code` as the default locale (Tornado's `set_default_locale`):
    /// the language of the application's own strings, used when no requested locale is
    /// supported. It needs no catalog.
    pub fn default_locale(self, code: impl Into<String>) -> Self {
        let code = code.into();
        let catalogs = match Arc::try_unwrap(self.0) {
            Ok(shared) => shared.into_catalogs(),
            Err(shared) => shared.clone_catalogs(),
        };
        Self::from_catalogs_shared(catalogs, &code)
    }

    /// The default locale.
    pub fn default_code(&self) -> &str {
        &self.0.default
    }

    /// The supported locale codes, sorted (Tornado's `get_supported_locales`): every catalog's
    /// and the default's.
    pub fn supported_locales(&self) -> Vec<&str> {
        let codes: BTreeSet<&str> = self.0.locales.keys().map(String::as_str).collect();
        codes.into_iter().collect()
    }

    /// The closest supported locale to the first of `codes` that has one (Tornado's
    /// `locale.get(*codes)` / `Locale.get_closest`): `es-gt` is read as `es_GT`; an exact
    /// match wins, then the language alone (`es` for `es_GT`); codes with more than two parts
    /// are skipped. With no match, the default locale.
    pub fn get(&self, codes: &[&str]) -> Locale {
        for code in codes {
            if code.is_empty() {
                continue;
            }
            // A code already in a catalog's spelling (the default locale, asked for by every
            // request without `Accept-Language`) is found without the normalising copies.
            if let Some(locale) = self.0.locales.get(*code) {
                return locale.clone();
            }
            let code = code.replace('-', "_");
            let parts: Vec<&str> = code.split('_').collect();
            let language = parts[0].to_lowercase();
            let normalized = match parts.as_slice() {
                [_] => code.clone(),
                [_, region] => format!("{language}_{}", region.to_uppercase()),
                _ => continue,
            };
            if let Some(locale) = self.0.locales.get(&normalized) {
                return locale.clone();
            }
            if let Some(locale) = self.0.locales.get(&language) {
                return locale.clone();
            }
        }
        self.default_locale_value()
    }

    /// The supported locale `code` exactly (Tornado's `Locale.get`), or `None`.
    pub fn locale(&self, code: &str) -> Option<Locale> {
        self.0.locales.get(code).cloned()
    }

    /// The default locale.
    fn default_locale_value(&self) -> Locale {
        self.0
            .locales
            .get(&self.0.default)
            .cloned()
            // Unreachable: the default is always made; a fresh one is right anyway.
            .unwrap_or_else(|| Locale::new(&self.0.default, Arc::new(Catalog::Identity)))
    }

    /// Translations from loaded catalogs.
    fn from_catalogs(catalogs: HashMap<String, Catalog>, default: &str) -> Self {
        let catalogs = catalogs
            .into_iter()
            .map(|(code, catalog)| (code, Arc::new(catalog)))
            .collect();
        Self::from_catalogs_shared(catalogs, default)
    }

    /// Translations from shared catalogs: one [`Locale`] per catalog and for the default.
    fn from_catalogs_shared(catalogs: HashMap<String, Arc<Catalog>>, default: &str) -> Self {
        let mut locales: HashMap<String, Locale> = catalogs
            .into_iter()
            .map(|(code, catalog)| {
                let locale = Locale::new(&code, catalog);
                (code, locale)
            })
            .collect();
        locales
            .entry(default.to_owned())
            .or_insert_with(|| Locale::new(default, Arc::new(Catalog::Identity)));
        Translations(Arc::new(Shared {
            default: default.to_owned(),
            locales,
        }))
    }
}

impl Shared {
    /// The catalogs, taken out.
    fn into_catalogs(self) -> HashMap<String, Arc<Catalog>> {
        let default = self.default;
        self.locales
            .into_iter()
            .filter(|(code, locale)| *code != default || !locale.0.catalog_is_identity())
            .map(|(code, locale)| (code, locale.0.catalog.clone()))
            .collect()
    }

    /// The catalogs, shared.
    fn clone_catalogs(&self) -> HashMap<String, Arc<Catalog>> {
        self.locales
            .iter()
            .filter(|(code, locale)| **code != self.default || !locale.0.catalog_is_identity())
            .map(|(code, locale)| (code.clone(), locale.0.catalog.clone()))
            .collect()
    }
}

/// One locale (Tornado's `Locale`): its code and name, its translations, and formatting in
/// its language. A cheap handle.
#[derive(Clone)]
pub struct Locale(Arc<LocaleInner>);

/// A locale's data.
struct LocaleInner {
    /// `es_LA`, `fr`...
    code: String,
    /// The name in its own language, from Tornado's table; `Unknown` if not there.
    name: &'static str,
    /// Written right to left (Farsi, Arabic, Hebrew).
    rtl: bool,
    /// The translations.
    catalog: Arc<Catalog>,
    /// Month names, translated once (January first).
    months: [String; 12],
    /// Weekday names, translated once (Monday first).
    weekdays: [String; 7],
}

impl LocaleInner {
    /// Whether the catalog translates nothing.
    fn catalog_is_identity(&self) -> bool {
        matches!(*self.catalog, Catalog::Identity)
    }
}

impl std::fmt::Debug for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locale")
            .field("code", &self.0.code)
            .field("name", &self.0.name)
            .finish_non_exhaustive()
    }
}

/// English month names, the messages translated for [`Locale::format_date`].
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English weekday names, Monday first.
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl Locale {
    /// A locale with `catalog`.
    fn new(code: &str, catalog: Arc<Catalog>) -> Self {
        let translate = |message: &str| catalog.translate(message, None);
        let months = MONTHS.map(translate);
        let weekdays = WEEKDAYS.map(translate);
        Locale(Arc::new(LocaleInner {
            code: code.to_owned(),
            name: names::lookup(code).map_or("Unknown", |(_, name)| name),
            rtl: ["fa", "ar", "he"]
                .iter()
                .any(|prefix| code.starts_with(prefix)),
            catalog,
            months,
            weekdays,
        }))
    }

    /// A locale with no translations (every message is its own), for code that needs one
    /// without an application (`Locale::untranslated("en_US").format_date(..)`).
    pub fn untranslated(code: &str) -> Self {
        Self::new(code, Arc::new(Catalog::Identity))
    }

    /// The locale code, as `es_LA`.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// The locale's name in its own language (`Español`), or `Unknown` (Tornado's `name`).
    pub fn name(&self) -> &str {
        self.0.name
    }

    /// The locale's name in English (`Spanish`), or `Unknown`.
    pub fn english_name(&self) -> &str {
        names::lookup(&self.0.code).map_or("Unknown", |(english, _)| english)
    }

    /// Whether the language is written right to left (Tornado's `rtl`: `fa`, `ar`, `he`).
    pub fn rtl(&self) -> bool {
        self.0.rtl
    }

    /// The translation of `message`, or `message` itself (Tornado's `translate(message)`).
    pub fn translate(&self, message: &str) -> String {
        self.0.catalog.translate(message, None)
    }

    /// The translation of `message` for `count` things (Tornado's `translate(message,
    /// plural_message, count)`): a gettext catalog picks the form by its `Plural-Forms` rule; a
    /// CSV catalog or none picks `message` for 1 and `plural_message` otherwise.
    pub fn translate_plural(&self, message: &str, plural_message: &str, count: u64) -> String {
        self.0
            .catalog
            .translate(message, Some((plural_message, count)))
    }

    /// The translation of `message` in `context` (Tornado's `pgettext`, gettext's
    /// `msgctxt`): "right" as in law and "right" as in good are two messages. Without a
    /// translation in that context, the one without context, else `message`.
    pub fn pgettext(&self, context: &str, message: &str) -> String {
        self.0.catalog.pgettext(context, message, None)
    }

    /// [`pgettext`](Self::pgettext) with plural forms (Tornado's `pgettext(context, message,
    /// plural_message, count)`).
    pub fn pgettext_plural(
        &self,
        context: &str,
        message: &str,
        plural_message: &str,
        count: u64,
    ) -> String {
        self.0
            .catalog
            .pgettext(context, message, Some((plural_message, count)))
    }

    /// Tornado's `list(parts)`: `A, B and C`, `A and B`, `A`, or nothing, with the
    /// translated `%(commas)s and %(last)s` (Farsi joins with ` و `).
    pub fn list<S: AsRef<str>>(&self, parts: &[S]) -> String {
        match parts {
            [] => String::new(),
            [only] => only.as_ref().to_owned(),
            [init @ .., last] => {
                let comma = if self.0.code.starts_with("fa") {
                    " \u{0648} "
                } else {
                    ", "
                };
                let commas = init
                    .iter()
                    .map(AsRef::as_ref)
                    .collect::<Vec<&str>>()
                    .join(comma);
                interpolate(
                    &self.translate("%(commas)s and %(last)s"),
                    &[("commas", &commas), ("last", &last.as_ref())],
                )
            }
        }
    }

    /// Tornado's `friendly_number(value)`: `1,000,000` in English (`en`, `en_US`); other
    /// locales get the digits alone, as Tornado.
    pub fn friendly_number(&self, value: i64) -> String {
        let digits = value.unsigned_abs().to_string();
        if self.0.code != "en" && self.0.code != "en_US" {
            return value.to_string();
        }
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if value < 0 {
            grouped.push('-');
        }
        // The first group takes the digits the groups of three leave over.
        let first = match digits.len() % 3 {
            0 => 3,
            short => short,
        };
        grouped.push_str(&digits[..first]);
        for group in digits.as_bytes()[first..].chunks(3) {
            grouped.push(',');
            grouped.extend(group.iter().map(|&digit| char::from(digit)));
        }
        grouped
    }
}

/// Fills Python's named placeholders in `message` (`%(name)s`, `%(name)d`) with `values`, as
/// Tornado's `message % {"name": value}`; `%%` is a `%`. A placeholder with no value is left
/// as written, so a missing argument shows on the page rather than vanishing.
///
/// ```
/// use cyclone_web::locale::interpolate;
///
/// assert_eq!(interpolate("%(count)d new, 100%%", &[("count", &3)]), "3 new, 100%");
/// assert_eq!(interpolate("%(missing)s", &[]), "%(missing)s");
/// ```
pub fn interpolate(message: &str, values: &[(&str, &dyn Display)]) -> String {
    interpolate_with(message, |name| {
        values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
}

/// [`interpolate`] with a lookup function.
pub(crate) fn interpolate_with(message: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
            continue;
        }
        let placeholder = after.strip_prefix('(').and_then(|inner| {
            let close = inner.find(')')?;
            let name = &inner[..close];
            let kind = inner[close + 1..].chars().next()?;
            matches!(kind, 's' | 'd' | 'i' | 'r').then(|| (name, close + 2 + kind.len_utf8()))
        });
        match placeholder.and_then(|(name, length)| Some((lookup(name)?, length))) {
            Some((value, length)) => {
                out.push_str(&value);
                rest = &after[length..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
