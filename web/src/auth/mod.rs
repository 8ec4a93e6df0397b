//! Tornado's `tornado.auth`: logging users in with a third party.
//!
//! - [`OAuth2Client`]: OAuth 2.0's authorization-code flow (RFC 6749 §4.1), Tornado's
//!   `OAuth2Mixin`: [`authorize_redirect`](OAuth2Client::authorize_redirect) sends the browser
//!   to the provider with a `state` bound to a signed cookie,
//!   [`get_authenticated_user`](OAuth2Client::get_authenticated_user) checks it (a forged or
//!   replayed `state` is refused) and trades the code for an access token, and
//!   [`oauth2_request`](OAuth2Client::oauth2_request) calls the provider's API with it.
//!   Presets: [`OAuth2Provider::google`], [`OAuth2Provider::github`],
//!   [`OAuth2Provider::facebook`] (Tornado's `GoogleOAuth2Mixin` and `FacebookGraphMixin`;
//!   GitHub is not in Tornado).
//! - [`oauth1`]: OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as Twitter's API uses it
//!   (Tornado's `OAuthMixin` signatures).
//!
//! ```no_run
//! use cyclone_web::auth::{OAuth2Client, OAuth2Provider};
//! use cyclone_web::{HttpError, RequestContext, RequestHandler};
//!
//! struct GoogleLogin {
//!     google: OAuth2Client,
//! }
//!
//! impl RequestHandler for GoogleLogin {
//!     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
//!         let redirect_uri = "https://example.com/auth/google";
//!         if cx.get_query_argument_or("code", "")?.is_empty() {
//!             // Step 1: off to Google, with a state only this browser's cookie matches.
//!             return self.google.authorize_redirect(cx, redirect_uri, &["openid", "email"], &[]).await;
//!         }
//!         // Step 2: back from Google with a code and that state.
//!         let token = self.google.get_authenticated_user(cx, redirect_uri).await?;
//!         let user = self.google.get_user_info(&token.access_token).await?;
//!         let email = user["email"].as_str().unwrap_or_default();
//!         cx.set_signed_cookie("user", email)?;
//!         cx.redirect("/", false).await
//!     }
//! }
//!
//! let google = OAuth2Client::new(OAuth2Provider::google(), "client id", "client secret");
//! let rule = cyclone_web::url("/auth/google", cyclone_web::handler_with(move || GoogleLogin {
//!     google: google.clone(),
//! }));
//! # drop(rule);
//! ```

pub mod oauth1;
mod oauth2;

pub use oauth2::{
    DEFAULT_STATE_COOKIE, DEFAULT_STATE_MAX_AGE, OAuth2Client, OAuth2Provider, OAuth2Token,
    TokenPlacement, TokenRequest,
};

use http::StatusCode;

use crate::errors::HttpError;

/// Why a login with a third party failed (Tornado's `AuthError`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The `state` the provider sent back is missing, does not match this browser's state
    /// cookie, has expired, or was used already: a forged or replayed callback.
    #[error("OAuth state missing, forged, expired or replayed")]
    InvalidState,
    /// The callback carries no `code`.
    #[error("OAuth callback without a code")]
    MissingCode,
    /// The provider reports an error instead of a code (the user said no: `access_denied`).
    #[error("the provider refused: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied {
        /// The `error` argument.
        error: String,
        /// The `error_description` argument, if any.
        description: Option<String>,
    },
    /// The state cookie needs the `cookie_secret` setting.
    #[error("OAuth state needs the cookie_secret setting")]
    NoCookieSecret,
    /// The provider could not be reached, or answered with an error status.
    #[error("request to the provider failed: {0}")]
    Http(#[from] cyclone_protocol::client::HttpClientError),
    /// The provider's answer is not the JSON expected.
    #[error("unexpected answer from the provider: {0}")]
    Json(#[from] serde_json::Error),
    /// The token answer has no `access_token`.
    #[error("the provider's token answer has no access_token")]
    MissingAccessToken,
    /// Something the flow needs could not be made (random bytes, a cookie header).
    #[error("{0}")]
    Internal(String),
}

impl AuthError {
    /// The one status a client gets for this error: 403 for a callback this browser did not
    /// start (or a refusal), 400 for a callback without a code, 502 when the provider failed
    /// us, 500 for our own configuration.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::InvalidState | AuthError::Denied { .. } => StatusCode::FORBIDDEN,
            AuthError::MissingCode => StatusCode::BAD_REQUEST,
            AuthError::Http(_) | AuthError::Json(_) | AuthError::MissingAccessToken => {
                StatusCode::BAD_GATEWAY
            }
            AuthError::NoCookieSecret | AuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AuthError> for HttpError {
    fn from(error: AuthError) -> Self {
        HttpError::new(error.status()).log_message(error.to_string())
    }
}
