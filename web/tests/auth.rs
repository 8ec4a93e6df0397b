//! tornado.auth: the OAuth 2.0 authorization-code flow against a provider started here that
//! checks every exchange of RFC 6749 §4.1 byte for byte (authorize → callback with code and
//! state → token POST with the client's credentials → userinfo with the bearer token), a
//! forged or replayed `state` refused, and OAuth 1.0a signatures against the specification's
//! examples.

use std::sync::{Arc, Mutex};

use cyclone_protocol::server::{HttpResponse, HttpServerRequest};
use cyclone_web::auth::oauth1::{self, Credentials};
use cyclone_web::auth::{AuthError, OAuth2Client, OAuth2Provider};
use cyclone_web::testing::TestServer;
use cyclone_web::{
    Application, CookieSecret, HttpError, PathArgs, RequestContext, RequestHandler, Settings,
    function, handler_with, url,
};
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderValue, StatusCode};

const CLIENT_ID: &str = "cyclone-app";
const CLIENT_SECRET: &str = "s3cret/+=";
const ACCESS_TOKEN: &str = "tok-123";

/// What the provider saw, for the test to check after the flow.
#[derive(Default)]
struct Seen {
    /// Each authorize request's query.
    authorize: Vec<String>,
    /// Each token request: method, content type, accept, body.
    token: Vec<(String, String, String, String)>,
    /// Each userinfo request's Authorization field.
    userinfo: Vec<String>,
    /// Codes handed out and not yet traded (a code works once, RFC 6749 §4.1.2).
    live_codes: Vec<String>,
}

fn header(request: &HttpServerRequest, name: &str) -> String {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// A provider: `/authorize` sends the browser back with a code and the state it was given,
/// `/token` trades a code (once) for a token, `/userinfo` wants the bearer token.
fn provider(seen: Arc<Mutex<Seen>>) -> Application {
    let authorize = {
        let seen = seen.clone();
        function(move |request: HttpServerRequest, _: PathArgs| {
            let seen = seen.clone();
            async move {
                let query = request.query().to_owned();
                let arguments: Vec<(String, String)> =
                    url::form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect();
                let get = |name: &str| {
                    arguments
                        .iter()
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                };
                let mut seen = seen.lock().unwrap();
                seen.authorize.push(query.clone());
                if get("response_type") != "code" || get("client_id") != CLIENT_ID {
                    return HttpResponse::new(StatusCode::BAD_REQUEST).text("bad authorize");
                }
                let code = format!("code-{}", seen.authorize.len());
                seen.live_codes.push(code.clone());
                let back = format!(
                    "{}?code={code}&state={}",
                    get("redirect_uri"),
                    url::form_urlencoded::byte_serialize(get("state").as_bytes())
                        .collect::<String>()
                );
                HttpResponse::new(StatusCode::FOUND)
                    .header(LOCATION, HeaderValue::from_str(&back).unwrap())
            }
        })
    };
    let token = {
        let seen = seen.clone();
        function(move |request: HttpServerRequest, _: PathArgs| {
            let seen = seen.clone();
            async move {
                let body = String::from_utf8(request.body().to_vec()).unwrap_or_default();
                let mut seen = seen.lock().unwrap();
                seen.token.push((
                    request.method().to_string(),
                    header(&request, "content-type"),
                    header(&request, "accept"),
                    body.clone(),
                ));
                let code = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(name, _)| name == "code")
                    .map(|(_, value)| value.into_owned())
                    .unwrap_or_default();
                let Some(at) = seen.live_codes.iter().position(|live| *live == code) else {
                    return HttpResponse::new(StatusCode::BAD_REQUEST)
                        .text(r#"{"error":"invalid_grant"}"#);
                };
                seen.live_codes.remove(at);
                HttpResponse::ok()
                    .header(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )
                    .body(format!(
                        r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"Bearer","expires_in":3600,"scope":"openid email"}}"#
                    ))
            }
        })
    };
    let userinfo = function(move |request: HttpServerRequest, _: PathArgs| {
        let seen = seen.clone();
        async move {
            let authorization = header(&request, "authorization");
            seen.lock().unwrap().userinfo.push(authorization.clone());
            if authorization != format!("Bearer {ACCESS_TOKEN}") {
                return HttpResponse::new(StatusCode::UNAUTHORIZED);
            }
            HttpResponse::ok().body(r#"{"id":"42","email":"ada@example.com"}"#)
        }
    });
    Application::new([
        url("/authorize", authorize),
        url("/token", token),
        url("/userinfo", userinfo),
    ])
    .unwrap()
}

/// The site's login handler, as Tornado's documentation writes one.
struct Login {
    oauth: OAuth2Client,
}

impl RequestHandler for Login {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let redirect_uri = format!("http://{}/login", cx.request().host());
        // A callback carries the state back (with a code, or the provider's error).
        let state = cx.get_query_argument_or("state", "")?;
        let error = cx.get_query_argument_or("error", "")?;
        if state.is_empty() && error.is_empty() {
            return self
                .oauth
                .authorize_redirect(
                    cx,
                    &redirect_uri,
                    &["openid", "email"],
                    &[("prompt", "consent")],
                )
                .await;
        }
        let token = self.oauth.get_authenticated_user(cx, &redirect_uri).await?;
        let user = self.oauth.get_user_info(&token.access_token).await?;
        cx.write(format!(
            "hello {} ({:?}, {:?})",
            user["email"].as_str().unwrap_or(""),
            token.expires_in,
            token.scope
        ));
        Ok(())
    }
}

fn site(provider_port: u16) -> Application {
    let base = format!("http://127.0.0.1:{provider_port}");
    let oauth = OAuth2Client::new(
        OAuth2Provider::new(format!("{base}/authorize"), format!("{base}/token"))
            .userinfo_url(format!("{base}/userinfo")),
        CLIENT_ID,
        CLIENT_SECRET,
    );
    let settings = Settings::default().cookie_secret(CookieSecret::new("a site secret"));
    Application::with_settings(
        [url(
            "/login",
            handler_with(move || Login {
                oauth: oauth.clone(),
            }),
        )],
        settings,
    )
    .unwrap()
}

/// The `name=value` of the `Set-Cookie` for `name`.
fn cookie_pair(response: &cyclone_protocol::client::HttpResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

async fn get(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
) -> cyclone_protocol::client::HttpResponse {
    let mut request = server.request(path);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, HeaderValue::from_str(cookie).unwrap());
    }
    server.fetch_request(request).await.unwrap()
}

/// Steps 1 and 2: the site's redirect (and its state cookie), then the provider's redirect
/// back; returns the callback path and the cookie.
async fn start_login(site: &TestServer, provider: &TestServer) -> (String, String) {
    let redirect = get(site, "/login", None).await;
    assert_eq!(redirect.code, 302);
    let cookie = cookie_pair(&redirect, "_oauth2_state").expect("a state cookie");
    let location = redirect.headers[LOCATION].to_str().unwrap().to_owned();
    let provider_path = location
        .strip_prefix(&provider.url(""))
        .expect("to the provider")
        .to_owned();
    let back = get(provider, &provider_path, None).await;
    assert_eq!(back.code, 302, "{:?}", back.body);
    let callback = back.headers[LOCATION].to_str().unwrap().to_owned();
    let callback_path = callback
        .strip_prefix(&site.url(""))
        .expect("back to the site")
        .to_owned();
    (callback_path, cookie)
}

#[actix_rt::test]
async fn the_authorization_code_flow_byte_for_byte() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let provider = TestServer::start(provider(seen.clone())).unwrap();
    let site = TestServer::start(site(provider.port())).unwrap();

    let (callback, cookie) = start_login(&site, &provider).await;
    let done = get(&site, &callback, Some(&cookie)).await;
    assert_eq!(
        String::from_utf8_lossy(&done.body),
        "hello ada@example.com (Some(3600), Some(\"openid email\"))"
    );
    assert_eq!(done.code, 200);
    // The state cookie is cleared once used.
    assert_eq!(
        cookie_pair(&done, "_oauth2_state").as_deref(),
        Some("_oauth2_state=")
    );

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let redirect_uri = format!("http%3A%2F%2F127.0.0.1%3A{}%2Flogin", site.port());
    let state = cookie_state(&seen.authorize[0]);
    assert_eq!(
        seen.authorize[0],
        format!(
            "response_type=code&client_id=cyclone-app&redirect_uri={redirect_uri}&scope=openid+email&state={state}&prompt=consent"
        )
    );
    assert_eq!(state.len(), 32, "128 random bits in hex");
    assert_eq!(
        seen.token,
        [(
            "POST".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
            "application/json".to_owned(),
            format!(
                "grant_type=authorization_code&code=code-1&redirect_uri={redirect_uri}&client_id=cyclone-app&client_secret=s3cret%2F%2B%3D"
            )
        )]
    );
    assert_eq!(seen.userinfo, [format!("Bearer {ACCESS_TOKEN}")]);
    site.stop().await;
    provider.stop().await;
}

/// The `state` argument of an authorize query.
fn cookie_state(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[actix_rt::test]
async fn a_replayed_callback_is_refused() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let provider = TestServer::start(provider(seen.clone())).unwrap();
    let site = TestServer::start(site(provider.port())).unwrap();
    let (callback, cookie) = start_login(&site, &provider).await;
    assert_eq!(get(&site, &callback, Some(&cookie)).await.code, 200);
    // The same callback with the same cookie (captured, or the browser's back button): the
    // state was used.
    let replay = get(&site, &callback, Some(&cookie)).await;
    assert_eq!(replay.code, 403);
    // Refused before the code reached the provider again.
    assert_eq!(seen.lock().unwrap().token.len(), 1);
    site.stop().await;
    provider.stop().await;
}

#[actix_rt::test]
async fn a_forged_state_is_refused() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let provider = TestServer::start(provider(seen.clone())).unwrap();
    let site = TestServer::start(site(provider.port())).unwrap();

    // An attacker's callback (their own code and state) in the victim's browser, which holds
    // its own state cookie: login CSRF.
    let (attackers_callback, _attackers_cookie) = start_login(&site, &provider).await;
    let (_, victims_cookie) = start_login(&site, &provider).await;
    assert_eq!(
        get(&site, &attackers_callback, Some(&victims_cookie))
            .await
            .code,
        403
    );
    // No cookie at all.
    assert_eq!(get(&site, &attackers_callback, None).await.code, 403);
    // A state cookie not signed by the site.
    let unsigned = format!("_oauth2_state={}", cookie_state(&attackers_callback));
    assert_eq!(
        get(&site, &attackers_callback, Some(&unsigned)).await.code,
        403
    );
    // A callback with the right state but without a code.
    let (callback, cookie) = start_login(&site, &provider).await;
    let without_code = callback.replace("code=", "nocode=");
    assert_eq!(get(&site, &without_code, Some(&cookie)).await.code, 400);
    // None of these reached the token endpoint.
    assert!(seen.lock().unwrap().token.is_empty());
    site.stop().await;
    provider.stop().await;
}

#[actix_rt::test]
async fn the_users_refusal_is_reported() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let provider = TestServer::start(provider(seen.clone())).unwrap();
    let site = TestServer::start(site(provider.port())).unwrap();
    let (callback, cookie) = start_login(&site, &provider).await;
    let state = cookie_state(callback.split_once('?').unwrap().1);
    let refused = get(
        &site,
        &format!("/login?error=access_denied&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(refused.code, 403);
    assert_eq!(
        AuthError::Denied {
            error: "access_denied".into(),
            description: Some("the user said no".into())
        }
        .to_string(),
        "the provider refused: access_denied (the user said no)"
    );
    site.stop().await;
    provider.stop().await;
}

#[test]
fn presets_point_at_the_providers() {
    let google = OAuth2Provider::google();
    assert_eq!(
        google.authorize_url,
        "https://accounts.google.com/o/oauth2/v2/auth"
    );
    assert_eq!(
        google.access_token_url,
        "https://www.googleapis.com/oauth2/v4/token"
    );
    let github = OAuth2Provider::github();
    assert_eq!(
        github.userinfo_url.as_deref(),
        Some("https://api.github.com/user")
    );
    let facebook = OAuth2Client::new(OAuth2Provider::facebook(), "id", "secret");
    // Tornado's appsecret_proof: HMAC-SHA256(secret, token) in hex.
    assert_eq!(
        facebook.appsecret_proof("token"),
        "e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a"
    );
}

/// RFC 5849 §3.4.1.1's example request: query, form body and `oauth_*` parameters in one
/// base string.
#[test]
fn the_rfc_5849_base_string() {
    let parameters = [
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("c2", ""),
        ("a3", "2 q"),
    ];
    assert_eq!(
        oauth1::signature_base_string(
            "post",
            "HTTP://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            &parameters
        ),
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    );
}

#[test]
fn an_authorization_field_carries_a_verifiable_signature() {
    let consumer = Credentials::new("dpf43f3p2l4k3l03", "kd94hf93k423kf44");
    let token = Credentials::new("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00");
    let url = "http://photos.example.net/photos?file=vacation.jpg&size=original";
    let field = oauth1::authorization(
        "GET",
        url,
        &[],
        &consumer,
        Some(&token),
        "kllo9940pd9333jh",
        1191242096,
    );
    assert_eq!(
        field,
        "OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_nonce=\"kllo9940pd9333jh\", \
         oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1191242096\", \
         oauth_version=\"1.0\", oauth_token=\"nnch734d00sl2jdk\", \
         oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\""
    );
    // A fresh nonce each time.
    let first = oauth1::authorization_now("GET", url, &[], &consumer, None).unwrap();
    let second = oauth1::authorization_now("GET", url, &[], &consumer, None).unwrap();
    assert_ne!(first, second);
    assert!(!first.contains("oauth_token="));
}
