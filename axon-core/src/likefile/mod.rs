//! Components as files and streams: Kamaelia's `LikeFile`, made for Rust.
//!
//! A [`Handle`](crate::Handle) lets ordinary code put messages into a component and get its
//! answers. This module plugs components and boxes into Rust's own I/O and stream traits, so that
//! the tools written for those work on components:
//!
//! | what                                    | is                                                                 | so that                          |
//! |-----------------------------------------|--------------------------------------------------------------------|----------------------------------|
//! | a byte-carrying component, [`LikeFile`] | `std::io::{Read, Write, BufRead}`, `tokio::io::{AsyncRead, AsyncWrite, AsyncBufRead}` | `std::io::copy`, `tokio::io::copy`, `lines()` move data through it |
//! | any component, through its [`Handle`](crate::Handle) | a `futures` [`Stream`](futures_core::Stream) of its `outbox` and a [`Sink`](futures_sink::Sink) into its `inbox` | `StreamExt` / `SinkExt` work on components |
//! | a box, inside a component               | an [`Inbox`](crate::Inbox) is a `Stream`; an [`OutboxSink`] is a `Sink` | a body can `forward` a stream into a box |
//! | any other box of a component            | [`BoxSender`] into a named inbox, [`BoxReceiver`] from a named outbox | Kamaelia's `extrainboxes` / `extraoutboxes` |
//!
//! # Example
//!
//! A component that upper-cases bytes, driven as a file: `std::io::copy` writes into it from one
//! thread while the other reads what it sends back.
//!
//! ```
//! use std::io::{Read, Write};
//! use axon_core::prelude::*;
//! use axon_core::likefile::LikeFile;
//!
//! let upper = from_fn("Upper", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
//!     while let Some(event) = ctx.next_event().await {
//!         match event {
//!             Event::Data(bytes) => ctx.outbox.send(bytes.to_ascii_uppercase()).await,
//!             Event::Control(msg) if msg.is_shutdown_request() => {
//!                 ctx.signal.send(msg).await;
//!                 break;
//!             }
//!             Event::Control(_) => {}
//!         }
//!     }
//!     Ok(())
//! });
//!
//! let file = LikeFile::new(upper, &Scheduler::new());
//! let (mut input, mut output) = file.split();
//! let writer = std::thread::spawn(move || {
//!     std::io::copy(&mut &b"hello, components\n"[..], &mut input)?;
//!     input.close() // ProducerFinished to `control`: the end of the file for the component
//! });
//! let mut text = String::new();
//! output.read_to_string(&mut text).unwrap();
//! writer.join().unwrap().unwrap();
//! assert_eq!(text, "HELLO, COMPONENTS\n");
//! ```
//!
//! `examples/line_filter.rs` in the repository is a grep built from components and used this way,
//! over standard input and output.
//!
//! # How it works
//!
//! A [`LikeFile`] is a [`Handle`](crate::Handle) split into its halves. Its writer turns each
//! write into one message (at most [`DEFAULT_MAX_CHUNK`] bytes; `I: From<Vec<u8>>`, so `Vec<u8>`,
//! `bytes::Bytes`, `Box<[u8]>`...) and sends it to the component's `inbox`; its reader takes the
//! messages that come out of the component's `outbox` (`O: AsRef<[u8]>`) and hands out their
//! bytes, a message at a time.
//!
//! **The end of the file, both ways.** Closing the writer (`close`, or `shutdown` in async code)
//! sends a `ProducerFinished` to the component's `control` and closes its input, as
//! [`Handle`](crate::Handle)'s docs recommend, so the component ends whether it watches `control`
//! or reads `inbox` until it closes. Dropping the writer does the same without waiting (the
//! `ProducerFinished` is sent if there is room). The reader's end of the file (a read of 0 bytes)
//! comes once it has read everything and either the component's `outbox` has closed (the
//! component has ended) or a shutdown message has come out of its `signal`; if the component
//! ended with a failure, that read is an error naming the component and how it ended.
//!
//! **Bounded, both ways.** Boxes are bounded, so a reader that stops reading holds the writer
//! back: the component's `outbox` fills the reader's box (64 messages), the component waits to
//! send, its `inbox` fills, and the writer waits (blocking writes block; async writes return
//! `Pending`). Nothing in between grows: the writer holds at most one message of its own. That is
//! also why one thread must not write everything and only then read, when the component answers
//! as it reads: it would wait for ever, the component waiting for room to answer. Write from one
//! thread and read from another ([`LikeFile::split`]), or `tokio::join!` a writing and a reading
//! future. A whole `LikeFile` written from one thread logs a warning naming the component when it
//! sees this happen; `set_write_timeout` and `set_read_timeout` bound the waits of the blocking
//! forms, as a socket's do.
//!
//! **Streams and sinks.** The `Stream`s end when the box they read closes (for a handle: the
//! component has ended and everything it sent has been taken), as [`Inbox::recv`](crate::Inbox::recv)
//! returns `None`. A `Sink` accepts one message ([`start_send`](futures_sink::Sink::start_send)),
//! delivers it when there is room ([`poll_flush`](futures_sink::Sink::poll_flush), or the next
//! [`poll_ready`](futures_sink::Sink::poll_ready)), and fails with [`SendError`] when the component
//! it sends to has ended (an outbox that is not linked discards, as in Axon). Closing a handle's
//! sink ends the input as closing a `LikeFile`'s writer does; closing an [`OutboxSink`] only
//! flushes it.
//!
//! ```
//! use axon_core::prelude::*;
//! use futures_util::{SinkExt, StreamExt};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let double = from_fn("Double", |mut ctx: Context<u32, u32>| async move {
//!     while let Some(n) = ctx.inbox.recv().await {
//!         ctx.outbox.send(2 * n).await;
//!     }
//!     Ok(())
//! });
//! let (mut input, output) = Handle::new(double, &Scheduler::new()).split();
//! let feed = async move {
//!     input.send_all(&mut futures_util::stream::iter(1..=3).map(Ok)).await?;
//!     SinkExt::close(&mut input).await // ProducerFinished, and the input closes: Double ends
//! };
//! let (fed, doubled) = tokio::join!(feed, output.collect::<Vec<u32>>());
//! fed.unwrap();
//! assert_eq!(doubled, [2, 4, 6]);
//! # });
//! ```
//!
//! # Porting from Kamaelia
//!
//! Kamaelia's `LikeFile(component, extrainboxes, extraoutboxes)` ran the component on a background
//! scheduler thread and moved messages through unbounded Python queues, polled by two wrapper
//! components; `send` and `recv` took a box name. Here the handle's boxes are linked straight to
//! the component's (one hop, the component's own bounds), each extra box gets a typed handle of its
//! own ([`BoxSender`], [`BoxReceiver`]), and `LikeFile` is the byte-file face: Rust's `Read` and
//! `Write` rather than `send(msg, box)`. Its `shutdown()` (three shutdown messages to `control`)
//! is `close` on the writer.

mod box_handle;
mod file;
mod stream;

pub use box_handle::{BoxReceiver, BoxSender};
pub use file::{LikeFile, LikeFileReader, LikeFileWriter, DEFAULT_MAX_CHUNK};
pub use stream::OutboxSink;

/// A message could not be sent through a sink or a box handle. The variants are what callers may
/// match on; the message wording may change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The component owning the destination box has ended: it takes nothing more.
    #[error("`{destination}` takes no more messages: its component has ended")]
    Ended {
        /// The destination box, as `component.box`.
        destination: String,
    },
    /// The handle's input was closed (closing the sink, `close`, or `close_input`) before this.
    #[error("the input to `{component}` was closed: nothing more can be sent to it")]
    InputClosed {
        /// The component whose input was closed.
        component: String,
    },
}
