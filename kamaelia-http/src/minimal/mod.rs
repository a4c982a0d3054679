//! [`Minimal`]: the static-file handler (Kamaelia's `Kamaelia.Protocol.HTTP.Handlers.Minimal`),
//! and [`MinimalFactory`], which makes one per request.
//!
//! `Minimal` serves the files under a home directory: the request's path, after the route prefix,
//! names a file below it; a directory is served by its index file. It answers `GET` and `HEAD`,
//! with the validators, conditional requests and byte ranges a static file server is expected to
//! support. A small file is read and sent as one piece (at most
//! [`READ_WHOLE_WITH_SENDFILE`] bytes, or [`chunk_size`](Minimal::chunk_size) without `sendfile`);
//! a larger one is handed over as a region of the open file ([`Resource::File`]), which the
//! connection's socket adapter has the kernel send (`sendfile`, see
//! [`sendfile`](Minimal::sendfile)), or else read and sent in `chunk_size` pieces, each once the
//! previous one has been accepted.
//!
//! Or it serves files compiled into the program ([`EmbeddedFiles`], with [`Minimal::embedded`]
//! or [`MinimalFactory::embedded`]), so that a program copied anywhere still has its site: the
//! same code checks the request, and the same code answers the conditional fields and ranges, so
//! the answers are those of a directory holding the same files, but for the validators (an
//! `ETag` made from the bytes, and no `Last-Modified`) and that each body is one slice of the
//! program's own bytes. The rules below are those of a directory; [`EmbeddedFiles`] says which
//! apply to embedded files, and how.
//!
//! # Example
//!
//! As the cookbook does, give the router a factory for it (note Kamaelia's argument order for
//! `MinimalFactory`: the index file first):
//!
//! ```
//! use kamaelia_http::{factory, request_handlers, HelloHandler, Minimal, MinimalFactory};
//!
//! let docs = MinimalFactory::new("index.html", "site/docs");
//! let create_request_handler = request_handlers([
//!     ("/hello", factory(HelloHandler::new)),
//!     ("/docs", factory(move |request| docs.make(request))),
//!     ("/", factory(|request| Minimal::new(request, "site", "index.html"))),
//! ]);
//! # let _ = create_request_handler;
//! ```
//!
//! Driven by hand (as a test would), it answers through its boxes:
//!
//! ```
//! use axon_core::{Handle, Scheduler};
//! use kamaelia_http::{Minimal, Request, Resource};
//!
//! let root = tempfile::tempdir()?;
//! std::fs::write(root.path().join("hello.txt"), "Hello")?;
//! let request = Request::new(http::Method::GET, "/hello.txt");
//! let scheduler = Scheduler::new();
//! let mut handler = Handle::new(Minimal::new(request, root.path(), "index.html"), &scheduler);
//! let Some(Resource::Head(head)) = handler.recv_blocking() else { panic!("no head") };
//! assert_eq!(head.status, http::StatusCode::OK);
//! assert_eq!(head.headers["content-type"], "text/plain; charset=utf-8");
//! assert_eq!(handler.recv_blocking(), Some(Resource::Data("Hello".into())));
//! assert_eq!(handler.recv_blocking(), None);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How it works
//!
//! A `Minimal` is made for one request and answers it alone. It checks the method and the path
//! the request names (`path.rs`), finds the file below its home directory or among its
//! [`EmbeddedFiles`] (the home directory resolved once per [`MinimalFactory`]), and opens it.
//! From the file's metadata it makes the validators (`conditional.rs`) and judges the
//! conditional fields and `Range` (`range.rs`), which choose the head: 200, 206, 304, 412 or 416, with
//! the `Content-Type` of the name (`content_type.rs`). It sends the head, then the body (none
//! for `HEAD`): a small file read whole, a large one as one [`Resource::File`] region or in
//! pieces, each piece once the previous one has been accepted; then `ProducerFinished`, and it
//! ends. Anything it cannot serve is answered with a page (`answer.rs`) the same way. Where
//! the file-system calls are made is [`file_io`](Minimal::file_io)'s choice.
//!
//! # The rules
//!
//! * **Which file.** The router's [`uri_suffix`](Request::uri_suffix) (the path after the route
//!   prefix, without the query), or the whole [`path`](Request::path) when no router set one. The
//!   raw path is split on `/` and each segment is percent-decoded on its own (RFC 3986 §2.1, so an
//!   encoded `%2F` cannot make a separator). A segment that decodes to `..`, contains `/`, `\` or
//!   NUL, or is not UTF-8 is answered 404, whatever is on disk; `.` and empty segments are
//!   dropped. Names starting with `.` are 404 unless [`serve_hidden`](Minimal::serve_hidden).
//! * **Never outside the home directory.** The file's path and the home directory are both
//!   resolved (symbolic links followed, `std::fs::canonicalize`); a file that resolves outside the
//!   home directory, or to a hidden name inside it, is 404. Links within the home directory work.
//!   Only regular files are served (not devices, sockets or pipes: they are 404, and opening
//!   one never waits, so a named pipe in the directory cannot hang a request). On Linux a path with no
//!   symbolic link in it at all (the usual case) is opened in one call instead, `openat2` with
//!   `RESOLVE_NO_SYMLINKS`: with no link to follow and no `..` segment, it cannot lead out of the
//!   home directory. A path with a link in it, or a kernel without `openat2` (before 5.6, or a
//!   sandbox that forbids it), takes the resolving way above.
//! * **Methods** (RFC 9110 §9.1, §15.5.6, §15.6.2): `GET` and `HEAD`. Another method the server
//!   knows gets 405 with `Allow: GET, HEAD`; an unknown one gets 501.
//! * **Directories** (RFC 9110 §15.4.2): asked for without a trailing `/`, a directory gets a 301
//!   to the same path with `/` (and the query, if any), so that relative links in its index work.
//!   With the `/`, its [`indexfilename`](Minimal::indexfilename) is served, or 404 if it has none:
//!   there are no directory listings. A file asked for with a trailing `/` is 404.
//! * **Errors.** A missing file is 404, an unreadable one 403 (RFC 9110 §15.5.4, §15.5.5), any other
//!   failure before the head is sent is 500; each with an error page naming the path.
//! * **Content-Type** (RFC 9110 §8.3) from the file name's extension (`mime_guess`, case-insensitive),
//!   `application/octet-stream` when unknown; `text/*`, JavaScript and JSON are labelled
//!   `charset=utf-8`.
//! * **Validators** (RFC 9110 §8.8): `Last-Modified` (the file's modification time) and a strong
//!   `ETag` made of the modification time (seconds and nanoseconds) and the length, in hex.
//! * **Conditional requests** (RFC 9110 §13.1, in the order of §13.2.2): first `If-Match` (a
//!   list of tags or `*`, strong comparison) that matches nothing, or, when there is no
//!   `If-Match`, `If-Unmodified-Since` earlier than the modification time, gives 412
//!   Precondition Failed (a range request too); then `If-None-Match` (weak comparison) that
//!   matches, or, when there is no `If-None-Match`, `If-Modified-Since` not earlier than the
//!   modification time (to the second), gives 304 Not Modified with the validators and no body.
//! * **Ranges** (RFC 9110 §14), for `GET` only: one range, `bytes=a-b`, `bytes=a-` or `bytes=-n`,
//!   gives 206 Partial Content with `Content-Range` and just those bytes. A range starting at or past
//!   the end, or `bytes=-0`, gives 416 with `Content-Range: bytes */length` (§15.5.17). Several
//!   ranges, a `Range` that does not parse, or an `If-Range` (§13.1.5; an entity tag compared
//!   strongly, or a date compared exactly) that does not match the file, get the whole file: the
//!   RFC lets a server ignore `Range`. Full and partial responses carry `Accept-Ranges: bytes`.
//! * **HEAD** (RFC 9110 §9.3.2) gets the same head as `GET`, `Content-Length` included, and no data.
//! * **A file that changes under it.** The length is taken when the file is opened. A small file
//!   (see above) is read before the head is sent, so if it ends early or a read fails the
//!   client gets a 500. A larger file that ends early, or whose read fails, after the head has
//!   gone makes the connection abort rather than send a short body as if it were complete, with a
//!   warning in the log: from the socket adapter when the file was sent as a region, from
//!   `Minimal`, which then fails ([`MinimalError`]), when it was read in pieces. If it grows, only
//!   the first length bytes are sent. Read in pieces, what the client gets is exactly the file's
//!   first bytes; sent as a region, the bytes already in the kernel's buffers are read as the
//!   file then is (see [`payload`](kamaelia_chassis::payload)): either way the body stops short of
//!   its `Content-Length`. A file removed or replaced while it is sent goes out whole, as it was
//!   when opened.
//!
//! # Porting from Kamaelia
//!
//! Each of these fixes a defect of Kamaelia's `Minimal`:
//!
//! * A directory without a trailing `/` got a `200` head and then nothing, and the connection hung
//!   forever (the index name was appended without a separator and the reader died without
//!   `producerFinished`); here it gets a 301 to the slash form.
//! * A directory without its index file hung the same way; here it is 404.
//! * The MIME type was worked out (from a 30-entry, case-sensitive table) and then put under a key
//!   the server ignored, so no `Content-Type` was ever sent; here it is sent, from a full table.
//! * Paths were not percent-decoded (`/a%20b.txt` could not be served); here each segment is
//!   decoded, and an encoded `..`, `/`, `\` or NUL cannot escape the home directory.
//! * Symbolic links were followed anywhere, and dotfiles (`.htpasswd`, `.git`) were served; here
//!   links must stay inside the home directory and dotfiles are 404 unless asked for.
//! * Empty segments were kept and the home directory was joined with string concatenation; here
//!   paths are built from checked segments.
//! * Misses printed four debug lines to stdout; here they are logged (`log`, at debug).
//! * Only `GET` existed as far as `Minimal` knew: `HEAD` got the body, other methods got the file;
//!   here `HEAD` gets no body and other methods get 405 or 501.
//! * There were no validators, conditional requests or ranges; here there are.
//! * Back-pressure came from polling the server's inbox length (fewer than 3 messages); here each
//!   piece waits for room in the bounded inbox it goes to, and a read error ends the response
//!   instead of leaving it open.

use std::cmp::min;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::Bytes;
use http::Method;
use kamaelia_chassis::socket::FileRegion;

use crate::request::Request;
use crate::resource::Resource;

mod answer;
mod conditional;
mod content_type;
mod embedded;
mod path;
mod range;
mod read;
#[cfg(test)]
mod testing;
mod value;

use answer::{io_failed, Answer};
use conditional::ValidatorCache;
use content_type::TypeCache;
use path::{Directory, RootCache};
use read::{read_piece, PieceError};

pub use embedded::{EmbeddedFiles, EmbeddedFilesError};
pub use read::MinimalError;

/// How many bytes of a file [`Minimal`] reads into each [`Resource::Data`] message: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// The largest file [`Minimal`] reads whole when larger ones go out as regions (with
/// [`sendfile`](Minimal::sendfile)): 16 KiB. A file read whole is held in memory until the client
/// has read it, and a region is not; past this size the copy into memory saves nothing worth
/// that, and a client that pipelines requests for such files without reading them would hold
/// one in memory per connection (issue 16, defect 3).
pub const READ_WHOLE_WITH_SENDFILE: usize = 16 * 1024;

/// Where [`Minimal`] makes its file-system calls (resolving the path, opening, reading).
///
/// ```
/// use kamaelia_http::{FileIo, Minimal, Request};
/// let mut handler = Minimal::new(Request::new(http::Method::GET, "/"), "/mnt/nfs/site", "index.html");
/// handler.file_io = FileIo::BlockingPool; // a network file system: never stall the server's threads
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileIo {
    /// On the handler's own task (the default). This is what nginx does unless told otherwise
    /// (`aio off`): for files on a local disk, and above all for files in the page cache, each call
    /// takes microseconds, less than handing it to another thread and back would. The resolution
    /// of the path, the `open`, the `fstat` and, for a file small enough to read whole, the read
    /// happen in one go; a larger file is read one chunk per turn, each chunk once the previous
    /// one has been accepted. A slow disk would hold up the other connections sharing the thread.
    #[default]
    Inline,
    /// On tokio's blocking thread pool (`spawn_blocking`): one hand-off for the path, the open,
    /// the metadata and a small file's read, then one per chunk. For slow or network file systems
    /// (NFS, a cold spinning disk), where a call may take milliseconds and must not hold up the
    /// other connections; it costs a cross-thread hand-off per call (about a fifth of the
    /// small-file throughput on the benchmark machine, see `docs/benchmarks.md`).
    BlockingPool,
}

/// Serves files from a home directory, or [compiled into the program](Self::embedded): see the
/// [module docs](self) for the rules.
///
/// # Inboxes
///
/// | box       | carries    | what arrives |
/// |-----------|------------|--------------|
/// | `inbox`   | `Bytes`    | The request body: ignored (discarded as it arrives) |
/// | `control` | `Ipc`      | `ShutdownMicroprocess` (the client has gone): stop sending, pass it on out of `signal`, end; `ProducerFinished` (the end of the body): ignored |
///
/// # Outboxes
///
/// | box      | carries    | what leaves |
/// |----------|------------|-------------|
/// | `outbox` | `Resource` | The head, then the body: the file (or the page) in one piece, as one [`Resource::File`] region (with [`sendfile`](Self::sendfile)), or in pieces of at most [`chunk_size`](Self::chunk_size) bytes; none for `HEAD` |
/// | `signal` | `Ipc`      | `ProducerFinished` after the last piece |
///
/// # Shutdown
///
/// It ends once the body is sent, or when a `ShutdownMicroprocess` arrives on `control` while it
/// sends a file in pieces. If the file ends early or cannot be read after the head was sent
/// (while reading it in pieces), the body returns an error ([`MinimalError`]) and sends no
/// `ProducerFinished`.
#[derive(Debug, Clone)]
pub struct Minimal {
    /// The request it answers.
    pub request: Request,
    /// The directory files are served from (Kamaelia's `homedirectory`), unless
    /// [`embedded`](Self::embedded) is set. Nothing outside it is ever served, even through
    /// symbolic links.
    pub homedirectory: PathBuf,
    /// The file served for a directory asked for with a trailing `/` (Kamaelia's
    /// `indexfilename`), such as `index.html`.
    pub indexfilename: String,
    /// The most bytes read into one [`Resource::Data`] message ([`DEFAULT_CHUNK_SIZE`]; 0 counts as
    /// 1). A piece is read only once the previous one has been accepted, so the memory one response
    /// holds is bounded by `chunk_size` × (the capacity of the inbox its `outbox` is linked to + 1),
    /// whatever the size of the file. ([Embedded](Self::embedded) files are not read: each is sent
    /// as one slice of the program's bytes.)
    pub chunk_size: usize,
    /// Whether names starting with `.` may be served (default `false`: they are 404).
    pub serve_hidden: bool,
    /// Where the file-system calls are made ([`FileIo::Inline`] by default); none are, for
    /// [`embedded`](Self::embedded) files.
    pub file_io: FileIo,
    /// Whether a file larger than [`READ_WHOLE_WITH_SENDFILE`] (or a smaller `chunk_size`) is sent as one
    /// [`Resource::File`] region of the open file (default `true`), which the HTTP server's socket
    /// adapter sends with `sendfile`: the kernel copies the file from the page cache to the
    /// socket, and the bytes never pass through the process. Otherwise it is read into
    /// `chunk_size` pieces. nginx's `sendfile` directive. Regions are never sent with
    /// [`FileIo::BlockingPool`] (which reads in pieces on the pool): the kernel reads the file
    /// for `sendfile` on the connection's thread, which is what `BlockingPool` is there to avoid.
    /// Nor for [`embedded`](Self::embedded) files, which are in memory already.
    pub sendfile: bool,
    /// Files compiled into the program, served instead of [`homedirectory`](Self::homedirectory)
    /// when set (see [`EmbeddedFiles`] and [`Minimal::embedded`]); `None` by default.
    pub embedded: Option<&'static EmbeddedFiles>,
    /// What the handlers of one [`MinimalFactory`] share; `None` for a `Minimal` made alone.
    caches: Option<Arc<SiteCaches>>,
}

impl Minimal {
    /// The handler serving `request` from `homedirectory`, with `indexfilename` as the index of
    /// directories (Kamaelia's `Minimal(request, indexfilename, homedirectory)`, with the
    /// directory before the index name here; see [`MinimalFactory`] for Kamaelia's order).
    pub fn new(request: Request, homedirectory: impl Into<PathBuf>, indexfilename: impl Into<String>) -> Self {
        Minimal {
            request,
            homedirectory: homedirectory.into(),
            indexfilename: indexfilename.into(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            serve_hidden: false,
            file_io: FileIo::Inline,
            sendfile: true,
            embedded: None,
            caches: None,
        }
    }

    /// The handler serving `request` from `files`, compiled into the program, with
    /// `indexfilename` as the index of directories: the same answers as from a directory holding
    /// those files (see [`EmbeddedFiles`] for what differs: the validators). Its
    /// [`homedirectory`](Self::homedirectory) is empty and unused.
    pub fn embedded(request: Request, files: &'static EmbeddedFiles, indexfilename: impl Into<String>) -> Self {
        let mut minimal = Minimal::new(request, PathBuf::new(), indexfilename);
        minimal.embedded = Some(files);
        minimal
    }
}

/// Makes a [`Minimal`] for each request (Kamaelia's `MinimalFactory(indexfilename, homedirectory)`:
/// the index name **first**, as in Kamaelia).
///
/// The handlers a factory makes share what each would otherwise work out again: the home
/// directory resolved, the last file's validators and the last extension's `Content-Type`
/// (each handler is handed the factory's caches when it is made). A `Minimal` made alone, with
/// [`Minimal::new`], works them out for every request: a site that serves many should use a
/// factory.
///
/// ```
/// use kamaelia_http::{factory, MinimalFactory, Request};
/// let site = MinimalFactory::new("index.html", "htdocs");
/// let handler = site.make(Request::new(http::Method::GET, "/"));
/// assert_eq!(handler.homedirectory, std::path::Path::new("htdocs"));
/// let route = ("/", factory(move |request| site.make(request)));
/// # let _ = route;
/// ```
#[derive(Debug, Clone)]
pub struct MinimalFactory {
    /// The index file of directories, for [`Minimal::indexfilename`].
    pub indexfilename: String,
    /// The directory served, for [`Minimal::homedirectory`].
    pub homedirectory: PathBuf,
    /// Where the handlers make their file-system calls, for [`Minimal::file_io`] ([`FileIo::Inline`]
    /// unless set).
    pub file_io: FileIo,
    /// Whether the handlers send large files as regions, for [`Minimal::sendfile`] (`true` unless
    /// set).
    pub sendfile: bool,
    /// The files compiled into the program that the handlers serve instead of
    /// [`homedirectory`](Self::homedirectory), for [`Minimal::embedded`] (set by
    /// [`MinimalFactory::embedded`]).
    pub embedded: Option<&'static EmbeddedFiles>,
    /// What the handlers this factory makes share (see [`SiteCaches`]).
    caches: Arc<SiteCaches>,
}

/// What the handlers of one [`MinimalFactory`] share, so that a request need not work it out
/// again: passed down by the factory to each handler it makes (a `Minimal` made alone has none,
/// and works each out every time).
#[derive(Debug, Default)]
struct SiteCaches {
    /// The home directory resolved once for all the handlers, and resolved again when it is no
    /// longer the same directory (a home directory that is a symbolic link may be re-pointed
    /// while the server runs).
    root: RootCache,
    /// The last file's validators (made from its time and length alone).
    validators: ValidatorCache,
    /// The last extension's `Content-Type`.
    types: TypeCache,
}

impl PartialEq for MinimalFactory {
    /// Equal when they serve the same directory (or the same embedded files: the same
    /// [`EmbeddedFiles`] value, not an equal one) the same way.
    fn eq(&self, other: &Self) -> bool {
        let files = |factory: &Self| factory.embedded.map(std::ptr::from_ref);
        (&self.indexfilename, &self.homedirectory, self.file_io, self.sendfile, files(self))
            == (&other.indexfilename, &other.homedirectory, other.file_io, other.sendfile, files(other))
    }
}

impl Eq for MinimalFactory {}

impl MinimalFactory {
    /// A factory serving `homedirectory` with `indexfilename` as the index (Kamaelia's order).
    pub fn new(indexfilename: impl Into<String>, homedirectory: impl Into<PathBuf>) -> Self {
        MinimalFactory {
            indexfilename: indexfilename.into(),
            homedirectory: homedirectory.into(),
            file_io: FileIo::Inline,
            sendfile: true,
            embedded: None,
            caches: Arc::default(),
        }
    }

    /// A factory serving `files`, compiled into the program, with `indexfilename` as the index
    /// (the index first, as in [`new`](Self::new)); see [`Minimal::embedded`].
    ///
    /// ```
    /// use std::sync::LazyLock;
    /// use kamaelia_http::{EmbeddedFiles, MinimalFactory, Request};
    ///
    /// static SITE: LazyLock<EmbeddedFiles> =
    ///     LazyLock::new(|| EmbeddedFiles::new([("index.html", &b"<h1>Hi</h1>"[..])]).expect("a plain path"));
    /// let site = MinimalFactory::embedded("index.html", &SITE);
    /// let handler = site.make(Request::new(http::Method::GET, "/"));
    /// assert!(handler.embedded.is_some());
    /// ```
    pub fn embedded(indexfilename: impl Into<String>, files: &'static EmbeddedFiles) -> Self {
        let mut factory = MinimalFactory::new(indexfilename, PathBuf::new());
        factory.embedded = Some(files);
        factory
    }

    /// The same factory, its handlers making their file-system calls where `file_io` says.
    pub fn with_file_io(mut self, file_io: FileIo) -> Self {
        self.file_io = file_io;
        self
    }

    /// The same factory, its handlers sending large files as regions or not (see
    /// [`Minimal::sendfile`]).
    pub fn with_sendfile(mut self, sendfile: bool) -> Self {
        self.sendfile = sendfile;
        self
    }

    /// The handler for `request`, with the default chunk size, hidden files refused and this
    /// factory's [`file_io`](Self::file_io) and [`sendfile`](Self::sendfile).
    pub fn make(&self, request: Request) -> Minimal {
        let mut minimal = Minimal::new(request, self.homedirectory.clone(), self.indexfilename.clone());
        minimal.file_io = self.file_io;
        minimal.sendfile = self.sendfile;
        minimal.embedded = self.embedded;
        minimal.caches = Some(self.caches.clone());
        minimal
    }
}

impl Component for Minimal {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "The request body: ignored (discarded as it arrives)")
            .describe(
                BoxKind::Inbox,
                "control",
                "ShutdownMicroprocess (the client has gone): stop sending, pass it on out of signal, end; \
                 ProducerFinished (the end of the body): ignored",
            )
            .describe(
                BoxKind::Outbox,
                "outbox",
                "The head, then the body: the file (or the page) in one piece, as one Resource::File region \
                 (with sendfile), or in pieces of at most chunk_size bytes; none for HEAD",
            )
            .describe(BoxKind::Outbox, "signal", "ProducerFinished after the last piece");
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let with_body = self.request.method != Method::HEAD;
        match self.answer().await {
            Answer::Page(head, body) => {
                ctx.outbox.send(Resource::Head(head)).await;
                if with_body && !body.is_empty() {
                    ctx.outbox.send(Resource::Data(body)).await;
                }
            }
            Answer::File { head, file, path, start, length } => {
                ctx.outbox.send(Resource::Head(head)).await;
                if with_body && self.sends_regions() {
                    ctx.outbox.send(Resource::File(FileRegion::new(file, start, length))).await;
                } else if with_body {
                    if let Some(stop) = self.stream(&mut ctx, file, &path, length).await? {
                        ctx.signal.send(stop).await;
                        return Ok(());
                    }
                }
            }
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

impl Minimal {
    /// Whether a large file goes out as a region (see [`sendfile`](Self::sendfile)).
    fn sends_regions(&self) -> bool {
        self.sendfile && self.file_io == FileIo::Inline
    }

    /// The largest file read whole: [`chunk_size`](Self::chunk_size), or, when larger files go
    /// out as regions, at most [`READ_WHOLE_WITH_SENDFILE`].
    fn read_whole(&self) -> usize {
        if self.sends_regions() {
            self.chunk_size.min(READ_WHOLE_WITH_SENDFILE)
        } else {
            self.chunk_size
        }
    }

    /// Works out the answer: everything up to the body, and the body itself if it is small enough
    /// to read whole (`read_whole` bytes; or [embedded](Self::embedded)); where [`file_io`](Self::file_io) says.
    async fn answer(&self) -> Answer {
        if let Some(files) = self.embedded {
            // In memory: no file-system call to make anywhere.
            let types = self.caches.as_deref().map(|c| &c.types);
            return files
                .resolve(&self.request, &self.indexfilename, self.serve_hidden, types)
                .unwrap_or_else(|refusal| refusal);
        }
        match self.file_io {
            FileIo::Inline => self.directory().resolve().unwrap_or_else(|refusal| refusal),
            FileIo::BlockingPool => {
                let me = self.clone();
                match tokio::task::spawn_blocking(move || me.directory().resolve().unwrap_or_else(|refusal| refusal))
                    .await
                {
                    Ok(answer) => answer,
                    // (`io_failed` logs it.)
                    Err(e) => io_failed(&self.request, &io::Error::other(e)),
                }
            }
        }
    }

    /// The lookup of this handler's request in its home directory.
    fn directory(&self) -> Directory<'_> {
        Directory {
            request: &self.request,
            homedirectory: &self.homedirectory,
            indexfilename: &self.indexfilename,
            serve_hidden: self.serve_hidden,
            read_whole: self.read_whole(),
            root_cache: self.caches.as_deref().map(|c| &c.root),
            validators: self.caches.as_deref().map(|c| &c.validators),
            types: self.caches.as_deref().map(|c| &c.types),
        }
    }

    /// Sends `length` bytes of `file` in pieces. `Ok(Some(msg))` if a shutdown request arrived
    /// first (to pass on), `Ok(None)` when all was sent, `Err` if the file ended early or failed.
    async fn stream(
        &self,
        ctx: &mut Context<Bytes, Resource>,
        mut file: File,
        path: &Path,
        length: u64,
    ) -> Result<Option<Ipc>, MinimalError> {
        let chunk_size = self.chunk_size.max(1) as u64;
        let mut sent = 0;
        while sent < length {
            if let Some(stop) = shutdown_requested(ctx) {
                log::debug!("stopping `{}` after {sent} of {length} bytes: {stop:?}", path.display());
                return Ok(Some(stop));
            }
            let want = min(chunk_size, length - sent) as usize;
            let piece = match self.file_io {
                FileIo::Inline => read_piece(&mut file, want),
                FileIo::BlockingPool => {
                    let read = tokio::task::spawn_blocking(move || {
                        let piece = read_piece(&mut file, want);
                        (file, piece)
                    });
                    match read.await {
                        Ok((back, piece)) => {
                            file = back;
                            piece
                        }
                        Err(e) => {
                            let error = PieceError::Read(0, io::Error::other(e)).at(path, sent, length);
                            log::warn!("{error}");
                            return Err(error);
                        }
                    }
                }
            };
            let piece = piece.map_err(|e| {
                let error = e.at(path, sent, length);
                log::warn!("{error}");
                error
            })?;
            sent += piece.len() as u64;
            ctx.outbox.send(Resource::Data(piece)).await;
        }
        Ok(None)
    }
}

/// Takes what has arrived on `control` (and discards the request body on `inbox`, so that a
/// sender of a body never waits on this handler); returns a `ShutdownMicroprocess` if one came.
fn shutdown_requested(ctx: &mut Context<Bytes, Resource>) -> Option<Ipc> {
    while ctx.inbox.try_recv().is_ok() {}
    while let Ok(msg) = ctx.control.try_recv() {
        if msg.is_shutdown_microprocess() {
            return Some(msg);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::fs;

    use axon_core::{Exit, Handle, Scheduler};
    use http::StatusCode;

    use super::*;
    use crate::minimal::testing::{get, get_with, hello_etag, request, run, site, HELLO};

    impl Minimal {
        fn answer_blocking(&self) -> Answer {
            self.directory().resolve().unwrap_or_else(|refusal| refusal)
        }
    }

    #[test]
    fn a_file_is_served_with_its_type_length_validators_and_body() {
        let (_tmp, root) = site();
        let seen = get(&root, "/hello.txt");
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.head.length, Some(HELLO.len() as u64));
        assert_eq!(seen.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(seen.header("etag"), Some(hello_etag().as_str()));
        assert_eq!(seen.header("last-modified"), Some("Tue, 14 Nov 2023 22:13:20 GMT"));
        assert_eq!(seen.header("accept-ranges"), Some("bytes"));
        assert_eq!(seen.body(), HELLO.as_bytes());
        assert!(seen.finished);
        assert_eq!(seen.exit, Exit::Finished);
    }

    #[test]
    fn head_gets_the_same_head_and_no_data() {
        let (_tmp, root) = site();
        let seen = run(Minimal::new(request(Method::HEAD, "/hello.txt", &[]), &root, "index.html"));
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.head.length, Some(HELLO.len() as u64));
        assert_eq!(seen.header("content-type"), Some("text/plain; charset=utf-8"));
        assert!(seen.data.is_empty());
        assert!(seen.finished);
    }

    #[test]
    fn post_is_405_with_allow_and_an_unknown_method_is_501() {
        let (_tmp, root) = site();
        let post = run(Minimal::new(request(Method::POST, "/hello.txt", &[]), &root, "index.html"));
        assert_eq!(post.head.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
        assert!(post.finished);
        let brew = Method::from_bytes(b"BREW").unwrap();
        let brew = run(Minimal::new(request(brew, "/hello.txt", &[]), &root, "index.html"));
        assert_eq!(brew.head.status, StatusCode::NOT_IMPLEMENTED);
        assert!(brew.finished);
    }

    #[test]
    fn a_file_larger_than_a_chunk_arrives_intact_in_chunk_sized_pieces() {
        let (_tmp, root) = site();
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(root.join("big.bin"), &content).unwrap();
        let mut minimal = Minimal::new(request(Method::GET, "/big.bin", &[]), &root, "index.html");
        minimal.chunk_size = 1024;
        minimal.sendfile = false;
        let seen = run(minimal);
        assert_eq!(seen.head.length, Some(10_000));
        assert!(seen.regions.is_empty());
        assert_eq!(seen.data.len(), 10);
        assert!(seen.data.iter().all(|piece| piece.len() <= 1024));
        assert_eq!(seen.body(), content);
        assert!(seen.finished);
    }

    #[test]
    fn a_file_of_exactly_one_chunk_is_one_piece_and_one_byte_more_is_two() {
        let (_tmp, root) = site();
        fs::write(root.join("four"), "abcd").unwrap();
        fs::write(root.join("five"), "abcde").unwrap();
        for (name, pieces) in [("/four", 1), ("/five", 2)] {
            for sendfile in [false, true] {
                let mut minimal = Minimal::new(request(Method::GET, name, &[]), &root, "index.html");
                minimal.chunk_size = 4;
                minimal.sendfile = sendfile;
                let seen = run(minimal);
                // Sent as a region, a larger file is one piece too.
                let pieces = if sendfile { 1 } else { pieces };
                assert_eq!(seen.data.len(), pieces, "{name} sendfile {sendfile}");
                assert_eq!(seen.regions.len(), usize::from(sendfile && name == "/five"), "{name}");
            }
        }
    }

    #[test]
    fn an_empty_file_is_200_with_no_data() {
        let (_tmp, root) = site();
        fs::write(root.join("empty.txt"), "").unwrap();
        let seen = get(&root, "/empty.txt");
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.head.length, Some(0));
        assert!(seen.data.is_empty());
        assert!(seen.finished);
        let ranged = get_with(&root, "/empty.txt", &[("range", "bytes=-1")]);
        assert_eq!(ranged.head.status, StatusCode::RANGE_NOT_SATISFIABLE);
    }

    #[test]
    fn a_file_shrinking_while_sent_fails_the_handler_without_producer_finished() {
        let (_tmp, root) = site();
        let path = root.join("shrinks.bin");
        // More pieces than the receiving inbox holds, so the handler waits mid-file.
        let chunk = 16;
        fs::write(&path, vec![7u8; chunk * (axon_core::DEFAULT_CAPACITY + 10)]).unwrap();
        let mut minimal = Minimal::new(request(Method::GET, "/shrinks.bin", &[]), &root, "index.html");
        minimal.chunk_size = chunk;
        minimal.sendfile = false;
        let scheduler = Scheduler::new();
        let mut handle = Handle::new(minimal, &scheduler);
        assert!(matches!(handle.recv_blocking(), Some(Resource::Head(_))));
        fs::File::options().write(true).open(&path).unwrap().set_len(0).unwrap();
        let mut received = 0;
        while let Some(msg) = handle.recv_blocking() {
            if let Resource::Data(piece) = msg {
                received += piece.len();
            }
        }
        assert!(received < chunk * (axon_core::DEFAULT_CAPACITY + 10));
        match handle.join_blocking() {
            Exit::Failed(message) => assert!(message.contains("shrank"), "{message}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(!matches!(handle.get_signal(), Ok(Ipc::ProducerFinished(_))));
    }

    #[test]
    fn a_shutdown_request_stops_the_stream_and_is_passed_on() {
        let (_tmp, root) = site();
        let chunk = 16;
        fs::write(root.join("long.bin"), vec![1u8; chunk * (axon_core::DEFAULT_CAPACITY + 10)]).unwrap();
        let mut minimal = Minimal::new(request(Method::GET, "/long.bin", &[]), &root, "index.html");
        minimal.chunk_size = chunk;
        minimal.sendfile = false;
        let scheduler = Scheduler::new();
        let mut handle = Handle::new(minimal, &scheduler);
        assert!(matches!(handle.recv_blocking(), Some(Resource::Head(_))));
        handle.send_control_blocking(axon_core::ipc::ShutdownMicroprocess::new());
        let mut received = 0;
        while let Some(msg) = handle.recv_blocking() {
            if let Resource::Data(piece) = msg {
                received += piece.len();
            }
        }
        assert!(received < chunk * (axon_core::DEFAULT_CAPACITY + 10));
        assert_eq!(handle.join_blocking(), Exit::Finished);
        assert!(matches!(handle.get_signal(), Ok(Ipc::ShutdownMicroprocess(_))));
    }

    #[test]
    fn the_blocking_pool_gives_the_same_answers_as_inline_io() {
        let (_tmp, root) = site();
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(root.join("big.bin"), &content).unwrap();
        let cases: [(&str, &[(&'static str, &str)]); 6] = [
            ("/hello.txt", &[]),
            ("/big.bin", &[]),
            ("/big.bin", &[("range", "bytes=100-2099")]),
            ("/sub", &[]),
            ("/absent", &[]),
            ("/hello.txt", &[("if-none-match", "*")]),
        ];
        for (target, headers) in cases {
            let answers = [FileIo::Inline, FileIo::BlockingPool].map(|file_io| {
                let mut minimal = Minimal::new(request(Method::GET, target, headers), &root, "index.html");
                minimal.chunk_size = 1024;
                minimal.file_io = file_io;
                minimal.sendfile = false;
                let seen = run(minimal);
                (seen.head, seen.data, seen.finished, seen.exit)
            });
            assert_eq!(answers[0], answers[1], "{target} {headers:?}");
        }
        let whole = get(&root, "/big.bin");
        assert_eq!(whole.body(), content);
    }

    #[test]
    fn a_file_larger_than_a_chunk_is_one_region_of_the_open_file_and_a_range_its_slice() {
        let (_tmp, root) = site();
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(root.join("big.bin"), &content).unwrap();
        let get_big = |method: Method, headers: &[(&'static str, &str)]| {
            let mut minimal = Minimal::new(request(method, "/big.bin", headers), &root, "index.html");
            minimal.chunk_size = 1024;
            run(minimal)
        };
        let whole = get_big(Method::GET, &[]);
        assert_eq!((whole.head.status, whole.head.length), (StatusCode::OK, Some(10_000)));
        assert_eq!(whole.regions.len(), 1);
        assert_eq!((whole.regions[0].offset(), whole.regions[0].len()), (0, 10_000));
        assert_eq!(whole.body(), content);
        assert!(whole.finished);

        let slice = get_big(Method::GET, &[("range", "bytes=100-2099")]);
        assert_eq!(slice.head.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(slice.regions.len(), 1);
        assert_eq!((slice.regions[0].offset(), slice.regions[0].len()), (100, 2000));
        assert_eq!(slice.body(), &content[100..2100]);

        let head = get_big(Method::HEAD, &[]);
        assert_eq!(head.head.length, Some(10_000));
        assert!(head.data.is_empty() && head.finished);

        // The blocking pool never sends regions: the kernel would read the disk on the
        // connection's thread.
        let mut pooled = Minimal::new(request(Method::GET, "/big.bin", &[]), &root, "index.html");
        (pooled.chunk_size, pooled.file_io) = (1024, FileIo::BlockingPool);
        let pooled = run(pooled);
        assert!(pooled.regions.is_empty());
        assert_eq!(pooled.body(), content);
        // Nor does a factory told not to.
        let factory = MinimalFactory::new("index.html", &root).with_sendfile(false);
        let mut minimal = factory.make(request(Method::GET, "/big.bin", &[]));
        minimal.chunk_size = 1024;
        assert!(run(minimal).regions.is_empty());
    }

    #[test]
    fn a_file_of_one_chunk_or_less_is_read_before_the_head_is_sent() {
        let (_tmp, root) = site();
        fs::write(root.join("eight"), "12345678").unwrap();
        let mut minimal = Minimal::new(request(Method::GET, "/eight", &[]), &root, "index.html");
        minimal.chunk_size = 8;
        let Answer::Page(head, body) = minimal.answer_blocking() else { panic!("not read whole") };
        assert_eq!((head.status, head.length, &body[..]), (StatusCode::OK, Some(8), &b"12345678"[..]));
        minimal.chunk_size = 7;
        assert!(matches!(minimal.answer_blocking(), Answer::File { start: 0, length: 8, .. }));
    }

    #[test]
    fn the_factory_takes_the_index_first_as_kamaelia_did() {
        let (_tmp, root) = site();
        let factory = MinimalFactory::new("index.html", &root);
        let minimal = factory.make(request(Method::GET, "/sub/", &[]));
        assert_eq!(minimal.indexfilename, "index.html");
        assert_eq!(minimal.homedirectory, root);
        assert_eq!(minimal.chunk_size, DEFAULT_CHUNK_SIZE);
        assert!(!minimal.serve_hidden);
        assert!(minimal.sendfile);
        assert_eq!(run(minimal).body(), b"<p>index</p>");
        fn send_sync_clone<T: Send + Sync + Clone>() {}
        send_sync_clone::<MinimalFactory>();
    }
}
