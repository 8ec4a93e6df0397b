//! [`OAuth2Client`]: OAuth 2.0's authorization-code flow (RFC 6749 §4.1) for a handler, with
//! the `state` bound to a signed cookie (RFC 6749 §10.12) and used once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cyclone_protocol::client::{AsyncHttpClient, HttpRequest};
use cyclone_protocol::httputil::url_concat;
use hmac::{KeyInit, Mac};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::AuthError;
use crate::cookies::CookieOptions;
use crate::errors::HttpError;
use crate::handler::RequestContext;

/// The signed cookie holding a login's `state` between the redirect and the callback. Default
/// `_oauth2_state`.
pub const DEFAULT_STATE_COOKIE: &str = "_oauth2_state";

/// How long a login may take between the redirect and the callback before its `state`
/// expires. Default 10 minutes.
pub const DEFAULT_STATE_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// How the authorization code is traded for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRequest {
    /// `POST` with a form body (`grant_type`, `code`, `redirect_uri`, `client_id`,
    /// `client_secret`): RFC 6749 §4.1.3 with `client_secret_post`, what Google and GitHub take.
    PostForm,
    /// `GET` with the same arguments in the query, as Tornado's `FacebookGraphMixin` asks
    /// Facebook.
    GetQuery,
}

/// How [`OAuth2Client::oauth2_request`] presents the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPlacement {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1), what Google and GitHub document.
    BearerHeader,
    /// `?access_token=<token>` in the query (RFC 6750 §2.3), as Tornado's `oauth2_request` and
    /// Facebook's Graph API do.
    Query,
}

/// A provider's endpoints (Tornado's `_OAUTH_AUTHORIZE_URL`, `_OAUTH_ACCESS_TOKEN_URL`,
/// `_OAUTH_USERINFO_URL` class attributes), and how it wants the token exchanged and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Provider {
    /// Where the browser is sent to log in and consent.
    pub authorize_url: String,
    /// Where the code is traded for a token.
    pub access_token_url: String,
    /// The user's profile, for [`OAuth2Client::get_user_info`]; `None` if the provider has
    /// none.
    pub userinfo_url: Option<String>,
    /// How the code is traded.
    pub token_request: TokenRequest,
    /// How API calls carry the token.
    pub token_placement: TokenPlacement,
}

impl OAuth2Provider {
    /// A provider with these endpoints, the RFC's defaults: a form `POST` for the token, a
    /// bearer header for API calls.
    pub fn new(authorize_url: impl Into<String>, access_token_url: impl Into<String>) -> Self {
        OAuth2Provider {
            authorize_url: authorize_url.into(),
            access_token_url: access_token_url.into(),
            userinfo_url: None,
            token_request: TokenRequest::PostForm,
            token_placement: TokenPlacement::BearerHeader,
        }
    }

    /// Sets [`userinfo_url`](Self::userinfo_url).
    pub fn userinfo_url(mut self, url: impl Into<String>) -> Self {
        self.userinfo_url = Some(url.into());
        self
    }

    /// Sets [`token_request`](Self::token_request).
    pub fn token_request(mut self, request: TokenRequest) -> Self {
        self.token_request = request;
        self
    }

    /// Sets [`token_placement`](Self::token_placement).
    pub fn token_placement(mut self, placement: TokenPlacement) -> Self {
        self.token_placement = placement;
        self
    }

    /// Google (Tornado's `GoogleOAuth2Mixin`): its v2 authorization endpoint, v4 token
    /// endpoint and v1 userinfo, as Tornado names them.
    pub fn google() -> Self {
        Self::new(
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://www.googleapis.com/oauth2/v4/token",
        )
        .userinfo_url("https://www.googleapis.com/oauth2/v1/userinfo")
    }

    /// GitHub's OAuth apps: `/login/oauth/authorize`, `/login/oauth/access_token` (asked for
    /// JSON), and `https://api.github.com/user`.
    pub fn github() -> Self {
        Self::new(
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
        )
        .userinfo_url("https://api.github.com/user")
    }

    /// Facebook's Graph API (Tornado's `FacebookGraphMixin`): the dialog, the token by `GET`,
    /// the token in the query, and `/me` as the user.
    pub fn facebook() -> Self {
        Self::new(
            "https://www.facebook.com/dialog/oauth",
            "https://graph.facebook.com/oauth/access_token",
        )
        .userinfo_url("https://graph.facebook.com/me")
        .token_request(TokenRequest::GetQuery)
        .token_placement(TokenPlacement::Query)
    }
}

/// What the token endpoint answered (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OAuth2Token {
    /// The access token for API calls.
    pub access_token: String,
    /// Its type, `Bearer` usually.
    pub token_type: Option<String>,
    /// Seconds until it expires, if said.
    pub expires_in: Option<u64>,
    /// A token to get a new one, if granted.
    pub refresh_token: Option<String>,
    /// The scopes granted, if they differ from those asked for.
    pub scope: Option<String>,
    /// The whole answer (OpenID Connect's `id_token` and the provider's own fields).
    pub raw: serde_json::Value,
}

/// The OAuth 2.0 login of one application with one provider (Tornado's `OAuth2Mixin` and its
/// `google_oauth` / `facebook_api_key` settings), shared by the handlers that use it. Cheap to
/// clone; clones share the record of used states.
#[derive(Clone)]
pub struct OAuth2Client {
    /// The provider's endpoints.
    provider: Arc<OAuth2Provider>,
    /// The application's id at the provider.
    client_id: String,
    /// The application's secret at the provider.
    client_secret: String,
    /// The state cookie's name.
    state_cookie: String,
    /// How long a state lives.
    state_max_age: Duration,
    /// States used by a callback, until they would have expired anyway: a replayed callback
    /// (even with the cookie that came with it) is refused.
    used_states: Arc<Mutex<HashMap<String, Instant>>>,
}

impl std::fmt::Debug for OAuth2Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("OAuth2Client")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("state_cookie", &self.state_cookie)
            .finish_non_exhaustive()
    }
}

impl OAuth2Client {
    /// A client of `provider` registered as `client_id` with `client_secret`.
    pub fn new(
        provider: OAuth2Provider,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        OAuth2Client {
            provider: Arc::new(provider),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            state_cookie: DEFAULT_STATE_COOKIE.to_owned(),
            state_max_age: DEFAULT_STATE_MAX_AGE,
            used_states: Arc::default(),
        }
    }

    /// Names the state cookie (two providers on one site each need their own). Default
    /// [`DEFAULT_STATE_COOKIE`].
    pub fn state_cookie(mut self, name: impl Into<String>) -> Self {
        self.state_cookie = name.into();
        self
    }

    /// How long a login may take. Default [`DEFAULT_STATE_MAX_AGE`].
    pub fn state_max_age(mut self, max_age: Duration) -> Self {
        self.state_max_age = max_age;
        self
    }

    /// The provider.
    pub fn provider(&self) -> &OAuth2Provider {
        &self.provider
    }

    /// Redirects the browser to the provider to log in (Tornado's `authorize_redirect`):
    /// `response_type=code`, `client_id`, `redirect_uri` (where the provider sends the browser
    /// back; register it there), `scope` (space-separated), `extra_params` (`prompt`,
    /// `access_type`...), and a fresh `state`, kept in a signed cookie (needs `cookie_secret`)
    /// for [`get_authenticated_user`](Self::get_authenticated_user) to check. Finishes the
    /// request.
    pub async fn authorize_redirect(
        &self,
        cx: &mut RequestContext,
        redirect_uri: &str,
        scope: &[&str],
        extra_params: &[(&str, &str)],
    ) -> Result<(), HttpError> {
        if cx.settings().cookie_secret.is_none() {
            return Err(AuthError::NoCookieSecret.into());
        }
        let state = random_state()?;
        let options = CookieOptions::default()
            .http_only(true)
            .max_age(self.state_max_age);
        cx.set_signed_cookie_with(&self.state_cookie, &state, &options)?;
        let scope = scope.join(" ");
        let mut args: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", redirect_uri),
        ];
        if !scope.is_empty() {
            args.push(("scope", &scope));
        }
        args.push(("state", &state));
        args.extend_from_slice(extra_params);
        let url = url_concat(&self.provider.authorize_url, args);
        cx.redirect(&url, false).await
    }

    /// Completes the login on the callback (Tornado's `get_authenticated_user`): refuses a
    /// callback whose `state` is missing, differs from this browser's state cookie, has expired
    /// or was used before ([`AuthError::InvalidState`], 403), reports the provider's `error`
    /// ([`AuthError::Denied`]), then trades the `code` for a token at the provider with the
    /// client's credentials. `redirect_uri` must be the one given to
    /// [`authorize_redirect`](Self::authorize_redirect). The state cookie is cleared either way.
    pub async fn get_authenticated_user(
        &self,
        cx: &mut RequestContext,
        redirect_uri: &str,
    ) -> Result<OAuth2Token, AuthError> {
        let max_age_days = self.state_max_age.as_secs_f64() / 86_400.0;
        let expected = cx.get_signed_cookie_with(
            &self.state_cookie,
            max_age_days,
            crate::signed::SignedValueVersion::V2,
        );
        let _ = cx.clear_cookie(&self.state_cookie);
        let query = |name: &str| {
            cx.get_query_argument_or(name, "")
                .ok()
                .filter(|value| !value.is_empty())
        };
        let state = query("state");
        if let Some(error) = query("error") {
            return Err(AuthError::Denied {
                error,
                description: query("error_description"),
            });
        }
        match (&state, &expected) {
            (Some(state), Some(expected)) if constant_time_eq(state, expected) => {}
            _ => return Err(AuthError::InvalidState),
        }
        let state = state.unwrap_or_default();
        if !self.first_use_of(&state) {
            return Err(AuthError::InvalidState);
        }
        let code = query("code").ok_or(AuthError::MissingCode)?;
        self.exchange_code(&code, redirect_uri).await
    }

    /// Trades `code` for a token (RFC 6749 §4.1.3), without the state check: for flows whose
    /// code did not come through this client's redirect (a mobile app's).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<OAuth2Token, AuthError> {
        let args = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
        ];
        let request = match self.provider.token_request {
            TokenRequest::PostForm => HttpRequest::new(&self.provider.access_token_url)
                .method(Method::POST)
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(form_encode(&args)),
            TokenRequest::GetQuery => {
                HttpRequest::new(url_concat(&self.provider.access_token_url, args))
            }
        }
        // GitHub answers a form body unless asked for JSON.
        .header(ACCEPT, HeaderValue::from_static("application/json"));
        let response = AsyncHttpClient::new().fetch(request).await?;
        let raw: serde_json::Value = serde_json::from_slice(&response.body)?;
        let text = |name: &str| {
            raw.get(name)
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        Ok(OAuth2Token {
            access_token: text("access_token").ok_or(AuthError::MissingAccessToken)?,
            token_type: text("token_type"),
            expires_in: raw.get("expires_in").and_then(|value| {
                value
                    .as_u64()
                    .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
            }),
            refresh_token: text("refresh_token"),
            scope: text("scope"),
            raw,
        })
    }

    /// Calls the provider's API with `access_token` (Tornado's `oauth2_request`): `args` go in
    /// the query; with `post_args` it is a form `POST`, else a `GET`. The answer is JSON.
    pub async fn oauth2_request(
        &self,
        url: &str,
        access_token: &str,
        post_args: Option<&[(&str, &str)]>,
        args: &[(&str, &str)],
    ) -> Result<serde_json::Value, AuthError> {
        let mut query: Vec<(&str, &str)> = Vec::with_capacity(args.len() + 1);
        if self.provider.token_placement == TokenPlacement::Query {
            query.push(("access_token", access_token));
        }
        query.extend_from_slice(args);
        let mut request = HttpRequest::new(url_concat(url, query))
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if self.provider.token_placement == TokenPlacement::BearerHeader {
            let bearer = HeaderValue::from_str(&format!("Bearer {access_token}"))
                .map_err(|_| AuthError::Internal("access token not sendable".into()))?;
            request = request.header(AUTHORIZATION, bearer);
        }
        if let Some(post_args) = post_args {
            request = request
                .method(Method::POST)
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(form_encode(post_args));
        }
        let response = AsyncHttpClient::new().fetch(request).await?;
        Ok(serde_json::from_slice(&response.body)?)
    }

    /// The user's profile from the provider's `userinfo_url` (Google's userinfo, GitHub's
    /// `/user`, Facebook's `/me` with `fields` and `appsecret_proof` as Tornado asks).
    pub async fn get_user_info(&self, access_token: &str) -> Result<serde_json::Value, AuthError> {
        let url = self
            .provider
            .userinfo_url
            .clone()
            .ok_or_else(|| AuthError::Internal("the provider has no userinfo_url".into()))?;
        if self.provider.token_placement == TokenPlacement::Query {
            // Facebook: Tornado's fields and the proof that the app knows its secret.
            let proof = self.appsecret_proof(access_token);
            let fields = "id,name,first_name,last_name,locale,picture,link";
            return self
                .oauth2_request(
                    &url,
                    access_token,
                    None,
                    &[("appsecret_proof", &proof), ("fields", fields)],
                )
                .await;
        }
        self.oauth2_request(&url, access_token, None, &[]).await
    }

    /// Facebook's `appsecret_proof`: HMAC-SHA256 of the token under the client secret, in hex.
    pub fn appsecret_proof(&self, access_token: &str) -> String {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.client_secret.as_bytes())
        else {
            return String::new();
        };
        mac.update(access_token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Records `state` as used; `false` if it was already.
    fn first_use_of(&self, state: &str) -> bool {
        let mut used = self
            .used_states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        // States past their age are refused by the cookie check: no need to remember them.
        used.retain(|_, expires| *expires > now);
        used.insert(state.to_owned(), now + self.state_max_age)
            .is_none()
    }
}

/// A fresh, unguessable state: 128 random bits in hex.
fn random_state() -> Result<String, AuthError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|error| AuthError::Internal(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Compares without stopping at the first difference, so the time taken tells nothing about
/// how much of a guess was right.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// `application/x-www-form-urlencoded` (every byte but letters and digits escaped, as
/// Python's `urlencode` with `quote_plus` differs only in writing spaces as `+`).
fn form_encode(args: &[(&str, &str)]) -> String {
    args.iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, FORM),
                utf8_percent_encode(value, FORM)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What a form body leaves unescaped: RFC 3986's unreserved characters.
const FORM: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
