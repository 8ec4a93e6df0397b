//! A running handler's mailbox: the address other actors (a room, a job) send it messages
//! through while it runs, and the queue it receives them from between its own awaits.
//!
//! The mailbox is made on the first [`RequestContext::recipient`] call, so handlers that never
//! hand out an address pay nothing. It is a small actix actor on the handler's own loop: its
//! `Addr` gives out `Recipient`s any actor on any thread can send to, and it moves each message
//! into the handler's queue and wakes the handler. When the handler finishes, the mailbox
//! stops, and later sends fail as sends to any stopped actor do (a room learns its waiter is
//! gone).

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use actix::{Actor, ActorContext, Addr, Context, Handler, Message, Recipient};

use super::context::RequestContext;
use crate::errors::HttpError;

/// Messages a handler's mailbox holds before it drops new ones (logged): a handler that never
/// receives cannot make its senders fill memory. 1 024.
pub const HANDLER_INBOX_CAPACITY: usize = 1024;

/// What the handler's context and its mailbox actor share (same thread).
#[derive(Default)]
struct Queue {
    /// Messages not yet received, oldest first, with their type.
    messages: RefCell<VecDeque<(TypeId, Box<dyn Any>)>>,
    /// The handler's task while it waits in [`RequestContext::receive`].
    waker: RefCell<Option<Waker>>,
    /// The handler finished: the mailbox stops at its next message.
    closed: Cell<bool>,
}

/// The handler's side of its mailbox.
pub(crate) struct Inbox {
    /// Messages received, shared with the mailbox actor.
    queue: Rc<Queue>,
    /// The mailbox actor, for making recipients.
    mailbox: Addr<Mailbox>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("queued", &self.queue.messages.borrow().len())
            .finish()
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.queue.closed.set(true);
        self.mailbox.do_send(Close);
    }
}

/// The mailbox actor: moves each message it gets into the handler's queue.
struct Mailbox {
    /// The handler's queue.
    queue: Rc<Queue>,
}

impl Actor for Mailbox {
    type Context = Context<Self>;
}

impl<M> Handler<M> for Mailbox
where
    M: Message<Result = ()> + Send + 'static,
{
    type Result = ();

    fn handle(&mut self, message: M, ctx: &mut Context<Self>) {
        if self.queue.closed.get() {
            ctx.stop();
            return;
        }
        let mut messages = self.queue.messages.borrow_mut();
        if messages.len() >= HANDLER_INBOX_CAPACITY {
            tracing::warn!(
                message = std::any::type_name::<M>(),
                "handler mailbox full; message dropped"
            );
            return;
        }
        messages.push_back((TypeId::of::<M>(), Box::new(message)));
        drop(messages);
        if let Some(waker) = self.queue.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// Stops the mailbox once its handler has finished.
struct Close;

impl Message for Close {
    // Not `()`, so that it is not one of the messages the mailbox hands to its handler.
    type Result = bool;
}

impl Handler<Close> for Mailbox {
    type Result = bool;

    fn handle(&mut self, _: Close, ctx: &mut Context<Self>) -> bool {
        ctx.stop();
        true
    }
}

impl RequestContext {
    /// This handler's address for messages of type `M`, while it runs: give it to another
    /// actor (a room, a job) on any thread, and take what it sends with
    /// [`receive`](Self::receive) between your own awaits. The handler becomes an actor in
    /// the full sense: a mailbox, messages handled one at a time, in order.
    ///
    /// The mailbox is made on the first call (a handler that never asks pays nothing) and
    /// stops when the handler finishes; sends after that fail as sends to a stopped actor do.
    /// It holds at most [`HANDLER_INBOX_CAPACITY`] unreceived messages.
    ///
    /// ```
    /// use actix::prelude::*;
    /// use cyclone_web::{HttpError, RequestContext, RequestHandler};
    ///
    /// /// What a room sends a waiting long-poll handler.
    /// #[derive(Message)]
    /// #[rtype(result = "()")]
    /// struct NewMessages(Vec<String>);
    ///
    /// /// A room's subscription: who to tell.
    /// #[derive(Message)]
    /// #[rtype(result = "()")]
    /// struct Subscribe(Recipient<NewMessages>);
    ///
    /// struct Updates {
    ///     room: Recipient<Subscribe>,
    /// }
    ///
    /// impl RequestHandler for Updates {
    ///     async fn post(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
    ///         self.room.do_send(Subscribe(cx.recipient::<NewMessages>()));
    ///         // Waits here, between awaits, until the room sends; the client leaving
    ///         // cancels the wait (and runs `on_connection_close`).
    ///         let NewMessages(messages) = cx.receive::<NewMessages>().await?;
    ///         cx.write_json(&messages)
    ///     }
    /// }
    /// ```
    pub fn recipient<M>(&mut self) -> Recipient<M>
    where
        M: Message<Result = ()> + Send + 'static,
    {
        let inbox = self.rare_mut().inbox.get_or_insert_with(|| {
            let queue = Rc::new(Queue::default());
            let mailbox = Mailbox {
                queue: Rc::clone(&queue),
            }
            .start();
            Inbox { queue, mailbox }
        });
        inbox.mailbox.clone().recipient()
    }

    /// The next message of type `M` sent to this handler's [`recipient`](Self::recipient),
    /// waiting for it. Messages of other types stay queued, in order, for their own
    /// `receive`. Fails (500) if the handler never made an address for messages to come to.
    /// To bound the wait, wrap it in `tokio::time::timeout`.
    pub async fn receive<M: 'static>(&mut self) -> Result<M, HttpError> {
        let Some(inbox) = self.rare().and_then(|rare| rare.inbox.as_ref()) else {
            return Err(HttpError::internal(
                "receive() before recipient(): nothing can send to this handler",
            ));
        };
        let queue = Rc::clone(&inbox.queue);
        poll_fn(|cx| match take::<M>(&queue) {
            Some(message) => Poll::Ready(Ok(message)),
            None => {
                *queue.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// The next message of type `M` already received, without waiting.
    pub fn try_receive<M: 'static>(&mut self) -> Option<M> {
        take::<M>(&self.rare()?.inbox.as_ref()?.queue)
    }
}

/// Takes the oldest queued message of type `M`.
fn take<M: 'static>(queue: &Queue) -> Option<M> {
    let mut messages = queue.messages.borrow_mut();
    let position = messages
        .iter()
        .position(|(type_id, _)| *type_id == TypeId::of::<M>())?;
    let (_, message) = messages.remove(position)?;
    message.downcast::<M>().ok().map(|message| *message)
}
