//! Running a handler of the call kind (a function or a tower service, see
//! [`function`](crate::function)) inside the request handler: no component, no boxes. The
//! exchange polls it where it would look at a component's boxes, and it answers with the same
//! messages a component sends ([`Resource`]), so that everything after (framing, limits, the
//! log) is shared.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll};

use axon_core::Exit;
use bytes::Bytes;

use super::hosting::panic_text;
use crate::body::{BodyError, BodySender};
use crate::function::{Answer, Call, ResponseBody};
use crate::resource::Resource;

/// A call under way: its answer, then its body.
pub(super) struct Calling {
    name: &'static str,
    /// The request handler's end of the request body, until it is complete.
    body: Option<BodySender>,
    state: State,
}

enum State {
    /// Waiting for the answer's head.
    Answering(Answer),
    /// Sending the answer's body.
    Sending(ResponseBody),
    /// Nothing more: it finished, failed, or was let go.
    Done,
}

/// What a call did.
pub(super) enum Event {
    /// The head, or a piece of the body.
    Resource(Resource),
    /// Its answer is complete.
    Finished,
    /// It panicked or failed (`Exit::Panicked`, `Exit::Failed`).
    Ended(Exit),
}

impl Calling {
    pub(super) fn new(call: Call) -> Self {
        Calling { name: call.name, body: call.body, state: State::Answering(call.answer) }
    }

    /// The function's or service's type, for the log.
    pub(super) fn name(&self) -> &'static str {
        self.name
    }

    /// Moves the call on: ready with what it did. A panic, in the answer's future or its body,
    /// is caught here and reported as the call's end.
    pub(super) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Event> {
        let polled = match &mut self.state {
            State::Done => return Poll::Pending,
            State::Answering(answer) => match catch_unwind(AssertUnwindSafe(|| answer.as_mut().poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Ok(response))) => {
                    self.state = State::Sending(response.body);
                    return Poll::Ready(Event::Resource(Resource::Head(response.head)));
                }
                Ok(Poll::Ready(Err(e))) => Err(Exit::Failed(e.to_string())),
                Err(panic) => Err(Exit::Panicked(panic_text(&*panic))),
            },
            State::Sending(body) => match catch_unwind(AssertUnwindSafe(|| body.poll_piece(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Some(Ok(piece)))) => return Poll::Ready(Event::Resource(Resource::Data(piece))),
                Ok(Poll::Ready(None)) => Ok(()),
                Ok(Poll::Ready(Some(Err(e)))) => Err(Exit::Failed(format!("its body failed: {e}"))),
                Err(panic) => Err(Exit::Panicked(panic_text(&*panic))),
            },
        };
        self.state = State::Done;
        Poll::Ready(match polled {
            Ok(()) => Event::Finished,
            Err(exit) => Event::Ended(exit),
        })
    }

    /// The answer's head is out and no body may follow it (HEAD, 204, 304): the body is let go
    /// without being polled.
    pub(super) fn drop_body(&mut self) {
        if let State::Sending(_) = self.state {
            self.state = State::Done;
        }
    }

    /// Passes a piece of the request body on, or gives it back if there is no room.
    pub(super) fn try_pass(&mut self, piece: Bytes) -> Result<(), Bytes> {
        match &mut self.body {
            Some(body) => body.try_send(piece),
            None => Ok(()),
        }
    }

    /// Ready when a piece of the request body can be passed on.
    pub(super) fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.body {
            Some(body) => body.poll_room(cx),
            None => Poll::Ready(()),
        }
    }

    /// The request body is complete.
    pub(super) fn end_body(&mut self) {
        if let Some(mut body) = self.body.take() {
            body.finish();
        }
    }

    /// The request body broke off.
    pub(super) fn break_body(&mut self, why: BodyError) {
        if let Some(mut body) = self.body.take() {
            body.fail(why);
        }
    }
}
