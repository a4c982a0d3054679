//! What the connection has handed to its socket adapter and the adapter has not yet written, and
//! the waits that keep it small: [`Behind`].
//!
//! Once a response's messages are in the socket adapter's `inbox`, the request handler no longer
//! sees them; while the client reads slowly, or not at all, they wait there. So that they cannot
//! pile up, the request handler puts [`Receipt`]s in the stream (positions are the bytes handed
//! over so far) and, where the rules below say, waits until the adapter has signed one, that is,
//! until everything before it has been handed to the kernel:
//!
//! * **A file region is written before anything more is made.** A region keeps its file open
//!   until it is sent. After a flush that handed one over, the request handler waits for it to be
//!   written before it goes on, so the next request's handler (which may open a file of its own)
//!   is not even made until then: a connection holds at most one open file, whatever the client
//!   pipelines (issue 16, defect 2).
//!
//! * **No more than [`write_behind`](crate::HttpSettings::write_behind) bytes wait unwritten.**
//!   After a flush that leaves more than that handed over and not yet written, the request
//!   handler waits until all of it is written. Responses to a client that pipelines requests and
//!   reads slowly, or not at all, are made no faster than it reads them, and what waits for it in
//!   memory is bounded by this and one flush (issue 16, defect 3). A client that reads keeps its
//!   responses coming: they are made while up to this much waits, and go out in few writes.
//! * **Every response that keeps the connection open ends with a receipt**, and counts as
//!   answered in the connection's [`Answered`], which the parser reads: the keep-alive timeout
//!   counts from when that receipt is signed, the end of the response, not the end of its
//!   request (issue 16, defect 5).
//!
//! While it waits, the request handler takes nothing from its `inbox`: the requests a client
//! pipelines behind a large file wait their turn in the parser's boxes, then in the kernel.

use std::sync::Arc;

use axon_core::Context;
use kamaelia_chassis::socket::{Payload, Written};

use crate::answered::Answered;
use crate::parser::Parsed;

/// The bytes handed to the socket adapter and what it has written of them (see the
/// [module docs](self)).
pub(super) struct Behind {
    /// The requests answered, shared with the parser.
    answered: Arc<Answered>,
    /// Of them, how many this request handler has answered.
    count: u64,
    /// What the adapter has signed (`answered`'s).
    written: Arc<Written>,
    /// Bytes handed to the adapter so far: the position of the next receipt.
    passed: u64,
    /// The position of the last receipt sent.
    receipted: u64,
    /// A file region was handed over since the last receipt.
    file_passed: bool,
    /// The most bytes that may be handed over and not yet written before a flush waits
    /// ([`HttpSettings::write_behind`](crate::HttpSettings::write_behind)).
    limit: u64,
}

impl Behind {
    /// Nothing handed over yet, nothing answered.
    pub(super) fn new(answered: Arc<Answered>, limit: usize) -> Self {
        let written = answered.written().clone();
        let limit = limit as u64;
        Behind { answered, count: 0, written, passed: 0, receipted: 0, file_passed: false, limit }
    }

    /// At the end of a response after which the connection stays open: sends a receipt for it
    /// (unless one went with its last flush) and counts it answered, so that the keep-alive wait
    /// counts from the moment the adapter signs that receipt.
    pub(super) async fn answered(&mut self, ctx: &mut Context<Parsed, Payload>) {
        self.receipt(ctx).await;
        self.count += 1;
        self.answered.answered(self.count, self.passed);
    }

    /// Sends a receipt for everything handed over, unless one was sent for it already.
    async fn receipt(&mut self, ctx: &mut Context<Parsed, Payload>) {
        if self.receipted < self.passed {
            self.receipted = self.passed;
            ctx.outbox.send(Payload::Receipt(self.written.receipt(self.passed))).await;
        }
    }

    /// Notes a payload handed to the adapter.
    #[inline]
    pub(super) fn note(&mut self, payload: &Payload) {
        self.passed += payload.len();
        self.file_passed |= matches!(payload, Payload::File(_));
    }

    /// After a flush: waits, if the rules say so, until what was handed over is written. False
    /// if the client has gone (the adapter has ended, and will sign nothing more).
    pub(super) async fn settle(&mut self, ctx: &mut Context<Parsed, Payload>) -> bool {
        let unwritten = self.passed - self.written.position();
        if !self.file_passed && unwritten <= self.limit {
            return true;
        }
        self.file_passed = false;
        self.wait_until_written(ctx).await
    }

    /// Sends a receipt for everything handed over (unless one was sent for it already) and waits
    /// until the adapter signs it; false if it never will (the client has gone).
    async fn wait_until_written(&mut self, ctx: &mut Context<Parsed, Payload>) -> bool {
        let position = self.passed;
        self.receipt(ctx).await;
        // Signed, or dropped unsigned by an adapter that has ended: either wakes `changed`.
        while self.written.position() < position {
            if self.written.abandoned() || client_gone(ctx) {
                return false;
            }
            self.written.changed().await;
        }
        true
    }
}

/// The socket adapter has ended (its inbox is dead, or its linkage to us was removed when it
/// ended): nothing sent now would reach the client.
pub(super) fn client_gone(ctx: &mut Context<Parsed, Payload>) -> bool {
    !ctx.outbox.is_linked() || ctx.outbox.destination_ended()
}
