//! Which file a request names, and finding it below the home directory without ever leaving
//! it: the request's segments checked, the home directory resolved once per factory
//! ([`RootCache`]), and files opened without following links where the system allows.

use std::borrow::Cow;
use std::fs::{File, Metadata};
use std::io::{self, Seek, SeekFrom};
use std::path::{Component as PathComponent, Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use http::Method;

use super::answer::{io_failed, lookup_failed, not_found, redirect_to_slash, select, Answer};
use super::conditional::{ValidatorCache, Validators};
use super::content_type::TypeCache;
use super::read::read_piece;
use crate::error_pages::ErrorPages;
use crate::request::Request;

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

/// A resolved home directory, shared by the handlers of one factory.
#[derive(Debug, Default)]
pub(super) struct RootCache {
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

/// A request looked up in a home directory: what of a [`Minimal`](crate::Minimal) finding its
/// file reads.
pub(super) struct Directory<'a> {
    pub(super) request: &'a Request,
    pub(super) homedirectory: &'a Path,
    pub(super) indexfilename: &'a str,
    pub(super) serve_hidden: bool,
    /// A file (or range) of at most this many bytes is read whole, before the head.
    pub(super) read_whole: usize,
    /// The factory's resolved home directory, if the handler was made by one.
    pub(super) root_cache: Option<&'a RootCache>,
    /// The factory's last validators, if the handler was made by one.
    pub(super) validators: Option<&'a ValidatorCache>,
    /// The factory's last type, if the handler was made by one.
    pub(super) types: Option<&'a TypeCache>,
}

impl Directory<'_> {
    /// The answer: everything up to the body, and the body itself if it is small enough to
    /// read whole (`read_whole` bytes), with the refusals as `Err` so that `?` can return them. Makes blocking file-system calls.
    // The refusal is the answer itself, made once per request: boxing it would cost an allocation.
    #[allow(clippy::result_large_err)]
    pub(super) fn resolve(&self) -> Result<Answer, Answer> {
        let mut requested = checked_request(self.request, self.serve_hidden, self.homedirectory)?;
        // `real` is the file's resolved path when it differs from the one requested.
        let (mut real, mut opened, mut meta) = self.locate(&requested, true)?;
        let trailing_slash = self.request.path.ends_with('/');
        if meta.is_dir() {
            if !trailing_slash {
                return Err(redirect_to_slash(self.request));
            }
            requested.push(self.indexfilename);
            (real, opened, meta) = self.locate(&requested, index_is_plain(self.indexfilename, self.serve_hidden))?;
        } else if trailing_slash {
            log::debug!("refusing {}: a file asked for as a directory", self.request.path.as_bytes().escape_ascii());
            return Err(not_found(self.request));
        }
        if !meta.is_file() {
            log::debug!(
                "refusing {}: `{}` is not a regular file",
                self.request.path.as_bytes().escape_ascii(),
                real.as_deref().unwrap_or(&requested).display()
            );
            return Err(not_found(self.request));
        }

        let (mut file, meta) = match opened {
            Some(file) => (file, meta),
            None => {
                let file = open_file(real.as_deref().unwrap_or(&requested)).map_err(|e| io_failed(self.request, &e))?;
                // The length and validators of the file opened, not of the name looked up before.
                let meta = file.metadata().map_err(|e| io_failed(self.request, &e))?;
                if !meta.is_file() {
                    return Err(not_found(self.request));
                }
                (file, meta)
            }
        };
        let validators = Validators::of(&meta, self.validators);
        let (head, start, length) = select(self.request, &requested, meta.len(), validators, self.types)?;
        if start > 0 {
            file.seek(SeekFrom::Start(start)).map_err(|e| io_failed(self.request, &e))?;
        }
        if length <= self.read_whole.max(1) as u64 && self.request.method == Method::GET {
            // Small enough to read whole: read it now, so that a file that shrank is still a clean 500.
            let body = read_piece(&mut file, length as usize).map_err(|e| {
                // (`io_failed` logs it.)
                io_failed(self.request, &io::Error::other(e.at(real.as_deref().unwrap_or(&requested), 0, length)))
            })?;
            return Ok(Answer::Page(head, body));
        }
        Ok(Answer::File { head, file, path: real.unwrap_or(requested), start, length })
    }

    /// The home directory, resolved: from the factory's cache when this handler has one and the
    /// home directory is still the directory it was resolved to (one `stat`; a home directory
    /// that is a link may have been re-pointed since).
    // The refusal is the answer itself, made once per request: boxing it would cost an allocation.
    #[allow(clippy::result_large_err)]
    fn root(&self) -> Result<Arc<Path>, Answer> {
        if let Some(cache) = &self.root_cache {
            let now = dir_id(self.homedirectory);
            if let Some(root) = now.and_then(|_| cache.get_if(now)) {
                return Ok(root);
            }
        }
        let root: Arc<Path> = std::fs::canonicalize(self.homedirectory)
            .map_err(|e| {
                log::warn!("the home directory `{}` cannot be resolved: {e}", self.homedirectory.display());
                io_failed(self.request, &e)
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
            let meta = file.metadata().map_err(|e| io_failed(self.request, &e))?;
            return Ok((None, Some(file), meta));
        }
        let real = std::fs::canonicalize(path).map_err(|e| lookup_failed(self.request, path, &e))?;
        let root = self.root()?;
        let Ok(inside) = real.strip_prefix(&root) else {
            log::debug!(
                "refusing `{}`: it resolves to `{}`, outside `{}`",
                path.display(),
                real.display(),
                root.display()
            );
            return Err(not_found(self.request));
        };
        let hidden = inside
            .components()
            .any(|c| matches!(c, PathComponent::Normal(name) if name.as_encoded_bytes().starts_with(b".")));
        if hidden && !self.serve_hidden {
            log::debug!("refusing `{}`: it resolves to the hidden `{}`", path.display(), real.display());
            return Err(not_found(self.request));
        }
        // Open first, then `fstat`: on Unix a directory opens too, so a file costs an open and an
        // fstat rather than a stat, an open and an fstat. A directory that may be searched but not
        // read (mode --x) cannot be opened: it is looked at with a stat instead.
        let opened = if cfg!(unix) { open_file(&real).map(Some) } else { Ok(None) };
        match opened {
            Ok(Some(file)) => {
                let meta = file.metadata().map_err(|e| io_failed(self.request, &e))?;
                Ok((Some(real), Some(file), meta))
            }
            Ok(None) | Err(_) => {
                let meta = std::fs::metadata(&real).map_err(|e| lookup_failed(self.request, path, &e))?;
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
                    let links = match no_links::open(self.homedirectory, true) {
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
                Some(Err(e)) => Err(lookup_failed(self.request, path, &e)),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (path, plain);
            Ok(None)
        }
    }
}
/// Checks what both sources check first: the method (405 or 501 if it is not `GET` or
/// `HEAD`) and the request's segments (404 if they name nothing that may be served); returns
/// the path below `base` (the home directory, or an empty path for the embedded files' root)
/// that they name.
#[allow(clippy::result_large_err)]
pub(super) fn checked_request(request: &Request, serve_hidden: bool, base: &Path) -> Result<PathBuf, Answer> {
    let method = &request.method;
    if method != Method::GET && method != Method::HEAD {
        return Err(if request.has_known_method() {
            ErrorPages::method_not_allowed(method, &[Method::GET, Method::HEAD]).page().into()
        } else {
            ErrorPages::not_implemented(method).page().into()
        });
    }
    requested_path(request, serve_hidden, base).map_err(|why| {
        log::debug!("refusing {}: {why}", request.path.as_bytes().escape_ascii());
        not_found(request)
    })
}

/// The path below `base` that the request names, from its checked segments (`base.join` of
/// them, and so with a trailing separator when there are none); or why it names nothing that
/// may be served.
fn requested_path(request: &Request, serve_hidden: bool, base: &Path) -> Result<PathBuf, &'static str> {
    let raw = if request.uri_suffix.is_empty() && request.uri_prefix_trigger.is_empty() {
        &request.path
    } else {
        &request.uri_suffix
    };
    // One allocation for the whole path (decoded segments are no longer than the raw path), not
    // one for `base`, grown again for each segment.
    let mut path = PathBuf::with_capacity(base.as_os_str().len() + raw.len() + 2);
    path.push(base);
    let mut named = false;
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
        if segment.starts_with('.') && !serve_hidden {
            return Err("a segment is a hidden name");
        }
        // Whatever the platform: one segment must be one plain name (not `C:`, not a root).
        let mut parts = Path::new(segment).components();
        if !matches!((parts.next(), parts.next()), (Some(PathComponent::Normal(_)), None)) {
            return Err("a segment is not a plain name");
        }
        path.push(segment);
        named = true;
    }
    if !named {
        path.push("");
    }
    Ok(path)
}

/// Whether the index name is one plain name, not hidden (unless hidden files are served):
/// what the request's own segments are checked to be.
fn index_is_plain(indexfilename: &str, serve_hidden: bool) -> bool {
    let mut parts = Path::new(indexfilename).components();
    match (parts.next(), parts.next()) {
        (Some(PathComponent::Normal(name)), None) => serve_hidden || !name.as_encoded_bytes().starts_with(b"."),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use http::StatusCode;

    use super::*;
    use crate::minimal::testing::{get, request, run, site, HELLO};
    #[cfg(unix)]
    use crate::minimal::testing::{reads_anything, run_again_as_nobody};
    use crate::minimal::{Minimal, MinimalFactory};

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
        if reads_anything(&path) {
            // Root (as CI runs) may read anything: the test runs again as a user who may not.
            return run_again_as_nobody("minimal::path::tests::an_unreadable_file_is_403");
        }
        let seen = get(&root, "/hello.txt");
        assert_eq!(seen.head.status, StatusCode::FORBIDDEN);
        assert!(seen.finished);
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
        assert_eq!(factory.caches.root.get().as_deref(), Some(fs::canonicalize(&root).unwrap().as_path()));
        // A deployment moves the link to the next release. The first request after it is for a
        // link into the old release, now outside the home directory: refused, whatever the
        // cache held.
        let next = tmp.path().join("next");
        std::os::unix::fs::symlink(&release2, &next).unwrap();
        fs::rename(&next, &current).unwrap();
        assert_eq!(get_via("/old.txt").head.status, StatusCode::NOT_FOUND);
        // And the new release is served at once, its files and nothing outside it.
        assert_eq!(get_via("/hello.txt").body(), b"second release");
        assert_eq!(factory.caches.root.get().as_deref(), Some(fs::canonicalize(&release2).unwrap().as_path()));
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
            assert_eq!(factory.caches.root.links.load(Ordering::Relaxed), LINKS_NONE);
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
            assert_eq!(factory.caches.root.links.load(Ordering::Relaxed), LINKS_NONE);
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
        // (coreutils' mkfifo: present wherever the suite runs; a test that cannot make its pipe
        // fails rather than passing untested.)
        let made = std::process::Command::new("mkfifo").arg(root.join("pipe")).status();
        assert!(made.as_ref().is_ok_and(|s| s.success()), "mkfifo could not make the named pipe: {made:?}");
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
}
