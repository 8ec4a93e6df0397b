//! [`RequestContext::ask`]: request-reply with an actor in one line, bounded in time, its
//! failures mapped to HTTP errors.

use std::time::Duration;

use actix::dev::{RecipientRequest, Request, ToEnvelope};
use actix::{Actor, Addr, Handler, MailboxError, Message, Recipient};
use http::StatusCode;

use crate::errors::HttpError;
use crate::handler::RequestContext;

/// How long [`RequestContext::ask`] waits for an answer unless
/// [`Settings::ask_timeout`](crate::Settings::ask_timeout) says otherwise. 10 s.
pub const DEFAULT_ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// Something a handler can ask with [`RequestContext::ask`]: an actor's `Addr` or a
/// `Recipient`.
pub trait Ask<M: Message + Send + 'static>
where
    M::Result: Send,
{
    /// The request, which resolves with the answer.
    type Request: std::future::Future<Output = Result<M::Result, MailboxError>>;

    /// Sends `message`, answered within `timeout`.
    fn ask(&self, message: M, timeout: Duration) -> Self::Request;
}

impl<A, M> Ask<M> for Addr<A>
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    type Request = Request<A, M>;

    fn ask(&self, message: M, timeout: Duration) -> Request<A, M> {
        self.send(message).timeout(timeout)
    }
}

impl<M> Ask<M> for Recipient<M>
where
    M: Message + Send + 'static,
    M::Result: Send,
{
    type Request = RecipientRequest<M>;

    fn ask(&self, message: M, timeout: Duration) -> RecipientRequest<M> {
        self.send(message).timeout(timeout)
    }
}

impl RequestContext {
    /// Sends `message` to an actor and waits for its answer, at most the application's
    /// `ask_timeout` (10 s by default): the actor pattern in one line, with `?`. An actor that
    /// is gone is a 500, one that does not answer in time a 503 (both logged).
    ///
    /// ```
    /// use actix::prelude::*;
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    ///
    /// #[derive(Message)]
    /// #[rtype(result = "u64")]
    /// struct Next;
    ///
    /// #[derive(Default)]
    /// struct Counter(u64);
    /// impl Actor for Counter {
    ///     type Context = Context<Self>;
    /// }
    /// impl Handler<Next> for Counter {
    ///     type Result = u64;
    ///     fn handle(&mut self, _: Next, _: &mut Context<Self>) -> u64 {
    ///         self.0 += 1;
    ///         self.0
    ///     }
    /// }
    ///
    /// struct Visits {
    ///     counter: Addr<Counter>,
    /// }
    /// impl RequestHandler for Visits {
    ///     async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
    ///         let visits = cx.ask(&self.counter, Next).await?;
    ///         cx.write(format!("visit #{visits}"));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn ask<M, T>(&self, actor: &T, message: M) -> Result<M::Result, HttpError>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        T: Ask<M>,
    {
        let timeout = self.settings().ask_timeout.unwrap_or(DEFAULT_ASK_TIMEOUT);
        actor
            .ask(message, timeout)
            .await
            .map_err(|error| match error {
                MailboxError::Timeout => HttpError::new(StatusCode::SERVICE_UNAVAILABLE)
                    .log_message(format!(
                        "{} did not answer within {timeout:?}",
                        std::any::type_name::<M>()
                    )),
                MailboxError::Closed => HttpError::internal(format!(
                    "the actor for {} is gone",
                    std::any::type_name::<M>()
                )),
            })
    }
}
