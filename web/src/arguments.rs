//! Argument getters on [`RequestContext`]: Tornado's `get_argument(s)`,
//! `get_query_argument(s)`, `get_body_argument(s)` and uploaded files. A missing required
//! argument is 400; a malformed body is 400; values are UTF-8 (else 400) and stripped of
//! surrounding whitespace, as Tornado does by default.

use cyclone_protocol::httputil::{Arguments, FormError, HttpFile};

use crate::errors::{HttpError, MissingArgumentError};
use crate::handler::RequestContext;

/// Which arguments a getter reads.
#[derive(Clone, Copy)]
enum Source {
    /// Query then body.
    All,
    /// The query string.
    Query,
    /// The body.
    Body,
}

impl RequestContext {
    /// The last value of argument `name` from the query or body; 400 if absent.
    pub fn get_argument(&self, name: &str) -> Result<String, HttpError> {
        self.last(name, Source::All)?
            .ok_or_else(|| MissingArgumentError(name.to_owned()).into())
    }

    /// The last value of argument `name`, or `default` if absent.
    pub fn get_argument_or(&self, name: &str, default: &str) -> Result<String, HttpError> {
        Ok(self
            .last(name, Source::All)?
            .unwrap_or_else(|| default.to_owned()))
    }

    /// Every value of argument `name` (none if absent).
    pub fn get_arguments(&self, name: &str) -> Result<Vec<String>, HttpError> {
        self.all(name, Source::All)
    }

    /// The last value of query argument `name`; 400 if absent.
    pub fn get_query_argument(&self, name: &str) -> Result<String, HttpError> {
        self.last(name, Source::Query)?
            .ok_or_else(|| MissingArgumentError(name.to_owned()).into())
    }

    /// The last value of query argument `name`, or `default`.
    pub fn get_query_argument_or(&self, name: &str, default: &str) -> Result<String, HttpError> {
        Ok(self
            .last(name, Source::Query)?
            .unwrap_or_else(|| default.to_owned()))
    }

    /// Every value of query argument `name`.
    pub fn get_query_arguments(&self, name: &str) -> Result<Vec<String>, HttpError> {
        self.all(name, Source::Query)
    }

    /// The last value of body argument `name`; 400 if absent.
    pub fn get_body_argument(&self, name: &str) -> Result<String, HttpError> {
        self.last(name, Source::Body)?
            .ok_or_else(|| MissingArgumentError(name.to_owned()).into())
    }

    /// The last value of body argument `name`, or `default`.
    pub fn get_body_argument_or(&self, name: &str, default: &str) -> Result<String, HttpError> {
        Ok(self
            .last(name, Source::Body)?
            .unwrap_or_else(|| default.to_owned()))
    }

    /// Every value of body argument `name`.
    pub fn get_body_arguments(&self, name: &str) -> Result<Vec<String>, HttpError> {
        self.all(name, Source::Body)
    }

    /// Files uploaded under form field `name` (Tornado's `request.files[name]`).
    pub fn get_files(&self, name: &str) -> Result<&[HttpFile], HttpError> {
        Ok(self.request().files()?.get_all(name))
    }

    fn arguments(&self, source: Source) -> Result<&Arguments, FormError> {
        match source {
            Source::All => self.request().arguments(),
            Source::Query => self.request().query_arguments(),
            Source::Body => self.request().body_arguments(),
        }
    }

    fn last(&self, name: &str, source: Source) -> Result<Option<String>, HttpError> {
        Ok(self.all(name, source)?.pop())
    }

    fn all(&self, name: &str, source: Source) -> Result<Vec<String>, HttpError> {
        self.arguments(source)?
            .get_all(name)
            .iter()
            .map(|value| {
                std::str::from_utf8(value)
                    .map(|text| text.trim().to_owned())
                    .map_err(|_| {
                        HttpError::bad_request()
                            .log_message(format!("Invalid unicode in argument {name}"))
                    })
            })
            .collect()
    }
}
