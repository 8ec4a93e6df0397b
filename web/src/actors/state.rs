//! [`StateActor`]: a value kept in an actor, read and changed by closures sent as messages:
//! Tornado's module-level counter or cache, made safe across workers, without a message type
//! and a `Handler` impl per operation.

use std::fmt;

use actix::prelude::*;

use crate::errors::HttpError;

/// A value owned by an actor (one, on the loop that starts it). Handlers on any worker change
/// it with closures that run inside the actor, one at a time, so no lock is needed and no
/// update is lost.
///
/// ```
/// use cyclone_web::{HttpError, RequestContext, RequestHandler, StateActor, StateAddr};
///
/// struct Counter {
///     count: StateAddr<u64>,
/// }
///
/// impl RequestHandler for Counter {
///     async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
///         let count = self.count.update(|count| { *count += 1; *count }).await?;
///         cx.write_json(&serde_json::json!({ "count": count }))
///     }
/// }
///
/// actix_rt::System::new().block_on(async {
///     let count = StateActor::start(0u64);
///     assert_eq!(count.update(|count| { *count += 2; *count }).await.unwrap(), 2);
///     # drop(Counter { count });
/// });
/// ```
#[derive(Debug)]
pub struct StateActor<T> {
    /// The value; boxed so the actor is `Unpin` whatever `T` is.
    state: Box<T>,
}

impl<T: Send + 'static> StateActor<T> {
    /// Starts an actor holding `state` on the current loop; its address may go anywhere.
    pub fn start(state: T) -> StateAddr<T> {
        StateAddr {
            addr: Actor::start(StateActor {
                state: Box::new(state),
            }),
        }
    }
}

impl<T: 'static> Actor for StateActor<T> {
    type Context = Context<Self>;
}

/// A closure to run on the state, and the type of its answer.
struct Apply<T, R>(Box<dyn FnOnce(&mut T) -> R + Send>);

impl<T, R: 'static> Message for Apply<T, R> {
    type Result = R;
}

impl<T: 'static, R: Send + 'static> Handler<Apply<T, R>> for StateActor<T> {
    type Result = MessageResult<Apply<T, R>>;

    fn handle(&mut self, Apply(change): Apply<T, R>, _: &mut Context<Self>) -> Self::Result {
        MessageResult(change(&mut self.state))
    }
}

/// The address of a [`StateActor`]: cloneable, `Send`, usable from any worker.
pub struct StateAddr<T: 'static> {
    /// The actor.
    addr: Addr<StateActor<T>>,
}

impl<T> Clone for StateAddr<T> {
    fn clone(&self) -> Self {
        StateAddr {
            addr: self.addr.clone(),
        }
    }
}

impl<T> fmt::Debug for StateAddr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateAddr")
            .field("state", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: Send + 'static> StateAddr<T> {
    /// Runs `change` on the state inside the actor and answers with what it returns. Fails
    /// (500 with `?`) only if the actor is gone.
    pub async fn update<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Result<R, HttpError> {
        self.addr
            .send(Apply(Box::new(change)))
            .await
            .map_err(HttpError::from)
    }

    /// Reads the state: a copy of what `read` takes from it.
    pub async fn read<R: Send + 'static>(
        &self,
        read: impl FnOnce(&T) -> R + Send + 'static,
    ) -> Result<R, HttpError> {
        self.update(move |state| read(state)).await
    }
}
