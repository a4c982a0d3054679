//! Console input and output: [`ConsoleReader`] and [`ConsoleEchoer`].
//!
//! [`ConsoleReader`] sends each line typed at the console out of its `outbox`;
//! [`ConsoleEchoer`] writes whatever reaches its `inbox` to standard output. Both carry
//! [`Bytes`] by default, so they sit on either side of a
//! [`TCPClient`](crate::tcp_client::TCPClient) as they do in Kamaelia's
//! `Pipeline(ConsoleReader(), TCPClient("127.0.0.1", 1500), ConsoleEchoer())`
//! (`examples/echo_client.rs`).
//!
//! # Example
//!
//! Echo back whatever is typed, a line at a time (ports `Kamaelia.Util.Console`; the two are
//! linked by hand here, as a pipeline would link them):
//!
//! ```no_run
//! use axon_core::{Instance, Scheduler};
//! use kamaelia_chassis::console::{ConsoleEchoer, ConsoleReader};
//!
//! let scheduler = Scheduler::new();
//! let reader = Instance::new(ConsoleReader::new());
//! let echoer = Instance::new(ConsoleEchoer::new());
//! scheduler.link((&reader, "outbox"), (&echoer, "inbox")).unwrap();
//! scheduler.link((&reader, "signal"), (&echoer, "control")).unwrap();
//! reader.activate(&scheduler);
//! echoer.activate(&scheduler);
//! scheduler.run().unwrap(); // ends when standard input does (Ctrl-D)
//! ```
//!
//! Both can use other sources and sinks than the console, which is how they are tested:
//!
//! ```
//! use axon_core::{Instance, Scheduler};
//! use kamaelia_chassis::console::{ConsoleEchoer, ConsoleReader, SharedBuffer};
//!
//! let scheduler = Scheduler::new();
//! let out = SharedBuffer::default();
//! let reader = Instance::new(ConsoleReader::from_reader(&b"one\ntwo\n"[..]));
//! let echoer = Instance::new(ConsoleEchoer::new().writing_to(out.clone()));
//! scheduler.link((&reader, "outbox"), (&echoer, "inbox")).unwrap();
//! scheduler.link((&reader, "signal"), (&echoer, "control")).unwrap();
//! reader.activate(&scheduler);
//! echoer.activate(&scheduler);
//! scheduler.run().unwrap();
//! assert_eq!(out.contents(), b"one\ntwo\n");
//! ```
//!
//! # How it works
//!
//! `ConsoleReader` blocks on standard input, so it is a threaded component (its own OS thread;
//! see [`axon_core::threaded`]): it prints its prompt, reads a line, sends it, and repeats until
//! end of input, then sends `ProducerFinished` out of `signal`. Between lines it looks at
//! `control`, and ends if it finds a shutdown request there (a read in progress cannot be
//! interrupted: it ends after the next line, or at end of input). A line longer than
//! [`max_line_length`](ConsoleReader::max_line_length) is sent in pieces of that size, so a
//! newline-free input cannot grow a buffer without bound.
//!
//! `ConsoleEchoer` writes each message as it is (no newline added), then flushes, so output
//! appears at once. When a message arrives on `control` it first writes what is already queued
//! in its `inbox` (which was sent before the control message), then passes the message on out of
//! `signal`; a shutdown request then ends it.
//!
//! # Porting from Kamaelia
//!
//! * `ConsoleReader(prompt=">>> ", eol="\n")` is `ConsoleReader::new()` (the same defaults) with
//!   [`with_prompt`](ConsoleReader::with_prompt) and [`with_eol`](ConsoleReader::with_eol).
//!   Kamaelia's never terminates; this one ends at end of input with `ProducerFinished`, and on a
//!   shutdown request.
//! * `ConsoleEchoer(forwarder=False)` is `ConsoleEchoer::new()`, with
//!   [`forwarder`](ConsoleEchoer::forwarder). Kamaelia writes `str(data)`; this one writes bytes
//!   ([`AsRef<[u8]>`]: `Bytes`, `String`, `Vec<u8>`, ...). Kamaelia's `use_repr` is not ported.
//!   It also ends when its `inbox` closes (everything upstream has ended).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use axon_core::ipc::ProducerFinished;
use axon_core::{
    BoxKind, Component, ComponentKind, ComponentResult, Context, Declarations, Threaded, ThreadedComponent,
    TryRecvError,
};
use bytes::Bytes;

/// The longest line [`ConsoleReader`] sends as one message, in bytes: 64 KiB. A longer line is
/// sent in pieces of this size (only the last piece ends with the end-of-line text).
pub const DEFAULT_MAX_LINE_LENGTH: usize = 64 * 1024;

/// Why a console component failed. Callers may match on the variants; the wording may change.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Reading the input failed.
    #[error("cannot read from {source_name}: {source}")]
    Read {
        /// `standard input`, or `the given reader`.
        source_name: &'static str,
        /// The error.
        source: io::Error,
    },
    /// Writing the output failed (for example, standard output was closed).
    #[error("cannot write to {target}: {source}")]
    Write {
        /// `standard output`, or `the given writer`.
        target: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// Sends each line read from standard input out of its `outbox`. See the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                      |
/// |-----------|---------|-------------------------------------------------------------------|
/// | `inbox`   | `()`    | NOT USED                                                          |
/// | `control` | `Ipc`   | A shutdown request: end after the current line (passed on out of `signal`) |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                        |
/// |----------|---------|--------------------------------------------------------------------|
/// | `outbox` | `Bytes` | Lines that were typed at the console, each ending with the end-of-line text |
/// | `signal` | `Ipc`   | `ProducerFinished` at end of input, or the shutdown request that ended it |
///
/// # Shutdown
///
/// Ends at end of input (`ProducerFinished` out of `signal`), when it finds a shutdown request on
/// `control` between lines, or when stopped (its thread then ends after the current read).
pub struct ConsoleReader {
    prompt: String,
    eol: String,
    max_line_length: usize,
    input: Input,
}

enum Input {
    Stdin,
    Reader(Box<dyn BufRead + Send>),
}

impl fmt::Debug for ConsoleReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleReader")
            .field("prompt", &self.prompt)
            .field("eol", &self.eol)
            .field("max_line_length", &self.max_line_length)
            .field("input", &if matches!(self.input, Input::Stdin) { "stdin" } else { "reader" })
            .finish()
    }
}

impl Default for ConsoleReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleReader {
    /// Reads standard input, with Kamaelia's prompt `">>> "` and end-of-line `"\n"`.
    pub fn new() -> Self {
        ConsoleReader {
            prompt: ">>> ".to_owned(),
            eol: "\n".to_owned(),
            max_line_length: DEFAULT_MAX_LINE_LENGTH,
            input: Input::Stdin,
        }
    }

    /// Reads `reader` instead of standard input, with no prompt (for tests, files, pipes).
    pub fn from_reader(reader: impl BufRead + Send + 'static) -> Self {
        ConsoleReader { prompt: String::new(), input: Input::Reader(Box::new(reader)), ..Self::new() }
    }

    /// Prints `prompt` on standard output before each line (empty: no prompt).
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// Ends each line sent with `eol` instead of `"\n"` (the line's own `\n` or `\r\n` is removed
    /// first).
    pub fn with_eol(mut self, eol: impl Into<String>) -> Self {
        self.eol = eol.into();
        self
    }

    /// Sends lines longer than `bytes` in pieces of that size ([`DEFAULT_MAX_LINE_LENGTH`]); at
    /// least 1.
    pub fn max_line_length(mut self, bytes: usize) -> Self {
        self.max_line_length = bytes.max(1);
        self
    }
}

impl Component for ConsoleReader {
    type Inbox = ();
    type Outbox = Bytes;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "NOT USED")
            .describe(
                BoxKind::Inbox,
                "control",
                "A shutdown request: end after the current line (passed on out of signal)",
            )
            .describe(
                BoxKind::Outbox,
                "outbox",
                "Lines that were typed at the console, each ending with the end-of-line text",
            )
            .describe(
                BoxKind::Outbox,
                "signal",
                "ProducerFinished at end of input, or the shutdown request that ended it",
            );
    }

    fn class_name(&self) -> Cow<'static, str> {
        "ConsoleReader".into()
    }

    fn kind(&self) -> ComponentKind {
        ComponentKind::Thread
    }

    async fn main(self, ctx: Context<(), Bytes>) -> ComponentResult {
        Threaded(Reading(self)).main(ctx).await
    }
}

/// The reader's blocking body, run on its own thread.
struct Reading(ConsoleReader);

impl ThreadedComponent for Reading {
    type Inbox = ();
    type Outbox = Bytes;

    fn main(self, mut ctx: Context<(), Bytes>) -> ComponentResult {
        let ConsoleReader { prompt, eol, max_line_length, input } = self.0;
        let (mut input, source_name): (Box<dyn BufRead + Send>, _) = match input {
            Input::Stdin => (Box::new(io::BufReader::new(io::stdin())), "standard input"),
            Input::Reader(r) => (r, "the given reader"),
        };
        let mut line = Vec::new();
        loop {
            match ctx.control.try_recv() {
                Ok(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send_blocking(msg);
                    return Ok(());
                }
                Ok(_) | Err(TryRecvError::Empty) => {}
                // Closed: stopped from outside (or every sender to control has gone, which for a
                // reader means nobody can stop it any more: read on).
                Err(TryRecvError::Closed) if ctx.me().has_ended() => return Ok(()),
                Err(TryRecvError::Closed) => {}
            }
            if !prompt.is_empty() {
                let mut out = io::stdout().lock();
                // A prompt that cannot be shown is no reason to stop reading.
                let _ = out.write_all(prompt.as_bytes()).and_then(|_| out.flush());
            }
            line.clear();
            let limit = u64::try_from(max_line_length).unwrap_or(u64::MAX);
            let n = (&mut input)
                .take(limit)
                .read_until(b'\n', &mut line)
                .map_err(|source| ConsoleError::Read { source_name, source })?;
            if n == 0 {
                ctx.signal.send_blocking(ProducerFinished::from(ctx.id()).into());
                return Ok(());
            }
            if line.ends_with(b"\n") {
                line.pop();
                if line.ends_with(b"\r") {
                    line.pop();
                }
                line.extend_from_slice(eol.as_bytes());
            }
            ctx.outbox.send_blocking(Bytes::copy_from_slice(&line));
        }
    }
}

/// Writes everything that reaches its `inbox` to standard output. See the [module docs](self).
///
/// `T` is what it carries: [`Bytes`] unless chosen otherwise (`ConsoleEchoer::<String>::default()`).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                        |
/// |-----------|---------|---------------------------------------------------------------------|
/// | `inbox`   | `T`     | Data to write to standard output, as it is                          |
/// | `control` | `Ipc`   | Shutdown signalling: passed on out of `signal`; `ProducerFinished` or `ShutdownMicroprocess` ends it |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                         |
/// |----------|---------|---------------------------------------------------------------------|
/// | `outbox` | `T`     | NOT USED                                                            |
/// | `signal` | `Ipc`   | What arrived on `control`; `ProducerFinished` if it ended because its `inbox` closed |
///
/// With [`forwarder(true)`](Self::forwarder), `outbox` carries what reached `inbox`, after
/// writing it, and is described so: "What reached inbox, after writing it".
///
/// # Shutdown
///
/// On a shutdown request (`ProducerFinished`, `ShutdownMicroprocess`, `Shutdown`) on `control`
/// it writes what is queued in `inbox`, passes the request on, and ends. It also ends when its
/// `inbox` closes. A failed write (standard output closed) makes it fail with
/// [`ConsoleError::Write`].
pub struct ConsoleEchoer<T = Bytes> {
    forwarder: bool,
    output: Output,
    _carries: PhantomData<fn(T) -> T>,
}

enum Output {
    Stdout,
    Writer(Box<dyn Write + Send>),
}

impl Output {
    fn name(&self) -> &'static str {
        match self {
            Output::Stdout => "standard output",
            Output::Writer(_) => "the given writer",
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()
            }
            Output::Writer(w) => {
                w.write_all(data)?;
                w.flush()
            }
        }
    }
}

impl<T> fmt::Debug for ConsoleEchoer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleEchoer")
            .field("forwarder", &self.forwarder)
            .field("output", &self.output.name())
            .finish()
    }
}

impl<T> Default for ConsoleEchoer<T> {
    fn default() -> Self {
        ConsoleEchoer { forwarder: false, output: Output::Stdout, _carries: PhantomData }
    }
}

impl ConsoleEchoer<Bytes> {
    /// Writes [`Bytes`] to standard output (Kamaelia's `ConsoleEchoer()`). For other types use
    /// `ConsoleEchoer::<T>::default()`.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T> ConsoleEchoer<T> {
    /// When true, also sends each message on out of `outbox` after writing it (Kamaelia's
    /// `forwarder=True`).
    pub fn forwarder(mut self, forwarder: bool) -> Self {
        self.forwarder = forwarder;
        self
    }

    /// Writes to `writer` instead of standard output (flushing after each message).
    pub fn writing_to(mut self, writer: impl Write + Send + 'static) -> Self {
        self.output = Output::Writer(Box::new(writer));
        self
    }
}

impl<T: AsRef<[u8]> + Send + 'static> Component for ConsoleEchoer<T> {
    type Inbox = T;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "Data to write to standard output, as it is")
            .describe(
                BoxKind::Inbox,
                "control",
                "Shutdown signalling: passed on out of signal; ProducerFinished or ShutdownMicroprocess ends it",
            )
            .describe(
                BoxKind::Outbox,
                "outbox",
                if self.forwarder { "What reached inbox, after writing it" } else { "NOT USED" },
            )
            .describe(
                BoxKind::Outbox,
                "signal",
                "What arrived on control; ProducerFinished if it ended because its inbox closed",
            );
    }

    fn class_name(&self) -> Cow<'static, str> {
        "ConsoleEchoer".into()
    }

    async fn main(mut self, mut ctx: Context<T, T>) -> ComponentResult {
        let mut control_open = true;
        loop {
            tokio::select! {
                // Data first: what was sent before a control message is written before it acts.
                biased;
                data = ctx.inbox.recv() => match data {
                    Some(data) => self.echo(&mut ctx, data).await?,
                    None => {
                        // Everything upstream has ended; pass on what reached control meanwhile.
                        while let Ok(msg) = ctx.control.try_recv() {
                            ctx.signal.send(msg).await;
                        }
                        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
                        return Ok(());
                    }
                },
                msg = ctx.control.recv(), if control_open => match msg {
                    Some(msg) => {
                        for _ in 0..ctx.inbox.data_ready() {
                            let Ok(data) = ctx.inbox.try_recv() else { break };
                            self.echo(&mut ctx, data).await?;
                        }
                        let done = msg.is_shutdown_request();
                        ctx.signal.send(msg).await;
                        if done {
                            return Ok(());
                        }
                    }
                    None => control_open = false,
                },
            }
        }
    }
}

impl<T: AsRef<[u8]> + Send + 'static> ConsoleEchoer<T> {
    async fn echo(&mut self, ctx: &mut Context<T, T>, data: T) -> Result<(), ConsoleError> {
        self.output
            .write(data.as_ref())
            .map_err(|source| ConsoleError::Write { target: self.output.name(), source })?;
        if self.forwarder {
            ctx.outbox.send(data).await;
        }
        Ok(())
    }
}

/// A cloneable in-memory writer: give one clone to [`ConsoleEchoer::writing_to`] and read what
/// was written through another (for tests and examples).
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
