//! A request's locale: Tornado's `RequestHandler.locale`, `get_user_locale` (here a settings
//! hook) and `get_browser_locale` (`Accept-Language` with q-values).

use std::sync::{Arc, LazyLock};

use http::header::ACCEPT_LANGUAGE;

use super::{Locale, Translations};
use crate::handler::RequestContext;
use crate::settings::Settings;

/// Chooses a request's locale from what the application knows about its user (Tornado's
/// overridden `get_user_locale`: a stored preference, a cookie); `None` falls back to the
/// browser's `Accept-Language`. Set with [`Settings::user_locale`](crate::Settings::user_locale).
#[derive(Clone)]
pub struct UserLocaleHook(pub(crate) Arc<UserLocaleFunction>);

/// The function behind a [`UserLocaleHook`].
pub(crate) type UserLocaleFunction = dyn Fn(&RequestContext) -> Option<Locale> + Send + Sync;

impl std::fmt::Debug for UserLocaleHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserLocaleHook(..)")
    }
}

/// The translations of an application that loaded none.
static NO_TRANSLATIONS: LazyLock<Translations> = LazyLock::new(Translations::default);

impl Settings {
    /// The translations in force: [`translations`](Self::translations), else none (every
    /// message is its own, default locale `en_US`).
    pub fn translations_or_default(&self) -> &Translations {
        self.translations.as_ref().unwrap_or(&NO_TRANSLATIONS)
    }

    /// The supported locale codes (Tornado's `get_supported_locales`): the catalogs' and the
    /// default locale.
    pub fn supported_locales(&self) -> Vec<&str> {
        self.translations_or_default().supported_locales()
    }
}

/// The language ranges of an `Accept-Language` value, best first, as Tornado reads them: each
/// `code;q=0.8` with its weight (1 when absent, 0 when unreadable or negative), those of weight
/// 0 dropped, sorted by weight, ties in the order given.
///
/// ```
/// use cyclone_web::locale::parse_accept_language;
///
/// assert_eq!(
///     parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5, es;q=0"),
///     ["fr-CH", "fr", "en", "de", "*"]
/// );
/// ```
pub fn parse_accept_language(value: &str) -> Vec<&str> {
    let mut ranges: Vec<(&str, f64)> = value
        .split(',')
        .filter_map(|language| {
            let mut parts = language.trim().split(';');
            let code = parts.next()?;
            let weight = match parts.next().map(str::trim) {
                Some(parameter) if parameter.starts_with("q=") => parameter[2..]
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|weight| *weight >= 0.0 && weight.is_finite())
                    .unwrap_or(0.0),
                _ => 1.0,
            };
            (weight > 0.0).then_some((code, weight))
        })
        .collect();
    // Stable: equal weights keep the client's order.
    ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranges.into_iter().map(|(code, _)| code).collect()
}

impl RequestContext {
    /// The locale for this request (Tornado's `self.locale`): the
    /// [`user_locale`](crate::Settings::user_locale) hook's choice, else
    /// [`get_browser_locale`](Self::get_browser_locale) with the default locale.
    ///
    /// Not cached (the context has no slot for it): call it once per method and keep it.
    pub fn locale(&self) -> Locale {
        self.get_user_locale().unwrap_or_else(|| {
            browser_or_default_locale(
                self.settings().translations_or_default(),
                self.request().header_str(&ACCEPT_LANGUAGE),
            )
        })
    }

    /// The locale the [`user_locale`](crate::Settings::user_locale) hook chooses (Tornado's
    /// `get_user_locale`), if any.
    pub fn get_user_locale(&self) -> Option<Locale> {
        let hook = self.settings().user_locale.clone()?;
        (hook.0)(self)
    }

    /// The closest supported locale to the request's `Accept-Language` (Tornado's
    /// `get_browser_locale`): the ranges by weight (see [`parse_accept_language`]), else
    /// `default`.
    pub fn get_browser_locale(&self, default: &str) -> Locale {
        // One field read from the head: the header map is not built for it.
        let header = self.request().header_str(&ACCEPT_LANGUAGE);
        browser_locale(self.settings().translations_or_default(), header, default)
    }
}

/// [`RequestContext::locale`] without a user-locale hook, from the `Accept-Language` value
/// alone: the browser's choice, else the translations' default. A template namespace chooses
/// with it when a template first asks.
pub(crate) fn browser_or_default_locale(
    translations: &Translations,
    accept_language: Option<&str>,
) -> Locale {
    browser_locale(translations, accept_language, translations.default_code())
}

/// [`RequestContext::get_browser_locale`] from the `Accept-Language` value alone.
fn browser_locale(
    translations: &Translations,
    accept_language: Option<&str>,
    default: &str,
) -> Locale {
    if let Some(header) = accept_language {
        let codes = parse_accept_language(header);
        if !codes.is_empty() {
            return translations.get(&codes);
        }
    }
    translations.get(&[default])
}
