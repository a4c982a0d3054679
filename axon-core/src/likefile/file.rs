//! [`LikeFile`]: a component that carries bytes, driven as a file (std's `Read`/`Write`/`BufRead`
//! from a plain thread, tokio's `AsyncRead`/`AsyncWrite`/`AsyncBufRead` from async code).
//!
//! See the [module docs](super) for the whole story; this file holds the types.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use futures_sink::Sink;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

use crate::block_on::block_on_deadline;
use crate::component::Component;
use crate::component_ref::ComponentRef;
use crate::handle::{Handle, HandleInput, HandleOutput};
use crate::instance::IntoInstance;
use crate::ipc::ProducerFinished;
use crate::lifecycle::Exit;
use crate::likefile::SendError;
use crate::scheduler::Scheduler;

/// The most bytes one write turns into one message, unless set otherwise
/// ([`LikeFile::set_max_chunk`]).
///
/// A longer write takes this many bytes and says so (`Ok(n)` with `n` smaller than asked, as
/// `Write::write` may), and `write_all` / `std::io::copy` write the rest next. With the default
/// inbox capacity of 64 messages, what a writer can have queued ahead of a slow component is
/// bounded by 64 × this (4 MiB); `std::io::copy` and `tokio::io::copy` write 8 KiB at a time, so
/// the cap matters only to callers that write more at once.
pub const DEFAULT_MAX_CHUNK: usize = 64 * 1024;

/// How long a blocking write on a whole [`LikeFile`] waits before it looks for the reason.
const STUCK_AFTER: Duration = Duration::from_secs(1);

/// An I/O error for a failed send.
fn broken_pipe(e: SendError) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, e)
}

/// The I/O error for a wait that reached its deadline.
fn timed_out(what: &str, component: &ComponentRef, timeout: Duration) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} {component:?} took longer than {timeout:?}"))
}

/// A byte-carrying component driven as a file; see the [module docs](super).
///
/// `I` is what the component's `inbox` carries (made from the bytes written: `Vec<u8>`,
/// `bytes::Bytes`, `Box<[u8]>`, ...), `O` what its `outbox` carries (read as bytes: anything that
/// is `AsRef<[u8]>`).
///
/// A whole `LikeFile` reads and writes; from one thread, that is only safe while what the component
/// sends back fits in the boxes between (see the module docs on reading as you write):
/// [`split`](Self::split) it to write from one thread or task and read from another.
pub struct LikeFile<I, O> {
    writer: LikeFileWriter<I>,
    reader: LikeFileReader<O>,
    /// True once a blocking write has warned that it may wait for ever.
    warned: bool,
}

/// The writing half of a [`LikeFile`]: bytes written become messages in the component's `inbox`.
///
/// Closing it ([`close`](Self::close), or `shutdown` in async code) sends `ProducerFinished` to the
/// component's `control` and closes its input; dropping it does the same without waiting for room
/// (the `ProducerFinished` is sent if `control` has room; the input closes in any case).
pub struct LikeFileWriter<I> {
    input: HandleInput<I>,
    max_chunk: usize,
    timeout: Option<Duration>,
}

/// The reading half of a [`LikeFile`]: the component's `outbox` read as bytes.
///
/// The end of the file (a read of 0 bytes) comes once everything the component sent has been read
/// and either its `outbox` has closed (the component has ended) or a `ProducerFinished` (or
/// another shutdown message) has come out of its `signal`. If the component ended with a failure
/// (a panic or an error), the read that finds the end returns an error saying so instead, once.
pub struct LikeFileReader<O> {
    output: HandleOutput<O>,
    /// The message being read, and how much of it has been.
    current: Option<(O, usize)>,
    /// A shutdown message came out of `signal`: the data after it is all there.
    finished: bool,
    /// `signal` has closed.
    signal_closed: bool,
    end: End,
    timeout: Option<Duration>,
}

/// How far the reader is from the end.
enum End {
    /// Not at the end.
    Open,
    /// The outbox has closed: waiting to learn how the component ended.
    Joining(Pin<Box<dyn Future<Output = Exit> + Send>>),
    /// At the end (after the error, if there was one).
    Done,
}

// The messages held are never pinned (see `OutboxSink`).
impl<O> Unpin for LikeFileReader<O> {}

impl<I> fmt::Debug for LikeFileWriter<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LikeFileWriter").field("component", &self.input.shared.target).finish_non_exhaustive()
    }
}

impl<O> fmt::Debug for LikeFileReader<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LikeFileReader").field("component", &self.output.shared.target).finish_non_exhaustive()
    }
}

impl<I, O> fmt::Debug for LikeFile<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LikeFile").field("component", &self.writer.input.shared.target).finish_non_exhaustive()
    }
}

impl<I, O> LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    /// Activates `component` on `scheduler` and takes hold of its standard boxes.
    pub fn new<C>(component: impl IntoInstance<Component = C>, scheduler: &Scheduler) -> Self
    where
        C: Component<Inbox = I, Outbox = O>,
    {
        Self::from_handle(Handle::new(component, scheduler))
    }

    /// Drives the component of `handle` (made with [`Handle::new`] or [`Handle::for_any`]).
    pub fn from_handle(handle: Handle<I, O>) -> Self {
        let (input, output) = handle.split();
        LikeFile {
            writer: LikeFileWriter { input, max_chunk: DEFAULT_MAX_CHUNK, timeout: None },
            reader: LikeFileReader {
                output,
                current: None,
                finished: false,
                signal_closed: false,
                end: End::Open,
                timeout: None,
            },
            warned: false,
        }
    }

    /// The component being driven.
    pub fn component(&self) -> &ComponentRef {
        self.writer.input.component()
    }

    /// Splits it into its writing and reading halves, to use from two threads or tasks.
    pub fn split(self) -> (LikeFileWriter<I>, LikeFileReader<O>) {
        (self.writer, self.reader)
    }

    /// The most bytes one write turns into one message ([`DEFAULT_MAX_CHUNK`] unless set). At
    /// least 1.
    pub fn set_max_chunk(&mut self, bytes: usize) {
        self.writer.set_max_chunk(bytes)
    }

    /// How long a blocking write may wait for room before it fails with `TimedOut` (`None`, the
    /// default: as long as it takes). See [`LikeFileWriter::set_write_timeout`].
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.writer.set_write_timeout(timeout)
    }

    /// How long a blocking read may wait for data before it fails with `TimedOut` (`None`, the
    /// default: as long as it takes).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.reader.set_read_timeout(timeout)
    }

    /// Ends the input (blocking): see [`LikeFileWriter::close`]. The file can still be read.
    pub fn close_write(&mut self) -> io::Result<()> {
        self.writer.close()
    }

    /// Blocks until the component ends.
    pub fn join_blocking(&self) -> Exit {
        self.reader.output.join_blocking()
    }
}

impl<I: From<Vec<u8>> + Send + 'static> LikeFileWriter<I> {
    /// The component written to.
    pub fn component(&self) -> &ComponentRef {
        self.input.component()
    }

    /// See [`LikeFile::set_max_chunk`].
    pub fn set_max_chunk(&mut self, bytes: usize) {
        self.max_chunk = bytes.max(1);
    }

    /// How long a blocking write, flush or close may wait for room before it fails with
    /// [`io::ErrorKind::TimedOut`] (`None`, the default: as long as it takes). A write that
    /// times out has written nothing. (Async code times out with `tokio::time::timeout`.)
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The next message: at most `max_chunk` bytes of `buf`.
    fn chunk(&self, buf: &[u8]) -> (I, usize) {
        let n = buf.len().min(self.max_chunk);
        (I::from(buf[..n].to_vec()), n)
    }

    /// Runs a poll function on this thread until it is ready, or the write timeout passes.
    fn block<R>(&mut self, what: &str, mut f: impl FnMut(&mut Self, &mut TaskContext<'_>) -> Poll<R>) -> io::Result<R> {
        let timeout = self.timeout;
        let deadline = timeout.map(|t| Instant::now() + t);
        match block_on_deadline(poll_fn(|cx| f(self, cx)), deadline) {
            Some(r) => Ok(r),
            None => Err(timed_out(what, self.input.component(), timeout.unwrap_or_default())),
        }
    }

    /// Delivers what the async side accepted and has not yet delivered (if a writer is used both
    /// ways).
    fn flush_blocking(&mut self) -> io::Result<()> {
        if self.input.slot.is_none() {
            // Nothing left by the async side: the usual case, which needs no waiting at all.
            return Ok(());
        }
        self.block("a flush to", |w, cx| Pin::new(&mut w.input).poll_flush(cx))?.map_err(broken_pipe)
    }

    /// Ends the input, waiting for room as writes do: a `ProducerFinished` goes to the component's
    /// `control`, and its `inbox` closes once it has taken what was written, so the component ends
    /// however it watches its input (see [`Handle`]'s docs on ending the input). Later writes fail
    /// with `BrokenPipe`. Idempotent.
    pub fn close(&mut self) -> io::Result<()> {
        self.block("closing the input of", |w, cx| Pin::new(&mut w.input).poll_close(cx))?.map_err(broken_pipe)
    }
}

impl<I> Drop for LikeFileWriter<I> {
    fn drop(&mut self) {
        // Without waiting: the input closes when `input` goes, after this.
        if self.input.link.is_some() {
            if self.input.slot.take().is_some() {
                // Only the async side leaves a message here, until its next write, flush or
                // shutdown (a blocking write returns once its message is delivered).
                log::warn!(
                    "LikeFileWriter dropped with bytes written but not flushed to {}: they are lost (flush or shut \
                     down the writer first)",
                    self.input.shared.target
                );
            }
            let _ = self.input.to_control.try_send(ProducerFinished::from(self.input.shared.me.id()).into());
        }
    }
}

impl<I: From<Vec<u8>> + Send + 'static> io::Write for LikeFileWriter<I> {
    /// Sends up to [`max_chunk`](LikeFile::set_max_chunk) bytes of `buf` as one message,
    /// blocking while the component's `inbox` is full (up to the write timeout, if set).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.flush_blocking()?;
        let (msg, n) = self.chunk(buf);
        let mut slot = Some(msg);
        self.block("a write to", |w, cx| w.input.poll_deliver(&mut slot, cx))?.map_err(broken_pipe)?;
        Ok(n)
    }

    /// Writes are delivered as they are made: nothing to do, unless the async side left a message.
    fn flush(&mut self) -> io::Result<()> {
        self.flush_blocking()
    }
}

impl<I: From<Vec<u8>> + Send + 'static> AsyncWrite for LikeFileWriter<I> {
    /// Takes up to `max_chunk` bytes as one message once the one before has been delivered (so a
    /// writer holds at most one message beyond the component's `inbox`).
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.input).poll_ready(cx)).map_err(broken_pipe)?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (msg, n) = this.chunk(buf);
        Pin::new(&mut this.input).start_send(msg).map_err(broken_pipe)?;
        // Delivered now if there is room; otherwise by the next write or flush.
        let _ = Pin::new(&mut this.input).poll_flush(cx);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().input).poll_flush(cx).map_err(broken_pipe)
    }

    /// Ends the input: see [`LikeFileWriter::close`].
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().input).poll_close(cx).map_err(broken_pipe)
    }
}

impl<O: AsRef<[u8]> + Send + 'static> LikeFileReader<O> {
    /// The component read from.
    pub fn component(&self) -> &ComponentRef {
        self.output.component()
    }

    /// How long a blocking read may wait for data before it fails with
    /// [`io::ErrorKind::TimedOut`] (`None`, the default: as long as it takes). (Async code times
    /// out with `tokio::time::timeout`.)
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Blocks until the component ends.
    pub fn join_blocking(&self) -> Exit {
        self.output.join_blocking()
    }

    /// Makes sure there are bytes to read: `Ready(Ok(true))` if `current` has some, `Ready(Ok(false))`
    /// at the end of the file.
    fn poll_fill(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<bool>> {
        loop {
            if let Some((msg, at)) = &self.current {
                if *at < msg.as_ref().len() {
                    return Poll::Ready(Ok(true));
                }
                self.current = None;
            }
            match &mut self.end {
                End::Open => {}
                End::Done => return Poll::Ready(Ok(false)),
                End::Joining(join) => {
                    let exit = ready!(join.as_mut().poll(cx));
                    self.end = End::Done;
                    if exit.is_failure() {
                        let name = self.output.component().name();
                        return Poll::Ready(Err(io::Error::other(format!("{name} {exit}"))));
                    }
                    return Poll::Ready(Ok(false));
                }
            }
            // `signal` before `outbox`: a ProducerFinished seen there means everything sent before
            // it is already in the outbox's box (the order `events` keeps for `control`).
            while !self.finished && !self.signal_closed {
                match self.output.poll_recv_signal(cx) {
                    Poll::Ready(Some(msg)) if msg.is_shutdown_request() => self.finished = true,
                    Poll::Ready(Some(msg)) => log::debug!("LikeFileReader: ignored {msg:?} from {}", self.component()),
                    Poll::Ready(None) => self.signal_closed = true,
                    Poll::Pending => break,
                }
            }
            match self.output.poll_recv(cx) {
                Poll::Ready(Some(msg)) => self.current = Some((msg, 0)),
                Poll::Ready(None) => {
                    let component = self.output.component().clone();
                    self.end = End::Joining(Box::pin(async move { component.join().await }));
                }
                Poll::Pending if self.finished => self.end = End::Done,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The bytes not yet read of the current message (empty at the end).
    fn unread(&self) -> &[u8] {
        match &self.current {
            Some((msg, at)) => &msg.as_ref()[*at..],
            None => &[],
        }
    }

    /// Marks `n` bytes of the current message read.
    fn advance(&mut self, n: usize) {
        if let Some((_, at)) = &mut self.current {
            *at += n;
        }
    }

    /// Blocks until there are bytes to read or the end (up to the read timeout, if set).
    fn fill_blocking(&mut self) -> io::Result<bool> {
        let timeout = self.timeout;
        let deadline = timeout.map(|t| Instant::now() + t);
        match block_on_deadline(poll_fn(|cx| self.poll_fill(cx)), deadline) {
            Some(r) => r,
            None => Err(timed_out("a read from", self.output.component(), timeout.unwrap_or_default())),
        }
    }
}

impl<O: AsRef<[u8]> + Send + 'static> io::Read for LikeFileReader<O> {
    /// Reads what the component sent, blocking until it sends something or the end (`Ok(0)`).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.fill_blocking()?;
        let unread = self.unread();
        let n = unread.len().min(buf.len());
        buf[..n].copy_from_slice(&unread[..n]);
        self.advance(n);
        Ok(n)
    }
}

impl<O: AsRef<[u8]> + Send + 'static> io::BufRead for LikeFileReader<O> {
    /// The rest of the current message (one message at a time; empty at the end).
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill_blocking()?;
        Ok(self.unread())
    }

    fn consume(&mut self, amt: usize) {
        self.advance(amt)
    }
}

impl<O: AsRef<[u8]> + Send + 'static> AsyncRead for LikeFileReader<O> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_fill(cx))?;
        let unread = this.unread();
        let n = unread.len().min(buf.remaining());
        buf.put_slice(&unread[..n]);
        this.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<O: AsRef<[u8]> + Send + 'static> AsyncBufRead for LikeFileReader<O> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        ready!(this.poll_fill(cx))?;
        Poll::Ready(Ok(this.unread()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().advance(amt)
    }
}

// ----- the whole file: both halves -----

impl<I, O> io::Write for LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    /// As [`LikeFileWriter`]'s. If it waits for room while the box of what the component sent
    /// back is full, a warning naming the component is logged (once): nothing reads what the
    /// component sends, so it may be waiting to send more, and this may wait for ever.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let w = &mut self.writer;
        w.flush_blocking()?;
        let (msg, n) = w.chunk(buf);
        let mut slot = Some(msg);
        let deadline = w.timeout.map(|t| Instant::now() + t);
        loop {
            let look = if self.warned { deadline } else { Some(Instant::now() + STUCK_AFTER) };
            let until = match (look, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(r) = block_on_deadline(poll_fn(|cx| w.input.poll_deliver(&mut slot, cx)), until) {
                r.map_err(broken_pipe)?;
                return Ok(n);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(timed_out("a write to", w.input.component(), w.timeout.unwrap_or_default()));
            }
            if !self.warned && self.reader.output.from_outbox.is_full() {
                self.warned = true;
                let target = w.input.component();
                log::warn!(
                    "LikeFile::write: {target}'s inbox is full and nothing has read the {} message(s) it sent back, so \
                     it may be waiting to send more: this can wait for ever. Read as you write, or split the LikeFile \
                     and read from another thread (LikeFile::split)",
                    self.reader.output.from_outbox.data_ready()
                );
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl<I, O> io::Read for LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl<I, O> io::BufRead for LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.reader.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        io::BufRead::consume(&mut self.reader, amt)
    }
}

impl<I, O> AsyncWrite for LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().writer).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().writer).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().writer).poll_shutdown(cx)
    }
}

impl<I, O> AsyncRead for LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().reader).poll_read(cx, buf)
    }
}

impl<I, O> AsyncBufRead for LikeFile<I, O>
where
    I: From<Vec<u8>> + Send + 'static,
    O: AsRef<[u8]> + Send + 'static,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().reader).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().reader).consume(amt)
    }
}
