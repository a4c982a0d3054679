//! [`Minimal`]: the static-file handler (Kamaelia's `Kamaelia.Protocol.HTTP.Handlers.Minimal`),
//! and [`MinimalFactory`], which makes one per request.
//!
//! `Minimal` serves the files under a home directory: the request's path, after the route prefix,
//! names a file below it; a directory is served by its index file. It answers `GET` and `HEAD`,
//! with the validators, conditional requests and byte ranges a static file server is expected to
//! support. A file of at most [`chunk_size`](Minimal::chunk_size) bytes is read and sent as one
//! piece; a larger one is handed over as a region of the open file ([`Resource::File`]), which the
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
//! # Using it
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
//! * **Conditional requests** (RFC 9110 §13.1.2, §13.1.3, §13.2.2): `If-None-Match` (a list of tags
//!   or `*`, weak comparison) that matches, or, when there is no `If-None-Match`,
//!   `If-Modified-Since` not earlier than the modification time (to the second), gives
//!   304 Not Modified with the validators and no body.
//! * **Ranges** (RFC 9110 §14), for `GET` only: one range, `bytes=a-b`, `bytes=a-` or `bytes=-n`,
//!   gives 206 Partial Content with `Content-Range` and just those bytes. A range starting at or past
//!   the end, or `bytes=-0`, gives 416 with `Content-Range: bytes */length` (§15.5.17). Several
//!   ranges, a `Range` that does not parse, or an `If-Range` (§13.1.5; an entity tag compared
//!   strongly, or a date compared exactly) that does not match the file, get the whole file: the
//!   RFC lets a server ignore `Range`. Full and partial responses carry `Accept-Ranges: bytes`.
//! * **HEAD** (RFC 9110 §9.3.2) gets the same head as `GET`, `Content-Length` included, and no data.
//! * **A file that changes under it.** The length is taken when the file is opened. A file of one
//!   piece or less is read before the head is sent, so if it ends early or a read fails the
//!   client gets a 500. A larger file that ends early, or whose read fails, after the head has
//!   gone makes the connection abort rather than send a short body as if it were complete, with a
//!   warning in the log: from the socket adapter when the file was sent as a region, from
//!   `Minimal`, which then fails ([`MinimalError`]), when it was read in pieces. If it grows, only
//!   the first length bytes are sent.
//!
//! # Differences from Kamaelia
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

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::min;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component as PathComponent, Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::Bytes;
use http::header::{
    HeaderValue, ACCEPT_RANGES, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE,
    LAST_MODIFIED, LOCATION, RANGE,
};
use http::{HeaderMap, Method, StatusCode};
use kamaelia_chassis::socket::FileRegion;

use crate::error_pages::{escape_html, get_error_page, ErrorPages, ERROR_PAGE_TYPE};
use crate::request::Request;
use crate::resource::{Resource, ResponseHead};

mod embedded;

pub use embedded::{EmbeddedFiles, EmbeddedFilesError};

/// How files are opened (besides read-only and close-on-exec): without waiting, so that a named
/// pipe (or a device) under the home directory cannot block a server thread in `open`. It is then
/// found not to be a regular file and answered 404. (`O_NONBLOCK` changes nothing for regular
/// files.) And never as the controlling terminal.
#[cfg(unix)]
const OPEN_FLAGS: rustix::fs::OFlags =
    rustix::fs::OFlags::CLOEXEC.union(rustix::fs::OFlags::NONBLOCK).union(rustix::fs::OFlags::NOCTTY);

/// Opens `path` to read it (see [`OPEN_FLAGS`]).
fn open_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // (std adds O_CLOEXEC itself.)
        options.custom_flags(OPEN_FLAGS.difference(rustix::fs::OFlags::CLOEXEC).bits() as i32);
    }
    options.open(path)
}

/// Opening without following symbolic links (Linux 5.6 and later).
#[cfg(target_os = "linux")]
mod no_links {
    use std::fs::File;
    use std::io;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};

    use rustix::fs::{openat2, Mode, OFlags, ResolveFlags, CWD};
    use rustix::io::Errno;

    /// Set once `openat2` has been refused as unknown or forbidden: not tried again.
    pub(super) static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

    /// Opens `path` (a directory only, without reading rights, if `directory`) if no component of
    /// it is a symbolic link. `Some(Err)` for an answer that holds whatever links there are (no
    /// such file, a file used as a directory, a name too long); `None` when the caller must look
    /// the general way (a link on the way, no permission to read, `openat2` unavailable).
    pub(super) fn open(path: &Path, directory: bool) -> Option<io::Result<File>> {
        if UNAVAILABLE.load(Ordering::Relaxed) {
            return None;
        }
        let flags = if directory {
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC
        } else {
            OFlags::RDONLY | super::OPEN_FLAGS
        };
        let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        match openat2(CWD, path, flags, Mode::empty(), resolve) {
            Ok(fd) => Some(Ok(File::from(fd))),
            Err(e @ (Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG)) => Some(Err(e.into())),
            Err(Errno::NOSYS | Errno::PERM) => {
                log::debug!("openat2 is not available here: static files are opened by resolving their paths");
                UNAVAILABLE.store(true, Ordering::Relaxed);
                None
            }
            Err(_) => None,
        }
    }
}

/// How many bytes of a file [`Minimal`] reads into each [`Resource::Data`] message: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

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
    /// of the path, the `open`, the `fstat` and, for a file of at most one chunk, the whole read
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
/// | box       | carries    | what                                                                      |
/// |-----------|------------|---------------------------------------------------------------------------|
/// | `inbox`   | `Bytes`    | The request body: ignored (discarded as it arrives)                       |
/// | `control` | `Ipc`      | `ShutdownMicroprocess` (the client has gone): stop sending, pass it on out of `signal`, end; `ProducerFinished` (end of the body): ignored |
/// | `outbox`  | `Resource` | The head, then the file (or the page): one piece of at most `chunk_size` bytes, or a [`Resource::File`] region (with [`sendfile`](Self::sendfile)), or pieces of at most `chunk_size` bytes; an [embedded](Self::embedded) file in one piece; no data for `HEAD` |
/// | `signal`  | `Ipc`      | `ProducerFinished` after the last piece                                   |
///
/// If the file ends early or cannot be read after the head was sent (while reading it in pieces),
/// the body returns an error ([`MinimalError`]) and sends no `ProducerFinished`.
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
    /// Whether a file larger than [`chunk_size`](Self::chunk_size) is sent as one
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
    /// The resolved home directory, shared by the handlers of one [`MinimalFactory`].
    root_cache: Option<Arc<RootCache>>,
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
            root_cache: None,
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
    /// The home directory resolved once for all the handlers this factory makes, and resolved
    /// again when it is no longer the same directory (a home directory that is a symbolic link
    /// may be re-pointed while the server runs).
    root_cache: Arc<RootCache>,
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

/// A resolved home directory, shared by the handlers of one factory.
#[derive(Debug, Default)]
struct RootCache {
    /// The resolved home directory, and which directory it was (device and inode).
    root: RwLock<Option<(Arc<Path>, DirId)>>,
    /// Whether the home directory's own path has a symbolic link in it, so that no file below it
    /// can be opened without following one: [`LINKS_UNKNOWN`], [`LINKS_NONE`] or [`LINKS_SOME`].
    links: AtomicU8,
}

/// The home directory has not been looked at yet.
const LINKS_UNKNOWN: u8 = 0;
/// The home directory's path had no symbolic link in it when looked at.
const LINKS_NONE: u8 = 1;
/// The home directory's path has a symbolic link in it.
const LINKS_SOME: u8 = 2;

impl RootCache {
    /// The resolved home directory, if `now` is still the directory it was resolved to.
    fn get_if(&self, now: DirId) -> Option<Arc<Path>> {
        match &*self.root.read().unwrap_or_else(PoisonError::into_inner) {
            Some((root, id)) if *id == now => Some(root.clone()),
            _ => None,
        }
    }

    #[cfg(test)]
    fn get(&self) -> Option<Arc<Path>> {
        self.root.read().unwrap_or_else(PoisonError::into_inner).as_ref().map(|(root, _)| root.clone())
    }

    fn set(&self, root: Arc<Path>, id: DirId) {
        *self.root.write().unwrap_or_else(PoisonError::into_inner) = Some((root, id));
    }
}

/// Which directory a path leads to (device and inode, links followed), to tell whether a cached
/// resolution still holds; `None` where the platform does not say.
type DirId = Option<(u64, u64)>;

fn dir_id(path: &Path) -> DirId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

impl MinimalFactory {
    /// A factory serving `homedirectory` with `indexfilename` as the index (Kamaelia's order).
    pub fn new(indexfilename: impl Into<String>, homedirectory: impl Into<PathBuf>) -> Self {
        MinimalFactory {
            indexfilename: indexfilename.into(),
            homedirectory: homedirectory.into(),
            file_io: FileIo::Inline,
            sendfile: true,
            embedded: None,
            root_cache: Arc::default(),
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
        minimal.root_cache = Some(self.root_cache.clone());
        minimal
    }
}

/// Why a response failed after its head was sent: the server aborts the connection, since the
/// body can no longer match the length the head announced.
#[derive(Debug, thiserror::Error)]
pub enum MinimalError {
    /// The file ended before the length read when it was opened (it shrank while being sent).
    #[error("`{}` ended after {sent} of {expected} bytes: the file shrank while being sent", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The bytes of the response body read before the end.
        sent: u64,
        /// The bytes the head announced.
        expected: u64,
    },
    /// Reading the file failed.
    #[error("reading `{}` failed after {sent} of {expected} bytes: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The bytes of the response body read before the failure.
        sent: u64,
        /// The bytes the head announced.
        expected: u64,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

/// What `Minimal` answers.
enum Answer {
    /// A page (error, redirect, 304 with an empty body, or a file of at most one chunk, read
    /// whole): its head and body.
    Page(ResponseHead, Bytes),
    /// The file, or a slice of it: the head, then `length` bytes of `file` from `start` (where
    /// `file` is already positioned).
    File { head: ResponseHead, file: File, path: PathBuf, start: u64, length: u64 },
}

impl From<(ResponseHead, Bytes)> for Answer {
    fn from((head, body): (ResponseHead, Bytes)) -> Self {
        Answer::Page(head, body)
    }
}

/// The validators of a file.
struct Validators {
    /// The modification time, if the platform gives one and it is after 1970.
    modified: Option<SystemTime>,
    /// The strong entity tag, quotes included.
    etag: Option<HeaderValue>,
    /// `Last-Modified`'s value.
    last_modified: Option<HeaderValue>,
}

/// What a file's validators are made from: its modification time (seconds and nanoseconds since
/// 1970) and its length.
type ValidatorKey = (u64, u32, u64);

/// Validators made, with what they were made from: `(key, ETag, Last-Modified)`.
type KeptValidators = (ValidatorKey, Option<HeaderValue>, Option<HeaderValue>);

impl Validators {
    fn of(meta: &Metadata) -> Self {
        let modified = meta.modified().ok().filter(|t| t.duration_since(UNIX_EPOCH).is_ok());
        let Some((time, since)) = modified.and_then(|t| Some((t, t.duration_since(UNIX_EPOCH).ok()?))) else {
            return Validators { modified: None, etag: None, last_modified: None };
        };
        let key: ValidatorKey = (since.as_secs(), since.subsec_nanos(), meta.len());
        thread_local! {
            /// The validators last made on this thread: a site serves the same files again and
            /// again, and formatting the two values costs more than the rest of the head. Both
            /// are made from the key alone, so a file with the same key has the same values.
            static LAST: RefCell<Option<KeptValidators>> = const { RefCell::new(None) };
        }
        let (etag, last_modified) = LAST.with(|last| {
            let mut last = last.borrow_mut();
            if let Some((kept, etag, last_modified)) = last.as_ref() {
                if *kept == key {
                    return (etag.clone(), last_modified.clone());
                }
            }
            let etag = short_value(format_args!("\"{:x}-{:x}-{:x}\"", key.0, key.1, key.2));
            let last_modified = short_value(format_args!("{}", httpdate::HttpDate::from(time)));
            *last = Some((key, etag.clone(), last_modified.clone()));
            (etag, last_modified)
        });
        Validators { modified, etag, last_modified }
    }

    /// The modification time in whole seconds since 1970, as `Last-Modified` shows it.
    fn modified_secs(&self) -> Option<u64> {
        self.modified.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs())
    }

    /// The entity tag's bytes (with its quotes).
    fn etag(&self) -> Option<&[u8]> {
        self.etag.as_ref().map(HeaderValue::as_bytes)
    }

    /// Adds `ETag` and `Last-Modified` to `head` (shared values, not copies).
    fn add_to(self, mut head: ResponseHead) -> ResponseHead {
        if let Some(value) = self.etag {
            head = head.header(ETAG, value);
        }
        if let Some(value) = self.last_modified {
            head = head.header(LAST_MODIFIED, value);
        }
        head
    }
}

/// A text of up to 64 bytes, formatted on the stack.
struct ShortText {
    buf: [u8; 64],
    len: usize,
}

impl std::fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A header value formatted from `args` (64 bytes at most) with one allocation, its own size.
fn short_value(args: std::fmt::Arguments<'_>) -> Option<HeaderValue> {
    let mut text = ShortText { buf: [0; 64], len: 0 };
    std::fmt::write(&mut text, args).ok()?;
    HeaderValue::from_maybe_shared(Bytes::copy_from_slice(&text.buf[..text.len])).ok()
}

/// A `Range` field, judged against a file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeRequest {
    /// Serve the whole file: several ranges, or a field that does not parse.
    Ignore,
    /// No byte of the range is in the file (416).
    Unsatisfiable,
    /// Bytes `start..=end` (206).
    Satisfiable { start: u64, end: u64 },
}

impl Component for Minimal {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "The request body: ignored")
            .describe(
                BoxKind::Inbox,
                "control",
                "ShutdownMicroprocess: stop sending, pass it on, end; ProducerFinished: ignored",
            )
            .describe(BoxKind::Outbox, "outbox", "The head, then the file in pieces (none for HEAD)")
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

    /// Works out the answer: everything up to the body, and the body itself if it is at most one
    /// chunk (or [embedded](Self::embedded)); where [`file_io`](Self::file_io) says.
    async fn answer(&self) -> Answer {
        if let Some(files) = self.embedded {
            // In memory: no file-system call to make anywhere.
            return self.resolve_embedded(files).unwrap_or_else(|refusal| refusal);
        }
        match self.file_io {
            FileIo::Inline => self.resolve().unwrap_or_else(|refusal| refusal),
            FileIo::BlockingPool => {
                let me = self.clone();
                match tokio::task::spawn_blocking(move || me.resolve().unwrap_or_else(|refusal| refusal)).await {
                    Ok(answer) => answer,
                    // (`io_failed` logs it.)
                    Err(e) => self.io_failed(&io::Error::other(e)),
                }
            }
        }
    }

    /// [`answer`](Self::answer), with the refusals as `Err` so that `?` can return them. Makes
    /// blocking file-system calls.
    // The refusal is the answer itself, made once per request: boxing it would cost an allocation.
    #[allow(clippy::result_large_err)]
    fn resolve(&self) -> Result<Answer, Answer> {
        let relative = self.checked_request()?;
        let mut requested = self.homedirectory.join(relative);
        // `real` is the file's resolved path when it differs from the one requested.
        let (mut real, mut opened, mut meta) = self.locate(&requested, true)?;
        let trailing_slash = self.request.path.ends_with('/');
        if meta.is_dir() {
            if !trailing_slash {
                return Err(self.redirect_to_slash());
            }
            requested.push(&self.indexfilename);
            (real, opened, meta) = self.locate(&requested, self.index_is_plain())?;
        } else if trailing_slash {
            log::debug!("refusing {}: a file asked for as a directory", self.request.path.as_bytes().escape_ascii());
            return Err(self.not_found());
        }
        if !meta.is_file() {
            log::debug!(
                "refusing {}: `{}` is not a regular file",
                self.request.path.as_bytes().escape_ascii(),
                real.as_deref().unwrap_or(&requested).display()
            );
            return Err(self.not_found());
        }

        let (mut file, meta) = match opened {
            Some(file) => (file, meta),
            None => {
                let file = open_file(real.as_deref().unwrap_or(&requested)).map_err(|e| self.io_failed(&e))?;
                // The length and validators of the file opened, not of the name looked up before.
                let meta = file.metadata().map_err(|e| self.io_failed(&e))?;
                if !meta.is_file() {
                    return Err(self.not_found());
                }
                (file, meta)
            }
        };
        let (head, start, length) = self.select(&requested, meta.len(), Validators::of(&meta))?;
        if start > 0 {
            file.seek(SeekFrom::Start(start)).map_err(|e| self.io_failed(&e))?;
        }
        if length <= self.chunk_size.max(1) as u64 && self.request.method == Method::GET {
            // One chunk or less: read it now, so that a file that shrank is still a clean 500.
            let body = read_piece(&mut file, length as usize).map_err(|e| {
                // (`io_failed` logs it.)
                self.io_failed(&io::Error::other(e.at(real.as_deref().unwrap_or(&requested), 0, length)))
            })?;
            return Ok(Answer::Page(head, body));
        }
        Ok(Answer::File { head, file, path: real.unwrap_or(requested), start, length })
    }

    /// Checks what both sources check first: the method (405 or 501 if it is not `GET` or
    /// `HEAD`) and the request's segments (404 if they name nothing that may be served); returns
    /// the path below the home directory (or the embedded files' root) that they name.
    #[allow(clippy::result_large_err)]
    fn checked_request(&self) -> Result<PathBuf, Answer> {
        let method = &self.request.method;
        if method != Method::GET && method != Method::HEAD {
            return Err(if self.request.has_known_method() {
                ErrorPages::method_not_allowed(method, &[Method::GET, Method::HEAD]).page().into()
            } else {
                ErrorPages::not_implemented(method).page().into()
            });
        }
        self.relative_path().map_err(|why| {
            log::debug!("refusing {}: {why}", self.request.path.as_bytes().escape_ascii());
            self.not_found()
        })
    }

    /// What both sources answer once the file is found, from its name (for `Content-Type`), its
    /// length and its validators: the head, and which bytes of the file follow it (`start` and
    /// `length`), as the conditional fields (RFC 9110 §13.2.2) and `Range` (§14) ask. `Err` is an
    /// answer that sends none of the file: 304 Not Modified or 416 Range Not Satisfiable.
    #[allow(clippy::result_large_err)]
    fn select(&self, name: &Path, len: u64, validators: Validators) -> Result<(ResponseHead, u64, u64), Answer> {
        if not_modified(&self.request.headers, &validators) {
            let head = validators.add_to(ResponseHead::new(StatusCode::NOT_MODIFIED));
            return Err(Answer::Page(head, Bytes::new()));
        }

        let range = self.range(len, &validators);
        let mut head = validators
            .add_to(ResponseHead::new(StatusCode::OK))
            .header(CONTENT_TYPE, content_type(name))
            .header(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        let (start, length) = match range {
            RangeRequest::Ignore => (0, len),
            RangeRequest::Unsatisfiable => return Err(self.range_not_satisfiable(len)),
            RangeRequest::Satisfiable { start, end } => {
                head.status = StatusCode::PARTIAL_CONTENT;
                head.headers.insert(CONTENT_RANGE, digits_value(format!("bytes {start}-{end}/{len}")));
                (start, end - start + 1)
            }
        };
        Ok((head.length(length), start, length))
    }

    /// The path below the home directory that the request names, from its checked segments; or
    /// why it names nothing that may be served.
    fn relative_path(&self) -> Result<PathBuf, &'static str> {
        let request = &self.request;
        let raw = if request.uri_suffix.is_empty() && request.uri_prefix_trigger.is_empty() {
            &request.path
        } else {
            &request.uri_suffix
        };
        let mut relative = PathBuf::new();
        for raw_segment in raw.split('/') {
            let bytes: Cow<'_, [u8]> = percent_encoding::percent_decode_str(raw_segment).into();
            let Ok(segment) = std::str::from_utf8(&bytes) else { return Err("a segment is not UTF-8") };
            match segment {
                "" | "." => continue,
                ".." => return Err("a segment is `..`"),
                _ => {}
            }
            if segment.contains(['/', '\\', '\0']) {
                return Err("a segment contains `/`, `\\` or NUL");
            }
            if segment.starts_with('.') && !self.serve_hidden {
                return Err("a segment is a hidden name");
            }
            // Whatever the platform: one segment must be one plain name (not `C:`, not a root).
            let mut parts = Path::new(segment).components();
            if !matches!((parts.next(), parts.next()), (Some(PathComponent::Normal(_)), None)) {
                return Err("a segment is not a plain name");
            }
            relative.push(segment);
        }
        Ok(relative)
    }

    /// Whether the index name is one plain name, not hidden (unless hidden files are served):
    /// what the request's own segments are checked to be.
    fn index_is_plain(&self) -> bool {
        let mut parts = Path::new(&self.indexfilename).components();
        match (parts.next(), parts.next()) {
            (Some(PathComponent::Normal(name)), None) => {
                self.serve_hidden || !name.as_encoded_bytes().starts_with(b".")
            }
            _ => false,
        }
    }

    /// The home directory, resolved: from the factory's cache when this handler has one and the
    /// home directory is still the directory it was resolved to (one `stat`; a home directory
    /// that is a link may have been re-pointed since).
    // The refusal is the answer itself, made once per request: boxing it would cost an allocation.
    #[allow(clippy::result_large_err)]
    fn root(&self) -> Result<Arc<Path>, Answer> {
        if let Some(cache) = &self.root_cache {
            let now = dir_id(&self.homedirectory);
            if let Some(root) = now.and_then(|_| cache.get_if(now)) {
                return Ok(root);
            }
        }
        let root: Arc<Path> = std::fs::canonicalize(&self.homedirectory)
            .map_err(|e| {
                log::warn!("the home directory `{}` cannot be resolved: {e}", self.homedirectory.display());
                self.io_failed(&e)
            })?
            .into();
        if let Some(cache) = &self.root_cache {
            cache.set(root.clone(), dir_id(&root));
        }
        Ok(root)
    }

    /// Resolves `path`, checks that it is inside the home directory (both resolved) and not hidden
    /// there, and opens it; returns the resolved path, the open file (`None` for a directory that
    /// could not be opened) and its metadata.
    // The refusal is the answer itself, made once per request: boxing it would cost an allocation.
    #[allow(clippy::result_large_err)]
    fn locate(&self, path: &Path, plain: bool) -> Result<(Option<PathBuf>, Option<File>, Metadata), Answer> {
        if let Some(file) = self.open_without_links(path, plain)? {
            let meta = file.metadata().map_err(|e| self.io_failed(&e))?;
            return Ok((None, Some(file), meta));
        }
        let real = std::fs::canonicalize(path).map_err(|e| self.lookup_failed(path, &e))?;
        let root = self.root()?;
        let Ok(inside) = real.strip_prefix(&root) else {
            log::debug!(
                "refusing `{}`: it resolves to `{}`, outside `{}`",
                path.display(),
                real.display(),
                root.display()
            );
            return Err(self.not_found());
        };
        let hidden = inside
            .components()
            .any(|c| matches!(c, PathComponent::Normal(name) if name.as_encoded_bytes().starts_with(b".")));
        if hidden && !self.serve_hidden {
            log::debug!("refusing `{}`: it resolves to the hidden `{}`", path.display(), real.display());
            return Err(self.not_found());
        }
        // Open first, then `fstat`: on Unix a directory opens too, so a file costs an open and an
        // fstat rather than a stat, an open and an fstat. A directory that may be searched but not
        // read (mode --x) cannot be opened: it is looked at with a stat instead.
        let opened = if cfg!(unix) { open_file(&real).map(Some) } else { Ok(None) };
        match opened {
            Ok(Some(file)) => {
                let meta = file.metadata().map_err(|e| self.io_failed(&e))?;
                Ok((Some(real), Some(file), meta))
            }
            Ok(None) | Err(_) => {
                let meta = std::fs::metadata(&real).map_err(|e| self.lookup_failed(path, &e))?;
                Ok((Some(real), None, meta))
            }
        }
    }

    /// Opens `path` in one system call if no symbolic link is on the way (see "The rules"):
    /// `None` when it cannot say (a link, a directory that may be searched but not read, no
    /// `openat2`), and the general way must look.
    #[allow(clippy::result_large_err)]
    fn open_without_links(&self, path: &Path, plain: bool) -> Result<Option<File>, Answer> {
        #[cfg(target_os = "linux")]
        {
            // Below the home directory, `path` must be plain names, not hidden (unless hidden files
            // are served): the request's segments are checked so, but an index name may not be,
            // and the general way decides then.
            if !plain {
                return Ok(None);
            }
            if let Some(cache) = &self.root_cache {
                if cache.links.load(Ordering::Relaxed) == LINKS_UNKNOWN {
                    let links = match no_links::open(&self.homedirectory, true) {
                        Some(Ok(_)) => LINKS_NONE,
                        None => LINKS_SOME,
                        Some(Err(_)) => LINKS_UNKNOWN,
                    };
                    cache.links.store(links, Ordering::Relaxed);
                }
                // With a link in the home directory's path every file is opened through one: do
                // not try (a home directory re-pointed since, without links, is simply slower).
                if cache.links.load(Ordering::Relaxed) != LINKS_NONE {
                    return Ok(None);
                }
            }
            match no_links::open(path, false) {
                None => Ok(None),
                Some(Ok(file)) => Ok(Some(file)),
                Some(Err(e)) => Err(self.lookup_failed(path, &e)),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (path, plain);
            Ok(None)
        }
    }

    /// The page for a name that could not be looked up: 403 if not allowed, else 404 (no such
    /// file, a file used as a directory, a name too long...).
    fn lookup_failed(&self, path: &Path, error: &io::Error) -> Answer {
        log::debug!("looking up `{}` failed: {error}", path.display());
        match error.kind() {
            io::ErrorKind::PermissionDenied => self.forbidden(),
            _ => self.not_found(),
        }
    }

    /// The page for a failure to open or read a file found: 403, 404 (it has just gone) or 500.
    fn io_failed(&self, error: &io::Error) -> Answer {
        match error.kind() {
            io::ErrorKind::PermissionDenied => self.forbidden(),
            io::ErrorKind::NotFound => self.not_found(),
            _ => {
                log::warn!("serving {} failed: {error}", self.request.path.as_bytes().escape_ascii());
                get_error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("The requested URL {} could not be read.", self.request.path),
                )
                .into()
            }
        }
    }

    fn not_found(&self) -> Answer {
        get_error_page(
            StatusCode::NOT_FOUND,
            &format!("The requested URL {} was not found on this server.", self.request.path),
        )
        .into()
    }

    fn forbidden(&self) -> Answer {
        get_error_page(
            StatusCode::FORBIDDEN,
            &format!("You do not have permission to access {} on this server.", self.request.path),
        )
        .into()
    }

    /// A 301 to the request's path with a `/` added, and the query kept.
    fn redirect_to_slash(&self) -> Answer {
        // Leading slashes collapsed: `//host/` would send the client to another host.
        let mut location = format!("/{}/", self.request.path.trim_start_matches('/'));
        if let Some(query) = &self.request.query {
            location.push('?');
            location.push_str(query);
        }
        let Ok(value) = HeaderValue::from_str(&location) else {
            log::warn!("cannot redirect to {}: not a valid Location", location.as_bytes().escape_ascii());
            return self.not_found();
        };
        let link = escape_html(&location);
        let body = format!(
            "<html>\n<title>301 Moved Permanently</title>\n<body>\n<h2>301 Moved Permanently</h2>\n<p>This is now at <a href=\"{link}\">{link}</a>.</p></body>\n</html>\n"
        );
        let head = ResponseHead::new(StatusCode::MOVED_PERMANENTLY)
            .header(CONTENT_TYPE, HeaderValue::from_static(ERROR_PAGE_TYPE))
            .header(LOCATION, value)
            .length(body.len() as u64);
        Answer::Page(head, Bytes::from(body))
    }

    fn range_not_satisfiable(&self, len: u64) -> Answer {
        let range =
            self.request.headers.get(RANGE).map(|v| v.as_bytes().escape_ascii().to_string()).unwrap_or_default();
        let (mut head, body) = get_error_page(
            StatusCode::RANGE_NOT_SATISFIABLE,
            &format!("The range {range} is not within the {len} bytes of {}.", self.request.path),
        );
        head.headers.insert(CONTENT_RANGE, digits_value(format!("bytes */{len}")));
        Answer::Page(head, body)
    }

    /// The `Range` field of a `GET`, judged against the file (`If-Range` included).
    fn range(&self, len: u64, validators: &Validators) -> RangeRequest {
        let headers = &self.request.headers;
        if self.request.method != Method::GET {
            return RangeRequest::Ignore;
        }
        let Some(range) = headers.get(RANGE) else { return RangeRequest::Ignore };
        if let Some(if_range) = headers.get(IF_RANGE) {
            if !if_range_matches(if_range.as_bytes(), validators) {
                return RangeRequest::Ignore;
            }
        }
        parse_range(range.as_bytes(), len)
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

/// Why [`read_piece`] fell short: the bytes it did read, and the cause.
#[derive(Debug)]
enum PieceError {
    /// The file ended first.
    Truncated(usize),
    /// A read failed.
    Read(usize, io::Error),
}

impl PieceError {
    /// The error for a response of `expected` bytes of `path` of which `sent` went before.
    fn at(self, path: &Path, sent: u64, expected: u64) -> MinimalError {
        match self {
            PieceError::Truncated(got) => {
                MinimalError::Truncated { path: path.to_owned(), sent: sent + got as u64, expected }
            }
            PieceError::Read(got, source) => {
                MinimalError::Read { path: path.to_owned(), sent: sent + got as u64, expected, source }
            }
        }
    }
}

/// Reads exactly `want` bytes from `file` into a buffer of that size (blocking).
fn read_piece(file: &mut File, want: usize) -> Result<Bytes, PieceError> {
    let mut piece = Vec::with_capacity(want);
    // `read_to_end` fills the spare capacity without zeroing it first, and retries on EINTR.
    match Read::take(&mut *file, want as u64).read_to_end(&mut piece) {
        Ok(_) if piece.len() == want => Ok(Bytes::from(piece)),
        Ok(_) => Err(PieceError::Truncated(piece.len())),
        Err(e) => Err(PieceError::Read(piece.len(), e)),
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

/// A header value made of digits, spaces and ASCII punctuation that we formatted ourselves.
fn digits_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("formatted numbers are a valid header value")
}

/// The `Content-Type` for `path`, from its extension; UTF-8 for text, JavaScript and JSON.
fn content_type(path: &Path) -> HeaderValue {
    /// The longest extension remembered.
    const KEPT: usize = 15;
    thread_local! {
        /// The last extension looked up on this thread, and its type: a site serves runs of the
        /// same type (its pages, its images), and a lookup in the table costs more than the rest
        /// of the head.
        static LAST: RefCell<([u8; KEPT], usize, HeaderValue)> =
            const { RefCell::new(([0; KEPT], usize::MAX, HeaderValue::from_static(""))) };
    }
    let Some(ext) = path.extension() else { return OCTET_STREAM };
    let ext = ext.as_encoded_bytes();
    if ext.len() > KEPT {
        return type_of_extension(ext);
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.1 != ext.len() || last.0[..ext.len()] != *ext {
            last.0[..ext.len()].copy_from_slice(ext);
            last.1 = ext.len();
            last.2 = type_of_extension(ext);
        }
        last.2.clone()
    })
}

/// `application/octet-stream`, for files of unknown type.
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// The `Content-Type` for a file name extension (see [`content_type`]).
fn type_of_extension(ext: &[u8]) -> HeaderValue {
    let Ok(ext) = std::str::from_utf8(ext) else { return OCTET_STREAM };
    // The table's own `&'static str`: no `Mime` parsed, and nothing allocated for most types.
    let Some(essence) = mime_guess::from_ext(ext).first_raw() else { return OCTET_STREAM };
    if !essence.bytes().all(|b| b.is_ascii_graphic()) {
        return OCTET_STREAM;
    }
    let text = essence.starts_with("text/") || matches!(essence, "application/javascript" | "application/json");
    match essence {
        _ if !text => HeaderValue::from_static(essence),
        "text/html" => HeaderValue::from_static("text/html; charset=utf-8"),
        "text/css" => HeaderValue::from_static("text/css; charset=utf-8"),
        "text/plain" => HeaderValue::from_static("text/plain; charset=utf-8"),
        "application/javascript" => HeaderValue::from_static("application/javascript; charset=utf-8"),
        "application/json" => HeaderValue::from_static("application/json; charset=utf-8"),
        _ => HeaderValue::from_str(&format!("{essence}; charset=utf-8")).unwrap_or(OCTET_STREAM),
    }
}

/// Whether the request's preconditions make this a 304 (RFC 9110 §13.2.2, steps 3 and 4, for
/// `GET` and `HEAD`).
fn not_modified(headers: &HeaderMap, validators: &Validators) -> bool {
    let mut if_none_match = headers.get_all(IF_NONE_MATCH).iter().peekable();
    if if_none_match.peek().is_some() {
        return if_none_match.any(|value| {
            entity_tags(value.as_bytes()).iter().any(|tag| match tag {
                EntityTag::Any => true,
                EntityTag::Tag { opaque, .. } => validators.etag().is_some_and(|ours| ours == *opaque),
            })
        });
    }
    let since =
        headers.get(IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()).and_then(|v| httpdate::parse_http_date(v).ok());
    match (since.and_then(|t| t.duration_since(UNIX_EPOCH).ok()), validators.modified_secs()) {
        (Some(since), Some(modified)) => modified <= since.as_secs(),
        _ => false,
    }
}

/// Whether an `If-Range` value matches the file (RFC 9110 §13.1.5): an entity tag by strong
/// comparison, or a date equal to `Last-Modified`.
fn if_range_matches(value: &[u8], validators: &Validators) -> bool {
    let value = value.trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return match entity_tags(value).as_slice() {
            [EntityTag::Tag { weak: false, opaque }] => validators.etag().is_some_and(|ours| ours == *opaque),
            _ => false,
        };
    }
    let date = std::str::from_utf8(value).ok().and_then(|v| httpdate::parse_http_date(v).ok());
    match (date.and_then(|t| t.duration_since(UNIX_EPOCH).ok()), validators.modified_secs()) {
        (Some(date), Some(modified)) => date.as_secs() == modified,
        _ => false,
    }
}

/// One member of an entity-tag list.
#[derive(Debug, PartialEq, Eq)]
enum EntityTag<'a> {
    /// `*`.
    Any,
    /// A tag: `opaque` includes its quotes.
    Tag { weak: bool, opaque: &'a [u8] },
}

/// Parses `#entity-tag` or `*` (RFC 9110 §8.8.3). Stops at the first member that does not parse,
/// keeping those before it (a tag can contain `,`, so the list is read tag by tag, not split).
fn entity_tags(mut list: &[u8]) -> Vec<EntityTag<'_>> {
    let mut tags = Vec::new();
    loop {
        list = list.trim_ascii_start();
        while let Some(rest) = list.strip_prefix(b",") {
            list = rest.trim_ascii_start();
        }
        if list.is_empty() {
            return tags;
        }
        if let Some(rest) = list.strip_prefix(b"*") {
            tags.push(EntityTag::Any);
            list = rest;
            continue;
        }
        let (weak, rest) = match list.strip_prefix(b"W/") {
            Some(rest) => (true, rest),
            None => (false, list),
        };
        let Some(after_quote) = rest.strip_prefix(b"\"") else { return tags };
        let Some(end) = after_quote.iter().position(|&b| b == b'"') else { return tags };
        tags.push(EntityTag::Tag { weak, opaque: &rest[..end + 2] });
        list = &after_quote[end + 1..];
    }
}

/// Judges a `Range` value against a file of `len` bytes (RFC 9110 §14.1.2, §14.2): only one
/// `bytes` range is served.
fn parse_range(value: &[u8], len: u64) -> RangeRequest {
    let Ok(value) = std::str::from_utf8(value) else { return RangeRequest::Ignore };
    let Some((unit, set)) = value.split_once('=') else { return RangeRequest::Ignore };
    if !unit.eq_ignore_ascii_case("bytes") {
        return RangeRequest::Ignore;
    }
    let mut specs = set.split(',').map(|s| s.trim_matches([' ', '\t'])).filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else { return RangeRequest::Ignore };
    let Some((first, last)) = spec.split_once('-') else { return RangeRequest::Ignore };
    let (start, end) = match (first, last) {
        ("", "") => return RangeRequest::Ignore,
        ("", suffix) => {
            let Some(suffix) = position(suffix) else { return RangeRequest::Ignore };
            (len - min(suffix, len), len.saturating_sub(1))
        }
        (first, "") => {
            let Some(first) = position(first) else { return RangeRequest::Ignore };
            (first, len.saturating_sub(1))
        }
        (first, last) => {
            let (Some(first), Some(last)) = (position(first), position(last)) else { return RangeRequest::Ignore };
            if last < first {
                return RangeRequest::Ignore;
            }
            (first, min(last, len.saturating_sub(1)))
        }
    };
    // `bytes=-0`, and any range of an empty file, start at the end.
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Satisfiable { start, end }
}

/// A byte position: ASCII digits only; a number too large for `u64` counts as `u64::MAX`
/// (past the end of any file).
fn position(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Duration;

    use axon_core::{Exit, Handle, Scheduler};
    use tempfile::TempDir;

    use super::*;

    const HELLO: &str = "Hello, world";

    /// What a client of the handler saw.
    pub(super) struct Seen {
        pub(super) head: ResponseHead,
        /// The body's pieces, a file region's read into memory.
        pub(super) data: Vec<Bytes>,
        /// The file regions among them.
        pub(super) regions: Vec<FileRegion>,
        pub(super) finished: bool,
        pub(super) exit: Exit,
    }

    impl Seen {
        pub(super) fn body(&self) -> Vec<u8> {
            self.data.concat()
        }

        pub(super) fn header(&self, name: &str) -> Option<&str> {
            self.head.headers.get(name).and_then(|v| v.to_str().ok())
        }
    }

    /// A fixed modification time, with nanoseconds: 2023-11-14T22:13:20.5Z.
    fn mtime() -> SystemTime {
        UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000)
    }

    #[test]
    fn validators_are_made_from_the_time_and_length_and_kept_only_for_those() {
        let tmp = tempfile::tempdir().unwrap();
        let [a, b] = ["a.txt", "b.txt"].map(|name| tmp.path().join(name));
        fs::write(&a, "one").unwrap();
        fs::write(&b, "four").unwrap();
        for path in [&a, &b] {
            fs::File::options().write(true).open(path).unwrap().set_modified(mtime()).unwrap();
        }
        let text = |v: &Option<HeaderValue>| v.as_ref().map(|v| v.to_str().unwrap().to_owned());
        let of = |path: &Path| Validators::of(&fs::metadata(path).unwrap());
        let first = of(&a);
        assert_eq!(text(&first.etag).as_deref(), Some("\"6553f100-1dcd6500-3\""));
        assert_eq!(text(&first.last_modified).as_deref(), Some("Tue, 14 Nov 2023 22:13:20 GMT"));
        // The same file again: the same values (kept for this thread, and shared).
        let again = of(&a);
        assert_eq!((text(&again.etag), text(&again.last_modified)), (text(&first.etag), text(&first.last_modified)));
        // Another length, the same time: another tag, the same date.
        let other = of(&b);
        assert_eq!(text(&other.etag).as_deref(), Some("\"6553f100-1dcd6500-4\""));
        assert_eq!(text(&other.last_modified), text(&first.last_modified));
        // The first file changed (another second): both values follow.
        fs::File::options().write(true).open(&a).unwrap().set_modified(mtime() + Duration::from_secs(86_400)).unwrap();
        let changed = of(&a);
        assert_eq!(text(&changed.etag).as_deref(), Some("\"65554280-1dcd6500-3\""));
        assert_eq!(text(&changed.last_modified).as_deref(), Some("Wed, 15 Nov 2023 22:13:20 GMT"));
    }

    /// `tmp/root` holding `hello.txt`, `page.html`, `data.json`, `blob.unknownext`, `.secret`,
    /// `sub/index.html`, `bare/` (no index) and `a b.txt`; `tmp/x` and `tmp/outside.txt` sit
    /// outside the root.
    fn site() -> (TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(root.join("bare")).unwrap();
        for (name, text) in [
            ("hello.txt", HELLO),
            ("page.html", "<p>page</p>"),
            ("data.json", "{}"),
            ("blob.unknownext", "blob"),
            (".secret", "secret"),
            ("sub/index.html", "<p>index</p>"),
            ("a b.txt", "spaced"),
        ] {
            fs::write(root.join(name), text).unwrap();
        }
        let hello = fs::File::options().write(true).open(root.join("hello.txt")).unwrap();
        hello.set_modified(mtime()).unwrap();
        fs::write(tmp.path().join("x"), "OUTSIDE-CONTENT").unwrap();
        fs::write(tmp.path().join("outside.txt"), "OUTSIDE-CONTENT").unwrap();
        (tmp, root)
    }

    pub(super) fn request(method: Method, target: &str, headers: &[(&'static str, &str)]) -> Request {
        let mut request = Request::new(method, target);
        for (name, value) in headers {
            request.headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        request
    }

    pub(super) fn run(minimal: Minimal) -> Seen {
        let scheduler = Scheduler::new();
        let mut handle = Handle::new(minimal, &scheduler);
        let head = match handle.recv_blocking() {
            Some(Resource::Head(head)) => head,
            other => panic!("expected a head first, got {other:?}"),
        };
        let (mut data, mut regions) = (Vec::new(), Vec::new());
        while let Some(msg) = handle.recv_blocking() {
            match msg {
                Resource::Data(bytes) => data.push(bytes),
                Resource::File(region) => {
                    data.push(region.read_to_bytes().unwrap());
                    regions.push(region);
                }
                Resource::Head(head) => panic!("a second head: {head:?}"),
            }
        }
        let exit = handle.join_blocking();
        let finished = matches!(handle.get_signal(), Ok(Ipc::ProducerFinished(_)));
        Seen { head, data, regions, finished, exit }
    }

    fn get(root: &Path, target: &str) -> Seen {
        run(Minimal::new(request(Method::GET, target, &[]), root, "index.html"))
    }

    fn get_with(root: &Path, target: &str, headers: &[(&'static str, &str)]) -> Seen {
        run(Minimal::new(request(Method::GET, target, headers), root, "index.html"))
    }

    impl Minimal {
        fn answer_blocking(&self) -> Answer {
            self.resolve().unwrap_or_else(|refusal| refusal)
        }
    }

    fn hello_etag() -> String {
        format!("\"{:x}-{:x}-{:x}\"", 1_700_000_000u64, 500_000_000u32, HELLO.len())
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
    fn content_types_come_from_the_extension_with_utf8_for_text_and_json_only() {
        let (_tmp, root) = site();
        assert_eq!(get(&root, "/page.html").header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(get(&root, "/data.json").header("content-type"), Some("application/json; charset=utf-8"));
        assert_eq!(get(&root, "/blob.unknownext").header("content-type"), Some("application/octet-stream"));
        assert_eq!(content_type(Path::new("a.PNG")), "image/png");
    }

    #[test]
    fn content_types_of_common_extensions_and_case() {
        let of = |name: &str| content_type(Path::new(name));
        assert_eq!(of("a.css"), "text/css; charset=utf-8");
        assert_eq!(of("a.TXT"), "text/plain; charset=utf-8");
        assert_eq!(of("a.md"), "text/markdown; charset=utf-8");
        assert!(of("a.js").to_str().unwrap().ends_with("javascript; charset=utf-8"));
        assert_eq!(of("a.svg"), "image/svg+xml");
        assert_eq!(of("a.PNG"), "image/png");
        assert_eq!(of("noextension"), "application/octet-stream");
        // The type remembered for the last extension is only ever that extension's.
        for name in ["a.css", "b.css", "c.PNG", "d.png", "e.css", ".css", "f.averyveryverylongextension", "g.css"] {
            let expected = match name {
                "a.css" | "b.css" | "e.css" | "g.css" => "text/css; charset=utf-8",
                "c.PNG" | "d.png" => "image/png",
                _ => "application/octet-stream",
            };
            assert_eq!(of(name), expected, "{name}");
        }
    }

    #[test]
    fn percent_encoded_names_are_decoded() {
        let (_tmp, root) = site();
        let seen = get(&root, "/a%20b.txt");
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.body(), b"spaced");
    }

    #[test]
    fn the_router_suffix_names_the_file_when_set() {
        let (_tmp, root) = site();
        let mut req = request(Method::GET, "/static/hello.txt", &[]);
        req.uri_prefix_trigger = "/static".into();
        req.uri_suffix = "/hello.txt".into();
        let seen = run(Minimal::new(req, &root, "index.html"));
        assert_eq!(seen.body(), HELLO.as_bytes());
        // A suffix without a leading slash (the router's prefix `/` ate it) works too.
        let mut req = request(Method::GET, "/hello.txt", &[]);
        req.uri_prefix_trigger = "/".into();
        req.uri_suffix = "hello.txt".into();
        assert_eq!(run(Minimal::new(req, &root, "index.html")).body(), HELLO.as_bytes());
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
    fn a_missing_file_is_404_naming_the_path() {
        let (_tmp, root) = site();
        let seen = get(&root, "/nothing<here>.txt");
        assert_eq!(seen.head.status, StatusCode::NOT_FOUND);
        let body = String::from_utf8(seen.body()).unwrap();
        assert!(body.contains("/nothing&lt;here&gt;.txt"), "{body}");
        assert!(seen.finished);
    }

    #[test]
    fn traversal_attempts_are_404_and_never_read_outside_the_root() {
        let (_tmp, root) = site();
        for target in [
            "/..%2f..%2fetc/passwd",
            "/%2e%2e/x",
            "/%2E%2E/outside.txt",
            "/a%00b",
            "/../x",
            "/sub/../../x",
            "/..%5cx",
            "/%ff.txt",
        ] {
            let seen = get(&root, target);
            assert_eq!(seen.head.status, StatusCode::NOT_FOUND, "{target}");
            assert!(!String::from_utf8_lossy(&seen.body()).contains("OUTSIDE-CONTENT"), "{target}");
        }
    }

    #[test]
    fn dot_segments_and_empty_segments_are_dropped() {
        let (_tmp, root) = site();
        assert_eq!(get(&root, "/./hello.txt").body(), HELLO.as_bytes());
        assert_eq!(get(&root, "//sub//%2e/index.html").body(), b"<p>index</p>");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_leading_outside_is_404_and_one_staying_inside_is_served() {
        let (tmp, root) = site();
        std::os::unix::fs::symlink(tmp.path().join("outside.txt"), root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("hello.txt"), root.join("in.txt")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), root.join("updir")).unwrap();
        assert_eq!(get(&root, "/out.txt").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get(&root, "/updir/x").head.status, StatusCode::NOT_FOUND);
        let inside = get(&root, "/in.txt");
        assert_eq!(inside.head.status, StatusCode::OK);
        assert_eq!(inside.body(), HELLO.as_bytes());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_to_a_hidden_file_is_404_unless_hidden_files_are_served() {
        let (_tmp, root) = site();
        std::os::unix::fs::symlink(root.join(".secret"), root.join("visible")).unwrap();
        assert_eq!(get(&root, "/visible").head.status, StatusCode::NOT_FOUND);
        let mut minimal = Minimal::new(request(Method::GET, "/visible", &[]), &root, "index.html");
        minimal.serve_hidden = true;
        assert_eq!(run(minimal).body(), b"secret");
    }

    #[test]
    fn a_hidden_file_is_404_unless_hidden_files_are_served() {
        let (_tmp, root) = site();
        assert_eq!(get(&root, "/.secret").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get(&root, "/%2esecret").head.status, StatusCode::NOT_FOUND);
        let mut minimal = Minimal::new(request(Method::GET, "/.secret", &[]), &root, "index.html");
        minimal.serve_hidden = true;
        assert_eq!(run(minimal).body(), b"secret");
    }

    #[test]
    fn a_directory_without_a_slash_is_redirected_keeping_the_query() {
        let (_tmp, root) = site();
        let seen = get(&root, "/sub?a=1&b=<2>");
        assert_eq!(seen.head.status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(seen.header("location"), Some("/sub/?a=1&b=<2>"));
        let body = String::from_utf8(seen.body()).unwrap();
        assert!(body.contains("href=\"/sub/?a=1&amp;b=&lt;2&gt;\""), "{body}");
        assert_eq!(seen.head.length, Some(body.len() as u64));
        assert!(seen.finished);
        let plain = get(&root, "/sub");
        assert_eq!(plain.header("location"), Some("/sub/"));
    }

    #[test]
    fn a_redirect_never_points_at_another_host() {
        let (_tmp, root) = site();
        let seen = get(&root, "//sub");
        assert_eq!(seen.head.status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(seen.header("location"), Some("/sub/"));
    }

    #[test]
    fn a_routed_directory_is_redirected_to_its_full_path() {
        let (_tmp, root) = site();
        let mut req = request(Method::GET, "/static/sub", &[]);
        req.uri_prefix_trigger = "/static".into();
        req.uri_suffix = "/sub".into();
        assert_eq!(run(Minimal::new(req, &root, "index.html")).header("location"), Some("/static/sub/"));
    }

    #[test]
    fn a_directory_with_a_slash_serves_its_index_and_the_root_too() {
        let (_tmp, root) = site();
        let seen = get(&root, "/sub/");
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(seen.body(), b"<p>index</p>");
        fs::write(root.join("index.html"), "root index").unwrap();
        assert_eq!(get(&root, "/").body(), b"root index");
    }

    #[test]
    fn a_directory_without_an_index_is_404() {
        let (_tmp, root) = site();
        let seen = get(&root, "/bare/");
        assert_eq!(seen.head.status, StatusCode::NOT_FOUND);
        assert!(seen.finished);
    }

    #[test]
    fn a_file_asked_for_as_a_directory_is_404() {
        let (_tmp, root) = site();
        assert_eq!(get(&root, "/hello.txt/").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get(&root, "/hello.txt/more").head.status, StatusCode::NOT_FOUND);
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_file_is_403() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, root) = site();
        let path = root.join("hello.txt");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::File::open(&path).is_ok() {
            // Running as root: permissions are not enforced, so there is nothing to test.
            return;
        }
        let seen = get(&root, "/hello.txt");
        assert_eq!(seen.head.status, StatusCode::FORBIDDEN);
        assert!(seen.finished);
    }

    #[test]
    fn permission_errors_are_403_and_other_failures_404_or_500() {
        // (The end-to-end 403 test above cannot run as root, who may read anything.)
        let minimal = Minimal::new(request(Method::GET, "/f", &[]), "root", "index.html");
        let status = |answer: Answer| match answer {
            Answer::Page(head, _) => head.status,
            Answer::File { .. } => panic!("a file"),
        };
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let missing = io::Error::from(io::ErrorKind::NotFound);
        let other = io::Error::other("disk on fire");
        assert_eq!(status(minimal.lookup_failed(Path::new("f"), &denied)), StatusCode::FORBIDDEN);
        assert_eq!(status(minimal.lookup_failed(Path::new("f"), &other)), StatusCode::NOT_FOUND);
        assert_eq!(status(minimal.io_failed(&denied)), StatusCode::FORBIDDEN);
        assert_eq!(status(minimal.io_failed(&missing)), StatusCode::NOT_FOUND);
        assert_eq!(status(minimal.io_failed(&other)), StatusCode::INTERNAL_SERVER_ERROR);
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
    fn if_none_match_with_the_etag_is_304_with_validators_and_no_body() {
        let (_tmp, root) = site();
        let seen = get_with(&root, "/hello.txt", &[("if-none-match", &hello_etag())]);
        assert_eq!(seen.head.status, StatusCode::NOT_MODIFIED);
        assert_eq!(seen.header("etag"), Some(hello_etag().as_str()));
        assert!(seen.header("last-modified").is_some());
        assert_eq!(seen.head.length, None);
        assert_eq!(seen.header("content-type"), None);
        assert!(seen.data.is_empty());
        assert!(seen.finished);
    }

    #[test]
    fn if_none_match_star_weak_and_lists_match_but_another_tag_does_not() {
        let (_tmp, root) = site();
        let etag = hello_etag();
        for value in ["*".to_owned(), format!("W/{etag}"), format!("\"a,b\", {etag}"), format!("\"x\",W/{etag}")] {
            assert_eq!(
                get_with(&root, "/hello.txt", &[("if-none-match", &value)]).head.status,
                StatusCode::NOT_MODIFIED,
                "{value}"
            );
        }
        for value in ["\"other\"", "W/\"other\"", "garbage", ""] {
            let seen = get_with(&root, "/hello.txt", &[("if-none-match", value)]);
            assert_eq!(seen.head.status, StatusCode::OK, "{value}");
            assert_eq!(seen.body(), HELLO.as_bytes());
        }
    }

    #[test]
    fn if_modified_since_at_or_after_the_mtime_is_304_and_before_it_200() {
        let (_tmp, root) = site();
        let at = "Tue, 14 Nov 2023 22:13:20 GMT";
        let before = "Tue, 14 Nov 2023 22:13:19 GMT";
        assert_eq!(get_with(&root, "/hello.txt", &[("if-modified-since", at)]).head.status, StatusCode::NOT_MODIFIED);
        assert_eq!(get_with(&root, "/hello.txt", &[("if-modified-since", before)]).head.status, StatusCode::OK);
        assert_eq!(get_with(&root, "/hello.txt", &[("if-modified-since", "yesterday")]).head.status, StatusCode::OK);
    }

    #[test]
    fn if_none_match_takes_precedence_over_if_modified_since() {
        let (_tmp, root) = site();
        let headers = [("if-none-match", "\"other\""), ("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT")];
        assert_eq!(get_with(&root, "/hello.txt", &headers).head.status, StatusCode::OK);
    }

    #[test]
    fn a_range_gets_206_with_just_that_slice() {
        let (_tmp, root) = site();
        let seen = get_with(&root, "/hello.txt", &[("range", "bytes=0-4")]);
        assert_eq!(seen.head.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(seen.header("content-range"), Some("bytes 0-4/12"));
        assert_eq!(seen.head.length, Some(5));
        assert_eq!(seen.header("accept-ranges"), Some("bytes"));
        assert_eq!(seen.body(), b"Hello");
        assert!(seen.finished);
    }

    #[test]
    fn open_and_suffix_ranges_and_their_limits() {
        let (_tmp, root) = site();
        let cases = [
            ("bytes=7-", "bytes 7-11/12", "world"),
            ("bytes=11-", "bytes 11-11/12", "d"),
            ("bytes=-3", "bytes 9-11/12", "rld"),
            ("bytes=-12", "bytes 0-11/12", HELLO),
            ("bytes=-100", "bytes 0-11/12", HELLO),
            ("bytes=5-100", "bytes 5-11/12", ", world"),
            ("Bytes=0-0", "bytes 0-0/12", "H"),
        ];
        for (range, content_range, body) in cases {
            let seen = get_with(&root, "/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, StatusCode::PARTIAL_CONTENT, "{range}");
            assert_eq!(seen.header("content-range"), Some(content_range), "{range}");
            assert_eq!(seen.body(), body.as_bytes(), "{range}");
        }
    }

    #[test]
    fn a_range_past_the_end_is_416() {
        let (_tmp, root) = site();
        for range in ["bytes=12-", "bytes=100-", "bytes=12-20", "bytes=-0", "bytes=99999999999999999999999-"] {
            let seen = get_with(&root, "/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
            assert_eq!(seen.header("content-range"), Some("bytes */12"), "{range}");
            assert!(seen.finished);
        }
    }

    #[test]
    fn several_ranges_or_an_invalid_range_get_the_whole_file() {
        let (_tmp, root) = site();
        for range in [
            "bytes=0-1,3-4",
            "bytes=0-1, -2",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=-",
            "items=0-1",
            "bytes 0-1",
            "bytes=+1-2",
        ] {
            let seen = get_with(&root, "/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, StatusCode::OK, "{range}");
            assert_eq!(seen.body(), HELLO.as_bytes(), "{range}");
        }
    }

    #[test]
    fn head_ignores_range() {
        let (_tmp, root) = site();
        let seen =
            run(Minimal::new(request(Method::HEAD, "/hello.txt", &[("range", "bytes=0-4")]), &root, "index.html"));
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.head.length, Some(12));
        assert!(seen.data.is_empty());
    }

    #[test]
    fn if_range_that_matches_keeps_the_range_and_a_mismatch_gets_the_whole_file() {
        let (_tmp, root) = site();
        let etag = hello_etag();
        let matching = [etag.clone(), "Tue, 14 Nov 2023 22:13:20 GMT".to_owned()];
        for if_range in &matching {
            let seen = get_with(&root, "/hello.txt", &[("range", "bytes=0-4"), ("if-range", if_range)]);
            assert_eq!(seen.head.status, StatusCode::PARTIAL_CONTENT, "{if_range}");
        }
        let mismatching = [
            "\"other\"".to_owned(),
            format!("W/{etag}"),
            "Tue, 14 Nov 2023 22:13:21 GMT".to_owned(),
            "junk".to_owned(),
        ];
        for if_range in &mismatching {
            let seen = get_with(&root, "/hello.txt", &[("range", "bytes=0-4"), ("if-range", if_range)]);
            assert_eq!(seen.head.status, StatusCode::OK, "{if_range}");
            assert_eq!(seen.body(), HELLO.as_bytes(), "{if_range}");
        }
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
    #[cfg(unix)]
    fn a_factory_resolves_its_home_once_and_again_when_the_home_link_is_re_pointed() {
        let (tmp, root) = site();
        let release2 = tmp.path().join("release2");
        fs::create_dir_all(&release2).unwrap();
        fs::write(release2.join("hello.txt"), "second release").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside.txt"), release2.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("hello.txt"), release2.join("old.txt")).unwrap();
        let current = tmp.path().join("current");
        std::os::unix::fs::symlink(&root, &current).unwrap();
        let factory = MinimalFactory::new("index.html", &current);
        let get_via = |target: &str| run(factory.make(request(Method::GET, target, &[])));
        assert_eq!(get_via("/hello.txt").body(), HELLO.as_bytes());
        assert_eq!(factory.root_cache.get().as_deref(), Some(fs::canonicalize(&root).unwrap().as_path()));
        // A deployment moves the link to the next release. The first request after it is for a
        // link into the old release, now outside the home directory: refused, whatever the
        // cache held.
        let next = tmp.path().join("next");
        std::os::unix::fs::symlink(&release2, &next).unwrap();
        fs::rename(&next, &current).unwrap();
        assert_eq!(get_via("/old.txt").head.status, StatusCode::NOT_FOUND);
        // And the new release is served at once, its files and nothing outside it.
        assert_eq!(get_via("/hello.txt").body(), b"second release");
        assert_eq!(factory.root_cache.get().as_deref(), Some(fs::canonicalize(&release2).unwrap().as_path()));
        assert_eq!(get_via("/escape.txt").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get_via("/old.txt").head.status, StatusCode::NOT_FOUND);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_home_without_links_is_opened_directly_and_what_is_below_it_still_checked() {
        let (tmp, root) = site();
        std::os::unix::fs::symlink(root.join("hello.txt"), root.join("in.txt")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside.txt"), root.join("out.txt")).unwrap();
        fs::write(root.join("sub/.index.html"), "hidden index").unwrap();
        fs::create_dir_all(root.join("up")).unwrap();
        let factory = MinimalFactory::new("index.html", &root);
        let get_via = |factory: &MinimalFactory, target: &str| run(factory.make(request(Method::GET, target, &[])));
        assert_eq!(get_via(&factory, "/hello.txt").body(), HELLO.as_bytes());
        // (Where `openat2` is refused, a sandbox say, the resolving way serves instead.)
        if !no_links::UNAVAILABLE.load(Ordering::Relaxed) {
            assert_eq!(factory.root_cache.links.load(Ordering::Relaxed), LINKS_NONE);
        }
        // A link below the home directory is looked at the general way: followed if it stays
        // inside, 404 if it leads out.
        assert_eq!(get_via(&factory, "/in.txt").body(), HELLO.as_bytes());
        assert_eq!(get_via(&factory, "/out.txt").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get_via(&factory, "/absent.txt").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get_via(&factory, "/hello.txt/x").head.status, StatusCode::NOT_FOUND);
        assert_eq!(get_via(&factory, "/sub/").body(), b"<p>index</p>");
        // An index name that is hidden, or not a plain name, is refused as before.
        let hidden_index = MinimalFactory::new(".index.html", &root);
        assert_eq!(get_via(&hidden_index, "/sub/").head.status, StatusCode::NOT_FOUND);
        let mut escaping = hidden_index.make(request(Method::GET, "/up/", &[]));
        escaping.indexfilename = "../../outside.txt".into();
        escaping.serve_hidden = true;
        assert_eq!(run(escaping).head.status, StatusCode::NOT_FOUND);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_plain_home_directory_replaced_by_a_link_is_followed() {
        let (tmp, root) = site();
        let release2 = tmp.path().join("release2");
        fs::create_dir_all(&release2).unwrap();
        fs::write(release2.join("hello.txt"), "second release").unwrap();
        let factory = MinimalFactory::new("index.html", &root);
        let get_via = |target: &str| run(factory.make(request(Method::GET, target, &[])));
        assert_eq!(get_via("/hello.txt").body(), HELLO.as_bytes());
        // (Where `openat2` is refused, a sandbox say, the resolving way serves instead.)
        if !no_links::UNAVAILABLE.load(Ordering::Relaxed) {
            assert_eq!(factory.root_cache.links.load(Ordering::Relaxed), LINKS_NONE);
        }
        fs::rename(&root, tmp.path().join("release1")).unwrap();
        std::os::unix::fs::symlink(&release2, &root).unwrap();
        assert_eq!(get_via("/hello.txt").body(), b"second release");
        std::os::unix::fs::symlink(tmp.path().join("release1/hello.txt"), release2.join("old.txt")).unwrap();
        assert_eq!(get_via("/old.txt").head.status, StatusCode::NOT_FOUND);
    }

    #[test]
    #[cfg(unix)]
    fn a_named_pipe_is_404_at_once_directly_or_through_a_link() {
        let (_tmp, root) = site();
        let made = std::process::Command::new("mkfifo").arg(root.join("pipe")).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        std::os::unix::fs::symlink(root.join("pipe"), root.join("pipelink")).unwrap();
        for target in ["/pipe", "/pipelink"] {
            // Opening a pipe to read waits for a writer, for ever: the answer must not.
            let (tx, rx) = std::sync::mpsc::channel();
            let root = root.clone();
            std::thread::spawn(move || {
                let _ = tx.send(get(&root, target).head.status);
            });
            let status = rx.recv_timeout(std::time::Duration::from_secs(10));
            assert_eq!(status, Ok(StatusCode::NOT_FOUND), "{target}");
        }
    }

    #[test]
    fn a_missing_home_directory_is_404() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(get(&tmp.path().join("absent"), "/x").head.status, StatusCode::NOT_FOUND);
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

    #[test]
    fn entity_tag_lists_are_read_tag_by_tag() {
        assert_eq!(
            entity_tags(b" \"a,b\" , W/\"c\",*"),
            vec![
                EntityTag::Tag { weak: false, opaque: b"\"a,b\"" },
                EntityTag::Tag { weak: true, opaque: b"\"c\"" },
                EntityTag::Any
            ]
        );
        assert_eq!(entity_tags(b"\"unterminated"), vec![]);
    }
}
