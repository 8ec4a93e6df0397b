//! Cookies, signed cookies (byte-compatible with Python Tornado's version 2), XSRF and the
//! `authenticated` guard, through real HTTP.
//!
//! The comparisons with Python's Tornado need it installed (`support::deps`): under CI they
//! fail without it.

mod support;

use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use cyclone::httputil::SameSite;
use cyclone::testing::TestServer;
use cyclone::web::signed::{
    DEFAULT_MAX_AGE_DAYS, SignedValueVersion, create_signed_value, decode_signed_value,
    decode_signed_value_with,
};
use cyclone::web::{
    Application, CookieOptions, CookieSecret, HttpError, RequestContext, RequestHandler, Settings,
    handler, url,
};
use http::{HeaderValue, Method, header};

#[derive(Default)]
struct Cookies;

impl RequestHandler for Cookies {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        match cx.get_argument_or("do", "")?.as_str() {
            "set" => {
                let options = CookieOptions::default()
                    .domain("example.com")
                    .path("/app")
                    .max_age(Duration::from_secs(60))
                    .secure(true)
                    .http_only(true)
                    .same_site(SameSite::None)
                    .partitioned(true);
                cx.set_cookie_with("full", "v1", &options)?;
                cx.set_cookie("plain", "v2")?;
            }
            "clear" => cx.clear_cookie("plain")?,
            "clear_all" => cx.clear_all_cookies()?,
            "sign" => cx.set_signed_cookie("user", "ada")?,
            _ => {
                let plain = cx.get_cookie("plain").unwrap_or("-").to_owned();
                let signed = cx.get_signed_cookie("user").unwrap_or_else(|| "-".into());
                cx.write(format!("plain={plain} signed={signed}"));
            }
        }
        Ok(())
    }
}

fn app(settings: Settings) -> Application {
    Application::with_settings(
        [
            url("/cookies", handler::<Cookies>()),
            url("/form", handler::<Form>()),
            url("/admin", handler::<Admin>()),
        ],
        settings,
    )
    .unwrap()
}

fn secret_settings() -> Settings {
    Settings::default().cookie_secret(CookieSecret::new("a very secret secret"))
}

fn set_cookies(response: &cyclone::httpclient::HttpResponse) -> Vec<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn cookies_carry_every_attribute_and_can_be_cleared() {
    let server = TestServer::start(app(secret_settings())).unwrap();
    let response = server.fetch("/cookies?do=set").await.unwrap();
    let cookies = set_cookies(&response);
    assert_eq!(
        cookies,
        [
            "full=v1; Domain=example.com; Path=/app; Max-Age=60; Secure; HttpOnly; SameSite=None; Partitioned"
                .to_owned(),
            "plain=v2; Path=/".to_owned()
        ],
        "attribute order is the protocol's SetCookie order"
    );
    let with_cookie = server.request("/cookies").header(
        header::COOKIE,
        HeaderValue::from_static("plain=hello; other=1"),
    );
    let response = server.fetch_request(with_cookie).await.unwrap();
    assert_eq!(response.body.as_ref(), b"plain=hello signed=-");

    let response = server.fetch("/cookies?do=clear").await.unwrap();
    let cleared = &set_cookies(&response)[0];
    assert!(cleared.starts_with("plain=; "), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(cleared.contains("Expires="), "{cleared}");

    let request = server
        .request("/cookies?do=clear_all")
        .header(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
    let response = server.fetch_request(request).await.unwrap();
    let names: Vec<String> = set_cookies(&response)
        .iter()
        .map(|cookie| cookie.split('=').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a", "b"]);
    server.stop().await;
}

#[actix_rt::test]
async fn signed_cookies_round_trip_and_reject_tampering() {
    let server = TestServer::start(app(secret_settings())).unwrap();
    let response = server.fetch("/cookies?do=sign").await.unwrap();
    let cookie = set_cookies(&response)[0].clone();
    assert!(cookie.contains("Expires="), "30 days by default: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    assert!(pair.starts_with("user=2|1:0|10:"), "{pair}");

    let request = server
        .request("/cookies")
        .header(header::COOKIE, HeaderValue::from_str(&pair).unwrap());
    let response = server.fetch_request(request).await.unwrap();
    assert_eq!(response.body.as_ref(), b"plain=- signed=ada");

    // Change one character of the signature.
    let mut tampered = pair.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let request = server
        .request("/cookies")
        .header(header::COOKIE, HeaderValue::from_str(&tampered).unwrap());
    let response = server.fetch_request(request).await.unwrap();
    assert_eq!(response.body.as_ref(), b"plain=- signed=-");
    server.stop().await;
}

#[test]
fn signed_values_expire_and_check_the_name_and_key_version() {
    let secret = CookieSecret::versioned([(0, "old"), (1, "new")]);
    let signed_at = UNIX_EPOCH + Duration::from_secs(1_300_000_000);
    let value = create_signed_value(&secret, Some(1), "name", b"value", signed_at).unwrap();
    assert!(value.starts_with("2|1:1|10:1300000000|4:name|8:dmFsdWU=|"));
    let soon = signed_at + Duration::from_secs(86_400);
    assert_eq!(
        decode_signed_value(&secret, "name", &value, 31.0, soon).as_deref(),
        Some(&b"value"[..])
    );
    assert_eq!(
        decode_signed_value(&secret, "other", &value, 31.0, soon),
        None
    );
    let late = signed_at + Duration::from_secs(32 * 86_400);
    assert_eq!(
        decode_signed_value(&secret, "name", &value, 31.0, late),
        None
    );
    let rotated = CookieSecret::versioned([(0, "old")]);
    assert_eq!(
        decode_signed_value(&rotated, "name", &value, 31.0, soon),
        None
    );
    assert!(create_signed_value(&secret, Some(9), "name", b"v", signed_at).is_err());
    // Malformed values never panic.
    for junk in [
        "",
        "2|",
        "2|1:0|",
        "2|99:0|x",
        "1|abc",
        "2|1:0|10:1300000000|4:name|",
    ] {
        assert_eq!(decode_signed_value(&secret, "name", junk, 31.0, soon), None);
    }
}

#[test]
fn signed_values_are_byte_compatible_with_python_tornado() {
    let Some(python) = support::deps::require_python_tornado() else {
        return;
    };
    let at = 1_300_000_000u64;
    let secret = CookieSecret::versioned([(0, "zero secret"), (3, "three secret")]);
    let ours = create_signed_value(
        &secret,
        Some(3),
        "session",
        "hé |:=;".as_bytes(),
        UNIX_EPOCH + Duration::from_secs(at),
    )
    .unwrap();
    let script = format!(
        r#"
import sys
from tornado.web import create_signed_value, decode_signed_value
secret = {{0: "zero secret", 3: "three secret"}}
clock = lambda: {at}
theirs = create_signed_value(secret, "session", "hé |:=;", clock=clock, key_version=3)
sys.stdout.write(theirs.decode() + "\n")
ours = sys.argv[1].encode()
sys.stdout.write(decode_signed_value(secret, "session", ours, clock=lambda: {at} + 60).decode("utf-8") + "\n")
"#
    );
    let output = Command::new(&python)
        .args(["-c", &script, &ours])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    let theirs = lines.next().unwrap();
    assert_eq!(theirs, ours, "the same bytes from the same inputs");
    assert_eq!(lines.next().unwrap(), "hé |:=;", "Tornado verifies ours");
    let decoded = decode_signed_value(
        &secret,
        "session",
        theirs,
        31.0,
        UNIX_EPOCH + Duration::from_secs(at + 60),
    );
    assert_eq!(
        decoded.as_deref(),
        Some("hé |:=;".as_bytes()),
        "we verify Tornado's"
    );
}

/// Reads the `legacy` cookie accepting Tornado's version 1 (or only version 2 with `?v2=1`).
#[derive(Default)]
struct LegacyCookie;

impl RequestHandler for LegacyCookie {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let min_version = if cx.get_argument_or("v2", "")? == "1" {
            SignedValueVersion::V2
        } else {
            SignedValueVersion::V1
        };
        let value = cx.get_signed_cookie_with("legacy", DEFAULT_MAX_AGE_DAYS, min_version);
        cx.write(value.unwrap_or_else(|| "-".into()));
        Ok(())
    }
}

#[actix_rt::test]
async fn version_1_cookies_signed_by_python_tornado_verify_when_asked_for() {
    let Some(python) = support::deps::require_python_tornado() else {
        return;
    };
    let at = 1_300_000_000u64;
    let script = format!(
        r#"
import sys, time
from tornado.web import create_signed_value
secret = "old secret"
for clock in (lambda: {at}, time.time):
    sys.stdout.write(create_signed_value(secret, "legacy", "hé |:=;", version=1, clock=clock).decode() + "\n")
"#
    );
    let output = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    let (old, fresh) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(!old.starts_with("2|"), "a version-1 value: {old}");

    let secret = CookieSecret::new("old secret");
    let when = |seconds: u64| UNIX_EPOCH + Duration::from_secs(seconds);
    let decode = |value: &str, max_age_days: f64, now, min_version| {
        decode_signed_value_with(&secret, "legacy", value, max_age_days, now, min_version)
    };
    let v1 = SignedValueVersion::V1;
    assert_eq!(
        decode(old, 31.0, when(at + 60), v1).as_deref(),
        Some("hé |:=;".as_bytes())
    );
    assert_eq!(
        decode(old, 31.0, when(at + 60), SignedValueVersion::V2),
        None
    );
    assert_eq!(
        decode_signed_value(&secret, "legacy", old, 31.0, when(at + 60)),
        None
    );
    // max_age_days: 31 days and a minute later it has expired; a longer max age accepts it.
    assert_eq!(decode(old, 31.0, when(at + 31 * 86_400 + 60), v1), None);
    assert!(decode(old, 40.0, when(at + 31 * 86_400 + 60), v1).is_some());
    // More than 31 days in the future is tampering, as Tornado says.
    assert_eq!(decode(old, 31.0, when(at - 32 * 86_400), v1), None);
    // Another name, another secret, or a changed value do not verify.
    assert_eq!(
        decode_signed_value_with(&secret, "other", old, 31.0, when(at + 60), v1),
        None
    );
    let other_secret = CookieSecret::new("new secret");
    assert_eq!(
        decode_signed_value_with(&other_secret, "legacy", old, 31.0, when(at + 60), v1),
        None
    );
    let tampered = format!("x{old}");
    assert_eq!(decode(&tampered, 31.0, when(at + 60), v1), None);
    // Version 1 has no key versions: a versioned secret cannot check it.
    let versioned = CookieSecret::versioned([(0, "old secret")]);
    assert_eq!(
        decode_signed_value_with(&versioned, "legacy", old, 31.0, when(at + 60), v1),
        None
    );

    // Through HTTP: the current one is read with min version 1, refused with 2.
    let settings = Settings::default().cookie_secret(CookieSecret::new("old secret"));
    let app =
        Application::with_settings([url("/legacy", handler::<LegacyCookie>())], settings).unwrap();
    let server = TestServer::start(app).unwrap();
    for (path, expected) in [("/legacy", "hé |:=;"), ("/legacy?v2=1", "-")] {
        let request = server.request(path).header(
            header::COOKIE,
            HeaderValue::from_str(&format!("legacy={fresh}")).unwrap(),
        );
        let response = server.fetch_request(request).await.unwrap();
        assert_eq!(
            std::str::from_utf8(&response.body).unwrap(),
            expected,
            "{path}"
        );
    }
    server.stop().await;
}

/// A form protected by XSRF.
#[derive(Default)]
struct Form;

impl RequestHandler for Form {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let html = cx.xsrf_form_html();
        cx.write(html);
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.write("accepted");
        Ok(())
    }
}

#[actix_rt::test]
async fn xsrf_tokens_are_masked_and_checked_on_unsafe_methods() {
    let server = TestServer::start(app(secret_settings().xsrf_cookies(true))).unwrap();
    let response = server.fetch("/form").await.unwrap();
    let cookie = set_cookies(&response)[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("_xsrf=2|"), "{cookie}");
    let page = String::from_utf8(response.body.to_vec()).unwrap();
    let token = page
        .split("value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(page.starts_with("<input type=\"hidden\" name=\"_xsrf\" value=\"2|"));

    // A second page with the cookie: same secret, fresh mask, no new cookie.
    let again = server
        .fetch_request(
            server
                .request("/form")
                .header(header::COOKIE, HeaderValue::from_str(&cookie).unwrap()),
        )
        .await
        .unwrap();
    assert!(set_cookies(&again).is_empty());
    assert_ne!(
        String::from_utf8_lossy(&again.body),
        page,
        "masks differ per page"
    );

    let post = |body: String, extra: Option<(&'static str, String)>, with_cookie: bool| {
        let mut request = server
            .request("/form")
            .method(Method::POST)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(body);
        if with_cookie {
            request = request.header(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        }
        if let Some((name, value)) = extra {
            request = request.header(
                http::HeaderName::from_static(name),
                HeaderValue::from_str(&value).unwrap(),
            );
        }
        server.fetch_request(request)
    };
    let form_token = format!("_xsrf={}", token.replace('|', "%7C"));
    assert_eq!(post(String::new(), None, true).await.unwrap().code, 403);
    assert_eq!(
        post(form_token.clone(), None, false).await.unwrap().code,
        403
    );
    assert_eq!(post(form_token, None, true).await.unwrap().code, 200);
    let header_token = Some(("x-xsrftoken", token.clone()));
    assert_eq!(
        post(String::new(), header_token, true).await.unwrap().code,
        200
    );
    let csrf_token = Some(("x-csrftoken", token.clone()));
    assert_eq!(
        post(String::new(), csrf_token, true).await.unwrap().code,
        200
    );
    let wrong = Some((
        "x-xsrftoken",
        "2|00000000|00112233445566778899aabbccddeeff|1".to_owned(),
    ));
    assert_eq!(post(String::new(), wrong, true).await.unwrap().code, 403);
    // Unknown paths stay 404 for POSTs (the 404 handler skips the check, as Tornado's).
    let response = server
        .fetch_request(server.request("/nowhere").method(Method::POST).body(""))
        .await
        .unwrap();
    assert_eq!(response.code, 404);
    server.stop().await;
}

/// Found by the fuzz target `xsrf_token`: a token with no secret (`2|mask||timestamp`) in both
/// the cookie and the header passed the check, and hex digits with a `+` read as bytes. Tornado
/// refuses both; so does cyclone now, and it replaces a cookie holding no secret.
#[actix_rt::test]
async fn xsrf_tokens_without_a_secret_or_with_signs_are_refused() {
    let server = TestServer::start(app(secret_settings().xsrf_cookies(true))).unwrap();
    let post = |cookie: &str, token: &str| {
        let request = server
            .request("/form")
            .method(Method::POST)
            .header(header::COOKIE, HeaderValue::from_str(cookie).unwrap())
            .header(
                http::HeaderName::from_static("x-xsrftoken"),
                HeaderValue::from_str(token).unwrap(),
            )
            .body("");
        server.fetch_request(request)
    };
    for (cookie, token) in [
        ("_xsrf=2|00000000||1", "2|00000000||1"),
        ("_xsrf=2|00000000||1", "2|12345678||1700000000"),
        ("_xsrf=0f0f0f0f", "+f+f+f+f"),
        ("_xsrf=2|+0+0+0+0|0f0f|1", "0f0f"),
    ] {
        let response = post(cookie, token).await.unwrap();
        assert_eq!(response.code, 403, "{cookie} with {token}");
    }
    // The same tokens without the defects still pass.
    let response = post("_xsrf=0f0f0f0f", "2|00000000|0f0f0f0f|1")
        .await
        .unwrap();
    assert_eq!(response.code, 200);

    let page = server
        .fetch_request(server.request("/form").header(
            header::COOKIE,
            HeaderValue::from_static("_xsrf=2|00000000||1"),
        ))
        .await
        .unwrap();
    let cookies = set_cookies(&page);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let fresh = cookies[0].split(';').next().unwrap();
    assert!(fresh.starts_with("_xsrf=2|"), "{fresh}");
    assert!(!fresh.contains("||"), "{fresh}");
    server.stop().await;
}

/// Needs a user from the signed `user` cookie.
#[derive(Default)]
struct Admin;

impl RequestHandler for Admin {
    fn get_current_user(&mut self, cx: &RequestContext) -> Option<String> {
        cx.get_signed_cookie("user")
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let user = cx.authenticated().await?;
        cx.write(format!("welcome {user}"));
        Ok(())
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.authenticated().await?;
        cx.write("posted");
        Ok(())
    }
}

#[actix_rt::test]
async fn authenticated_redirects_gets_to_login_and_forbids_the_rest() {
    let server = TestServer::start(app(secret_settings().login_url("/login"))).unwrap();
    let response = server.fetch("/admin?tab=2").await.unwrap();
    assert_eq!(response.code, 302);
    assert_eq!(
        response.headers["location"],
        "/login?next=%2Fadmin%3Ftab%3D2"
    );
    let response = server
        .fetch_request(server.request("/admin").method(Method::POST).body(""))
        .await
        .unwrap();
    assert_eq!(response.code, 403);

    let signed = server.fetch("/cookies?do=sign").await.unwrap();
    let cookie = set_cookies(&signed)[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let response = server
        .fetch_request(
            server
                .request("/admin")
                .header(header::COOKIE, HeaderValue::from_str(&cookie).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(response.body.as_ref(), b"welcome ada");
    server.stop().await;

    // Without login_url, anonymous GETs are 403 too.
    let server = TestServer::start(app(secret_settings())).unwrap();
    assert_eq!(server.fetch("/admin").await.unwrap().code, 403);
    server.stop().await;
}
