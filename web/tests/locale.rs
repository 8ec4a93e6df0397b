//! tornado.locale: catalogs (CSV, .mo, .po), plural forms and contexts, Tornado's English
//! wording for dates, lists and numbers, and a request's locale from `Accept-Language` over a
//! real socket.

use std::path::PathBuf;

use cyclone_web::locale::{DateFormat, Locale, Translations, interpolate, parse_accept_language};
use cyclone_web::template::{TemplateLoader, context};
use cyclone_web::testing::TestServer;
use cyclone_web::{Application, HttpError, RequestContext, RequestHandler, Settings, handler, url};
use http::HeaderValue;
use http::header::{ACCEPT_LANGUAGE, COOKIE};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn data(folder: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/locale_data")
        .join(folder)
}

#[test]
fn csv_catalogs_translate_with_singular_and_plural_rows() {
    let translations = Translations::load_csv(data("csv")).unwrap();
    // NotALocale.csv is skipped, as Tornado skips a file whose name is no locale code.
    assert_eq!(
        translations.supported_locales(),
        ["en_US", "es_LA", "fr_FR"]
    );
    let spanish = translations.get(&["es-la"]);
    assert_eq!(spanish.code(), "es_LA");
    assert_eq!(spanish.name(), "Español");
    assert_eq!(spanish.english_name(), "Spanish");
    assert_eq!(spanish.translate("school"), "école");
    assert_eq!(
        spanish.translate_plural("%(name)s liked this", "%(name)s liked this", 1),
        "A %(name)s le gustó esto"
    );
    assert_eq!(
        spanish.translate_plural("%(name)s liked this", "%(name)s liked this", 2),
        "A %(name)s les gustó esto"
    );
    // A row with an unknown plural indicator was dropped.
    assert_eq!(spanish.translate("bad row"), "bad row");
    assert_eq!(spanish.list(&["Ana", "Luis", "Eva"]), "Ana, Luis y Eva");
    // CSV files have no contexts: the context is ignored.
    assert_eq!(spanish.pgettext("building", "school"), "école");
    // A byte-order mark (Excel's UTF-8) is not part of the first message.
    assert_eq!(translations.get(&["fr_FR"]).translate("school"), "école");
}

#[test]
fn closest_locale_is_chosen_as_tornado_chooses() {
    let translations = Translations::load_csv(data("csv")).unwrap();
    assert_eq!(translations.get(&["de_DE", "es_LA"]).code(), "es_LA");
    assert_eq!(translations.get(&["ES_la"]).code(), "es_LA");
    // `fr` alone matches a locale named `fr` only, not `fr_FR`.
    assert_eq!(translations.get(&["fr"]).code(), "en_US");
    assert_eq!(translations.get(&["a_b_c", ""]).code(), "en_US");
    assert_eq!(translations.get(&[]).code(), "en_US");
    let german_default = translations.clone().default_locale("de_DE");
    assert_eq!(german_default.get(&["it"]).code(), "de_DE");
    assert_eq!(
        german_default.supported_locales(),
        ["de_DE", "es_LA", "fr_FR"]
    );
    assert!(translations.locale("de_DE").is_none());
}

#[test]
fn gettext_catalogs_use_their_plural_rule_and_contexts() {
    let translations = Translations::load_gettext(data("gettext"), "cyclone_test").unwrap();
    assert_eq!(translations.supported_locales(), ["en_US", "fr_FR"]);
    let french = translations.get(&["fr-FR"]);
    assert_eq!(french.translate("school"), "école");
    assert_eq!(french.pgettext("law", "right"), "le droit");
    assert_eq!(french.pgettext("good", "right"), "le bien");
    assert_eq!(french.pgettext("unknown", "right"), "right");
    assert_eq!(french.pgettext("unknown", "school"), "school");
    assert_eq!(
        french.pgettext_plural("organization", "club", "clubs", 1),
        "le club"
    );
    assert_eq!(
        french.pgettext_plural("organization", "club", "clubs", 2),
        "les clubs"
    );
    assert_eq!(
        french.pgettext_plural("stick", "club", "clubs", 1),
        "le bâton"
    );
    assert_eq!(
        french.pgettext_plural("stick", "club", "clubs", 2),
        "les bâtons"
    );
    // French's rule is `n > 1`: zero apples is singular, which `count != 1` would get wrong.
    let apples = |count| {
        interpolate(
            &french.translate_plural("%(count)d apple", "%(count)d apples", count),
            &[("count", &count)],
        )
    };
    assert_eq!(apples(0), "0 pomme");
    assert_eq!(apples(1), "1 pomme");
    assert_eq!(apples(5), "5 pommes");
    // Months are translated once, and dates use the translated pattern and a 24-hour clock.
    assert_eq!(
        french.format_date(
            datetime!(2013-05-03 18:35 UTC),
            &DateFormat::new().full_format(true)
        ),
        "3 mai 2013 à 18:35"
    );
}

#[test]
fn a_po_catalog_without_mo_is_compiled_at_load() {
    let translations = Translations::load_gettext(data("po_only"), "cyclone_test").unwrap();
    let portuguese = translations.get(&["pt-br"]);
    assert_eq!(portuguese.code(), "pt_BR");
    assert_eq!(portuguese.name(), "Português (Brasil)");
    assert_eq!(portuguese.translate("school"), "escola");
    assert_eq!(
        portuguese.translate_plural("%(count)d apple", "%(count)d apples", 2),
        "%(count)d maçãs"
    );
}

#[test]
fn a_missing_folder_is_an_error() {
    let error = Translations::load_csv(data("nowhere")).unwrap_err();
    assert!(error.to_string().contains("nowhere"), "{error}");
}

/// Tornado's `EnglishTest.test_format_date`, at a fixed now.
#[test]
fn dates_in_tornados_english() {
    let english = Locale::untranslated("en_US");
    let now = datetime!(2024-03-15 12:00 UTC);
    let ago =
        |offset: Duration, format: DateFormat| english.format_date(now - offset, &format.now(now));
    let relative = DateFormat::new();
    let shorter = DateFormat::new().shorter(true);
    assert_eq!(ago(Duration::seconds(1), relative), "1 second ago");
    assert_eq!(ago(Duration::seconds(2), relative), "2 seconds ago");
    assert_eq!(ago(Duration::seconds(60), relative), "1 minute ago");
    assert_eq!(ago(Duration::minutes(2), relative), "2 minutes ago");
    // Python's round(): 2.5 minutes is 2, 3.5 is 4.
    assert_eq!(ago(Duration::seconds(150), relative), "2 minutes ago");
    assert_eq!(ago(Duration::seconds(210), relative), "4 minutes ago");
    assert_eq!(ago(Duration::minutes(50), relative), "1 hour ago");
    assert_eq!(ago(Duration::hours(2), relative), "2 hours ago");
    assert_eq!(ago(Duration::days(1), shorter), "yesterday");
    assert_eq!(ago(Duration::days(1), relative), "yesterday at 12:00 pm");
    assert_eq!(ago(Duration::days(2), shorter), "Wednesday");
    assert_eq!(
        ago(Duration::days(3) + Duration::hours(12), relative),
        "Tuesday at 12:00 am"
    );
    assert_eq!(ago(Duration::days(300), shorter), "May 20");
    assert_eq!(ago(Duration::days(300), relative), "May 20 at 12:00 pm");
    assert_eq!(ago(Duration::days(500), shorter), "November 1, 2022");
    assert_eq!(
        ago(Duration::minutes(5), DateFormat::new().relative(false)),
        "11:55 am"
    );
    assert_eq!(
        ago(Duration::minutes(5), DateFormat::new().full_format(true)),
        "March 15, 2024 at 11:55 am"
    );
    // Clock skew: less than a minute ahead is now; more is written whole.
    assert_eq!(ago(Duration::seconds(-30), relative), "0 seconds ago");
    assert_eq!(
        ago(Duration::hours(-2), relative),
        "March 15, 2024 at 2:00 pm"
    );
}

#[test]
fn gmt_offsets_move_the_readers_clock() {
    let english = Locale::untranslated("en_US");
    let date = datetime!(2013-04-28 18:35 UTC);
    let full = DateFormat::new().full_format(true);
    assert_eq!(
        english.format_date(date, &full),
        "April 28, 2013 at 6:35 pm"
    );
    // UTC+2 is -120 (JavaScript's getTimezoneOffset).
    assert_eq!(
        english.format_date(date, &full.gmt_offset(-120)),
        "April 28, 2013 at 8:35 pm"
    );
    assert_eq!(
        english.format_date(date, &full.gmt_offset(-360)),
        "April 29, 2013 at 12:35 am"
    );
    assert_eq!(english.format_day(date, -360, true), "Monday, April 29");
    assert_eq!(english.format_day(date, 0, true), "Sunday, April 28");
    assert_eq!(english.format_day(date, 0, false), "April 28");
    // Any offset of the value itself is the same instant.
    let in_tokyo = date.to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
    assert_eq!(
        english.format_date(in_tokyo, &full),
        "April 28, 2013 at 6:35 pm"
    );
    // Yesterday is the reader's yesterday: a day and a half hour before 00:30 is the day
    // before, 25.5 hours before is two days before (so its weekday), unless the reader's
    // clock puts both on the days after.
    let now = datetime!(2013-04-29 00:30 UTC);
    let relative = DateFormat::new().now(now);
    assert_eq!(
        english.format_date(datetime!(2013-04-28 00:00 UTC), &relative),
        "yesterday at 12:00 am"
    );
    let late = datetime!(2013-04-27 23:00 UTC);
    assert_eq!(english.format_date(late, &relative), "Saturday at 11:00 pm");
    assert_eq!(
        english.format_date(late, &relative.gmt_offset(-120)),
        "yesterday at 1:00 am"
    );
    // Clocks of other locales.
    assert_eq!(
        Locale::untranslated("de_DE").format_date(date, &full),
        "April 28, 2013 at 18:35"
    );
    assert_eq!(
        Locale::untranslated("zh_CN").format_date(date, &full),
        "April 28, 2013 at 下午6:35"
    );
}

#[test]
fn lists_and_numbers_in_tornados_english() {
    let english = Locale::untranslated("en_US");
    assert_eq!(english.list::<&str>(&[]), "");
    assert_eq!(english.list(&["A"]), "A");
    assert_eq!(english.list(&["A", "B"]), "A and B");
    assert_eq!(english.list(&["A", "B", "C"]), "A, B and C");
    assert_eq!(
        Locale::untranslated("fa_IR").list(&["A", "B", "C"]),
        "A و B and C"
    );
    assert!(Locale::untranslated("fa_IR").rtl());
    assert!(!english.rtl());
    assert_eq!(english.friendly_number(1_000_000), "1,000,000");
    assert_eq!(english.friendly_number(999), "999");
    assert_eq!(english.friendly_number(-1234), "-1,234");
    assert_eq!(
        Locale::untranslated("de_DE").friendly_number(1_000_000),
        "1000000"
    );
    assert_eq!(Locale::untranslated("xx").name(), "Unknown");
}

#[test]
fn accept_language_weights() {
    assert_eq!(
        parse_accept_language("da, en-gb;q=0.8, en;q=0.7"),
        ["da", "en-gb", "en"]
    );
    assert_eq!(
        parse_accept_language("en;q=0.5, fr;q=0.9, de"),
        ["de", "fr", "en"]
    );
    assert_eq!(parse_accept_language("en;q=abc, fr;q=-1, de;q=0.1"), ["de"]);
    assert!(parse_accept_language("").iter().all(|code| code.is_empty()));
}

#[test]
fn now_is_the_clock_by_default() {
    let english = Locale::untranslated("en");
    let minute_ago = OffsetDateTime::now_utc() - Duration::seconds(61);
    assert_eq!(
        english.format_date(minute_ago, &DateFormat::new()),
        "1 minute ago"
    );
    let system_time = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600);
    assert_eq!(
        english.format_date(system_time, &DateFormat::new()),
        "3 hours ago"
    );
}

/// Writes the request's locale and a translation.
#[derive(Default)]
struct Greeting;

impl RequestHandler for Greeting {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let locale = cx.locale();
        let line = format!("{} {}", locale.code(), locale.translate("school"));
        cx.write(line);
        Ok(())
    }
}

/// Renders a page with `_`, `pgettext` and `locale`.
#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.render("page.html", context! { count => 3 }).await
    }
}

fn app() -> Application {
    let translations = Translations::load_gettext(data("gettext"), "cyclone_test").unwrap();
    let loader = TemplateLoader::dict([(
        "page.html",
        "{{ locale.code }}|{{ locale.name }}|{{ _('school') }}|{{ pgettext('law', 'right') }}|\
         {{ _('%(count)d apple', '%(count)d apples', count, count=count) }}|\
         {{ pgettext('stick', 'club', 'clubs', 1) }}|{{ locale.list(['a', 'b', 'c']) }}|\
         {{ locale.friendly_number(1234567) }}|{{ locale.format_date(1367174100, full_format=true) }}|\
         {{ locale.format_day(1367174100, dow=false) }}",
    )]);
    let settings = Settings::default()
        .translations(translations)
        .template_loader(loader)
        .user_locale(|cx| {
            // A user's stored choice wins over the browser's.
            let cookie = cx.get_cookie("lang")?;
            cx.settings().translations_or_default().locale(cookie)
        });
    Application::with_settings(
        [
            url("/", handler::<Greeting>()),
            url("/page", handler::<Page>()),
        ],
        settings,
    )
    .unwrap()
}

async fn fetch_with(
    server: &TestServer,
    path: &str,
    language: Option<&str>,
    cookie: Option<&str>,
) -> String {
    let mut request = server.request(path);
    if let Some(language) = language {
        request = request.header(ACCEPT_LANGUAGE, HeaderValue::from_str(language).unwrap());
    }
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, HeaderValue::from_str(cookie).unwrap());
    }
    let response = server.fetch_request(request).await.unwrap();
    assert_eq!(response.code, 200, "{:?}", response.body);
    String::from_utf8(response.body.to_vec()).unwrap()
}

#[actix_rt::test]
async fn the_request_locale_follows_accept_language_and_the_user_hook() {
    let server = TestServer::start(app()).unwrap();
    assert_eq!(fetch_with(&server, "/", None, None).await, "en_US school");
    assert_eq!(
        fetch_with(&server, "/", Some("fr-FR"), None).await,
        "fr_FR école"
    );
    // The highest weight wins, wherever it stands.
    assert_eq!(
        fetch_with(
            &server,
            "/",
            Some("de;q=0.9, en-US;q=0.5, fr-fr;q=0.8"),
            None
        )
        .await,
        "fr_FR école"
    );
    // A weight of 0 says "not this one".
    assert_eq!(
        fetch_with(&server, "/", Some("fr-FR;q=0, en"), None).await,
        "en_US school"
    );
    // The user hook's choice wins over the header.
    assert_eq!(
        fetch_with(&server, "/", Some("en-US"), Some("lang=fr_FR")).await,
        "fr_FR école"
    );
    // The hook's `None` (an unsupported choice) falls back to the header.
    assert_eq!(
        fetch_with(&server, "/", Some("fr-FR"), Some("lang=xx")).await,
        "fr_FR école"
    );
    server.stop().await;
}

#[actix_rt::test]
async fn templates_get_locale_translate_and_pgettext() {
    let server = TestServer::start(app()).unwrap();
    assert_eq!(
        fetch_with(&server, "/page", Some("fr-FR"), None).await,
        "fr_FR|Français|école|le droit|3 pommes|le bâton|a, b and c|1234567|\
         28 April 2013 à 18:35|April 28"
    );
    assert_eq!(
        fetch_with(&server, "/page", Some("en-US"), None).await,
        "en_US|English (US)|school|right|3 apples|club|a, b and c|1,234,567|\
         April 28, 2013 at 6:35 pm|April 28"
    );
    server.stop().await;
}
