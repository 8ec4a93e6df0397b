//! Sign-up, log-in and log-out. Passwords are kept as Argon2 hashes, hashed and checked on the
//! blocking pool (deliberately slow work that must not stall a loop); the logged-in author's
//! id travels in a signed cookie.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use cyclone::httputil::SameSite;
use cyclone::ioloop::run_in_executor;
use cyclone::template::context;
use cyclone::web::{CookieOptions, HttpError, RequestContext, RequestHandler, Target};
use http::{Method, StatusCode};

use super::{Site, USER_COOKIE, target};

/// Shortest password accepted.
const MIN_PASSWORD: usize = 8;

/// Longest email, name or password accepted.
const MAX_FIELD: usize = 200;

/// The user cookie's attributes: not readable by scripts, not sent on cross-site posts.
fn user_cookie() -> CookieOptions {
    CookieOptions::default()
        .http_only(true)
        .same_site(SameSite::Lax)
}

/// Where to go after signing in: `next` when it is a path on this site, else `/`.
fn next_url(cx: &RequestContext) -> Result<String, HttpError> {
    let next = cx.get_argument_or("next", "/")?;
    // Only local paths: `//host` or `https://` would send the author elsewhere.
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        Ok(next)
    } else {
        Ok("/".to_owned())
    }
}

/// `/auth/create`: the sign-up form and what it posts.
pub fn create(site: Arc<Site>) -> Target {
    target(site, |site| Create { site })
}

/// Sign-up.
pub struct Create {
    /// The database.
    site: Arc<Site>,
}

impl RequestHandler for Create {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST];

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        super::write_error(cx, error);
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let next = next_url(cx)?;
        cx.render(
            "create_author.html",
            context! { error => None::<String>, email => "", name => "", next },
        )
        .await
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let email = cx.get_argument_or("email", "")?;
        let name = cx.get_argument_or("name", "")?;
        let password = cx.get_argument_or("password", "")?;
        let next = next_url(cx)?;
        let problem = if !email.contains('@') || email.len() > MAX_FIELD {
            Some("Enter your email address.".to_owned())
        } else if name.is_empty() || name.len() > MAX_FIELD {
            Some("Enter the name to show on your entries.".to_owned())
        } else if password.chars().count() < MIN_PASSWORD || password.len() > MAX_FIELD {
            Some(format!(
                "Choose a password of at least {MIN_PASSWORD} characters."
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return show_form(cx, "create_author.html", &problem, &email, &name, &next).await;
        }
        let hashed = run_in_executor(move || hash_password(&password)).await??;
        let created = self
            .site
            .db
            .create_author(email.clone(), name.clone(), hashed)
            .await?;
        let Some(id) = created else {
            let problem = "That email address already has an account; log in instead.";
            return show_form(cx, "create_author.html", problem, &email, &name, &next).await;
        };
        cx.set_signed_cookie_with(USER_COOKIE, &id.to_string(), &user_cookie())?;
        cx.redirect(&next, false).await
    }
}

/// A form again with what was typed and what is wrong (400).
async fn show_form(
    cx: &mut RequestContext,
    template: &str,
    problem: &str,
    email: &str,
    name: &str,
    next: &str,
) -> Result<(), HttpError> {
    cx.set_status(StatusCode::BAD_REQUEST);
    cx.render(
        template,
        context! { error => problem, email => email, name => name, next => next },
    )
    .await
}

/// `/auth/login`: the log-in form and what it posts. With no author yet, the sign-up form.
pub fn login(site: Arc<Site>) -> Target {
    target(site, |site| Login { site })
}

/// Log-in.
pub struct Login {
    /// The database.
    site: Arc<Site>,
}

impl RequestHandler for Login {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST];

    fn write_error(&mut self, cx: &mut RequestContext, error: &HttpError) {
        super::write_error(cx, error);
    }

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let next = next_url(cx)?;
        if !self.site.db.any_author_exists().await? {
            let create = cyclone::httputil::url_concat("/auth/create", [("next", next)]);
            return cx.redirect(&create, false).await;
        }
        cx.render(
            "login.html",
            context! { error => None::<String>, email => "", name => "", next },
        )
        .await
    }

    async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let email = cx.get_argument_or("email", "")?;
        let password = cx.get_argument_or("password", "")?;
        let next = next_url(cx)?;
        let author = self.site.db.author_by_email(email.clone()).await?;
        let Some(author) = author else {
            return show_form(
                cx,
                "login.html",
                "No account has that email.",
                &email,
                "",
                &next,
            )
            .await;
        };
        let hashed = author.hashed_password.clone();
        let matches = run_in_executor(move || verify_password(&password, &hashed)).await?;
        if !matches {
            return show_form(cx, "login.html", "Incorrect password.", &email, "", &next).await;
        }
        cx.set_signed_cookie_with(USER_COOKIE, &author.id.to_string(), &user_cookie())?;
        cx.redirect(&next, false).await
    }
}

/// `/auth/logout`: forgets the user and goes back.
pub fn logout(site: Arc<Site>) -> Target {
    target(site, |_site| Logout)
}

/// Log-out.
pub struct Logout;

impl RequestHandler for Logout {
    const SUPPORTED_METHODS: &'static [Method] = &[Method::GET];

    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        cx.clear_cookie(USER_COOKIE)?;
        let next = next_url(cx)?;
        cx.redirect(&next, false).await
    }
}

/// An Argon2id hash of `password` with a fresh salt, as a PHC string.
fn hash_password(password: &str) -> Result<String, HttpError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        // argon2's error has no conversion into HttpError: say what failed.
        .map_err(|error| HttpError::internal(format!("hashing a password: {error}")))
}

/// Whether `password` matches the stored `hashed` one.
fn verify_password(password: &str, hashed: &str) -> bool {
    PasswordHash::new(hashed).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}
