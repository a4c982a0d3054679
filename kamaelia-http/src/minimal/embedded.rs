//! [`EmbeddedFiles`], which [`Minimal`](crate::Minimal) serves as it serves a directory: the type, and the
//! handler's way of looking a request up in it.

use std::collections::hash_map::{Entry as MapEntry, HashMap};
use std::fmt;
use std::hash::{DefaultHasher, Hasher};
use std::path::{Component as PathComponent, Path};

use bytes::Bytes;
use http::HeaderValue;

use super::answer::{not_found, redirect_to_slash, select, Answer};
use super::conditional::Validators;
use super::content_type::TypeCache;
use super::path::checked_request;
use super::value::digits_value;
use crate::request::Request;

/// Files compiled into the program, which [`Minimal`](crate::Minimal) serves as it serves a directory.
///
/// A program that must run from anywhere (copied to another machine, or `cargo install`ed) cannot
/// count on finding its site on disk. It compiles the files in (`include_bytes!`, or a crate that
/// does it for a whole directory, such as `include_dir`), lists them in an `EmbeddedFiles`, each
/// a path (plain names separated by `/`, relative to the root: `docs/index.html`) and its
/// `&'static` bytes, and serves that with [`Minimal::embedded`](crate::Minimal::embedded) or [`MinimalFactory::embedded`](crate::MinimalFactory::embedded).
///
/// # Example
///
/// ```
/// use std::sync::LazyLock;
///
/// use axon_core::{Handle, Scheduler};
/// use kamaelia_http::{factory, request_handlers, EmbeddedFiles, MinimalFactory, Request, Resource};
///
/// // In a real program: `include_bytes!("../site/index.html")`, or `include_dir`'s files.
/// static SITE: LazyLock<EmbeddedFiles> = LazyLock::new(|| {
///     EmbeddedFiles::new([("index.html", &b"<h1>Hello</h1>"[..]), ("docs/index.html", b"<p>docs</p>")])
///         .expect("plain relative paths")
/// });
///
/// let site = MinimalFactory::embedded("index.html", &SITE);
/// let mut handler = Handle::new(site.make(Request::new(http::Method::GET, "/docs/")), &Scheduler::new());
/// let Some(Resource::Head(head)) = handler.recv_blocking() else { panic!("no head") };
/// assert_eq!(head.headers["content-type"], "text/html; charset=utf-8");
/// assert_eq!(handler.recv_blocking(), Some(Resource::Data("<p>docs</p>".into())));
///
/// // As the router's handler for everything:
/// let create_request_handler = request_handlers([("/", factory(move |request| site.make(request)))]);
/// # let _ = create_request_handler;
/// ```
///
/// # How it works
///
/// * **Made once.** [`EmbeddedFiles::new`] checks each path (plain names separated by `/`),
///   notes every directory the paths imply (`docs/index.html` makes `docs` one, and the root is
///   one) and makes each file's entity tag, into one hash map from path to entry. Keep it in a
///   `static` (`LazyLock`): handlers hold a `&'static` to it.
/// * **The same rules as a directory.** A handler checks the method and the request's segments
///   with the same code as for a directory (405 or 501, and 404 for `..`, `/`, `\` or NUL in a
///   segment, or a hidden name unless [`serve_hidden`](crate::Minimal::serve_hidden)), then looks the
///   path up in the map instead of the file system. A directory asked for without a trailing `/`
///   gets the same 301; with it, its [`indexfilename`](crate::Minimal::indexfilename) (404 if it has
///   none); a file asked for with one, or a missing name, 404. Nothing that is not in the map can
///   be named, so nothing else can be served.
/// * **The same answers.** The file found goes through the same code as a file from disk for
///   its `Content-Type`, the conditional fields (304), `Range` (206, 416, or the whole file) and
///   the head.
/// * **No copy.** The body is a [`Bytes::from_static`] slice of the bytes compiled into the
///   program, sent as one piece whatever its length (nothing is read, so there is nothing to read
///   in [`chunk_size`](crate::Minimal::chunk_size) pieces); `HEAD` gets none.
///   [`file_io`](crate::Minimal::file_io) and [`sendfile`](crate::Minimal::sendfile) do not apply: there is no
///   file-system call to make, and no file to hand to the kernel.
///
/// # Validators
///
/// * **`ETag`**: strong, made from the file's bytes (a 64-bit hash, std's `DefaultHasher`) and
///   its length, in hex. The same program gives the same tag for the same bytes, across restarts
///   and across servers running copies of it, and a new tag as soon as the bytes change.
///   `If-None-Match` and an `If-Range` entity tag are judged against it as for a file on disk.
/// * **No `Last-Modified`.** Compiled-in bytes have no modification time of their own. The
///   build machine's file times would say when the files were checked out, not when they changed
///   (git does not keep them): two builds of the same files would announce different dates, and
///   a build could go backwards. Without a date, `If-Modified-Since` is not used (200, with the
///   tag to revalidate with next time) and an `If-Range` date never matches (the whole file), as
///   RFC 9110 (§13.1.3, §13.1.5) has it for a resource without one.
pub struct EmbeddedFiles {
    /// Every file and every directory the files imply, by path (`""` is the root).
    entries: HashMap<Box<str>, Entry>,
}

/// What a path names.
enum Entry {
    Directory,
    File {
        contents: &'static [u8],
        /// The strong entity tag, quotes included.
        etag: HeaderValue,
    },
}

/// Why [`EmbeddedFiles::new`] refused its list of files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddedFilesError {
    /// A path that is not plain names separated by `/`.
    #[error("embedded file `{path}`: {why}")]
    NotAPlainPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A path given twice, or given for a file and implied for a directory by another file's path
    /// (`docs` and `docs/index.html`).
    #[error("embedded file `{path}` is given twice, or is also a directory of another file")]
    Clash {
        /// The path, as normalised.
        path: String,
    },
}

impl EmbeddedFiles {
    /// The files `files`: each a path relative to the root, `/` between names (empty and `.`
    /// segments, and so a leading `/`, are dropped), and its bytes.
    ///
    /// A path with a `..` segment, a `\` or NUL, or no name at all is refused, as is a path given
    /// twice or both for a file and (below it) for a directory. Names starting with `.` are kept,
    /// and served only if [`serve_hidden`](crate::Minimal::serve_hidden), as on disk.
    ///
    /// ```
    /// use kamaelia_http::{EmbeddedFiles, EmbeddedFilesError};
    ///
    /// let files = EmbeddedFiles::new([("/docs//index.html", &b"<p>docs</p>"[..])]).unwrap();
    /// assert_eq!(files.get("docs/index.html"), Some(&b"<p>docs</p>"[..]));
    /// assert!(matches!(EmbeddedFiles::new([("../x", &b""[..])]), Err(EmbeddedFilesError::NotAPlainPath { .. })));
    /// ```
    pub fn new<P: AsRef<str>>(
        files: impl IntoIterator<Item = (P, &'static [u8])>,
    ) -> Result<EmbeddedFiles, EmbeddedFilesError> {
        let mut entries: HashMap<Box<str>, Entry> = HashMap::new();
        entries.insert(Box::from(""), Entry::Directory);
        for (path, contents) in files {
            let path = path.as_ref();
            let key = normalise(path)?;
            let clash = || EmbeddedFilesError::Clash { path: key.clone() };
            // Every directory above it (the root is there already).
            for (at, _) in key.match_indices('/') {
                match entries.entry(Box::from(&key[..at])) {
                    MapEntry::Vacant(vacant) => {
                        vacant.insert(Entry::Directory);
                    }
                    MapEntry::Occupied(occupied) if matches!(occupied.get(), Entry::File { .. }) => {
                        return Err(EmbeddedFilesError::Clash { path: occupied.key().to_string() });
                    }
                    MapEntry::Occupied(_) => {}
                }
            }
            let etag = etag_of(contents);
            match entries.entry(Box::from(key.as_str())) {
                MapEntry::Vacant(vacant) => {
                    vacant.insert(Entry::File { contents, etag });
                }
                MapEntry::Occupied(_) => return Err(clash()),
            }
        }
        Ok(EmbeddedFiles { entries })
    }

    /// The bytes of the file at `path` (normalised as [`new`](Self::new) does), if there is one.
    pub fn get(&self, path: &str) -> Option<&'static [u8]> {
        match self.entries.get(normalise(path).ok()?.as_str()) {
            Some(Entry::File { contents, .. }) => Some(contents),
            _ => None,
        }
    }

    /// The paths of the files, normalised, in no particular order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter(|(_, entry)| matches!(entry, Entry::File { .. })).map(|(path, _)| &**path)
    }
}

impl fmt::Debug for EmbeddedFiles {
    /// The files' paths and lengths, in order (not their bytes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut files: Vec<(&str, usize)> = self
            .entries
            .iter()
            .filter_map(|(path, entry)| match entry {
                Entry::File { contents, .. } => Some((&**path, contents.len())),
                Entry::Directory => None,
            })
            .collect();
        files.sort_unstable();
        f.write_str("EmbeddedFiles ")?;
        f.debug_map().entries(files).finish()
    }
}

/// `path` as a key of the map: its names joined by single `/`s; or why it cannot be one.
fn normalise(path: &str) -> Result<String, EmbeddedFilesError> {
    let refuse = |why| EmbeddedFilesError::NotAPlainPath { path: path.to_owned(), why };
    let mut key = String::with_capacity(path.len());
    for segment in path.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Err(refuse("a segment is `..`")),
            _ if segment.contains(['\\', '\0']) => return Err(refuse("a segment contains `\\` or NUL")),
            _ => {}
        }
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(segment);
    }
    if key.is_empty() {
        return Err(refuse("it names no file"));
    }
    Ok(key)
}

/// The strong entity tag of `contents`: `"<hash>-<length>"`, in hex (see [`EmbeddedFiles`]).
fn etag_of(contents: &[u8]) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    hasher.write(contents);
    digits_value(format!("\"{:016x}-{:x}\"", hasher.finish(), contents.len()))
}

/// The key of the path below the root that the request's checked segments name (plain names,
/// as `requested_path` makes them).
fn key_of(relative: &Path) -> String {
    let mut key = String::new();
    for part in relative.components() {
        if let PathComponent::Normal(name) = part {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(&name.to_string_lossy());
        }
    }
    key
}

impl EmbeddedFiles {
    /// The answer to `request` from these files: the same checks and answers as from a
    /// directory, the file looked up in the map (in memory: nothing blocks).
    #[allow(clippy::result_large_err)]
    pub(super) fn resolve(
        &self,
        request: &Request,
        indexfilename: &str,
        serve_hidden: bool,
        types: Option<&TypeCache>,
    ) -> Result<Answer, Answer> {
        let files = self;
        let mut key = key_of(&checked_request(request, serve_hidden, Path::new(""))?);
        let trailing_slash = request.path.ends_with('/');
        let contents_and_tag = |entry: Option<&Entry>| match entry {
            Some(Entry::File { contents, etag }) => Some((*contents, etag.clone())),
            _ => None,
        };
        let found = match files.entries.get(key.as_str()) {
            Some(Entry::Directory) if !trailing_slash => return Err(redirect_to_slash(request)),
            Some(Entry::Directory) => {
                if !push_index(indexfilename, serve_hidden, &mut key) {
                    log::debug!(
                        "refusing {}: the index name is not plain names",
                        request.path.as_bytes().escape_ascii()
                    );
                    return Err(not_found(request));
                }
                contents_and_tag(files.entries.get(key.as_str()))
            }
            Some(Entry::File { .. }) if trailing_slash => {
                log::debug!("refusing {}: a file asked for as a directory", request.path.as_bytes().escape_ascii());
                return Err(not_found(request));
            }
            entry => contents_and_tag(entry),
        };
        let Some((contents, etag)) = found else {
            log::debug!("refusing {}: no embedded file `{key}`", request.path.as_bytes().escape_ascii());
            return Err(not_found(request));
        };
        let validators = Validators::tag_only(etag);
        let (head, start, length) = select(request, Path::new(&key), contents.len() as u64, validators, types)?;
        // (Within the file: `select` keeps a range inside its length.)
        let body = Bytes::from_static(&contents[start as usize..(start + length) as usize]);
        Ok(Answer::Page(head, body))
    }
}

/// Adds the index name's segments to `key`, a directory's; `false` if one of them is not a
/// plain name that may be served (`..`, a root, a hidden name unless hidden files are served).
fn push_index(indexfilename: &str, serve_hidden: bool, key: &mut String) -> bool {
    for part in Path::new(indexfilename).components() {
        let name = match part {
            PathComponent::CurDir => continue,
            PathComponent::Normal(name) => name.to_string_lossy(),
            _ => return false,
        };
        if name.starts_with('.') && !serve_hidden {
            return false;
        }
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(&name);
    }
    true
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use axon_core::Exit;
    use http::header::{ETAG, LAST_MODIFIED};
    use http::{Method, StatusCode};

    use super::*;
    use crate::minimal::testing::{request, run, Seen};
    use crate::minimal::{FileIo, Minimal, MinimalFactory};

    /// A file larger than the chunk size the tests set (1024).
    static BIG: LazyLock<Vec<u8>> = LazyLock::new(|| (0..10_000u32).map(|i| (i % 251) as u8).collect());

    /// The files of the tests, as a list (also written to a directory, to compare).
    fn listed() -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("index.html", b"<h1>root index</h1>"),
            ("hello.txt", b"Hello, world"),
            ("style.css", b"h1 { color: teal }"),
            ("data.json", b"{}"),
            ("blob.unknownext", b"blob"),
            ("a b.txt", b"spaced"),
            (".secret", b"secret"),
            ("docs/index.html", b"<p>docs</p>"),
            ("docs/deeper/note.md", b"# note"),
            ("bare/readme.txt", b"no index here"),
            ("big.bin", &BIG[..]),
        ]
    }

    static FILES: LazyLock<EmbeddedFiles> = LazyLock::new(|| EmbeddedFiles::new(listed()).expect("plain paths"));

    fn embedded(method: Method, target: &str, headers: &[(&'static str, &str)]) -> Minimal {
        let mut minimal = Minimal::embedded(request(method, target, headers), &FILES, "index.html");
        minimal.chunk_size = 1024;
        minimal
    }

    fn get(target: &str) -> Seen {
        run(embedded(Method::GET, target, &[]))
    }

    fn get_with(target: &str, headers: &[(&'static str, &str)]) -> Seen {
        run(embedded(Method::GET, target, headers))
    }

    fn tag_of(path: &str) -> String {
        get(path).header("etag").expect("an ETag").to_owned()
    }

    #[test]
    fn paths_are_normalised_and_bad_ones_refused_naming_the_path() {
        let files = EmbeddedFiles::new([("./a//b.txt", &b"b"[..]), ("/c", b"c")]).unwrap();
        let mut paths: Vec<_> = files.paths().collect();
        paths.sort_unstable();
        assert_eq!(paths, ["a/b.txt", "c"]);
        assert_eq!(files.get("/a/./b.txt"), Some(&b"b"[..]));
        assert_eq!(files.get("a"), None, "a directory is not a file");
        assert_eq!(files.get("../c"), None);
        for (path, why) in
            [("a/../b", "a segment is `..`"), ("a\\b", "a segment contains `\\` or NUL"), ("/./", "it names no file")]
        {
            let error = EmbeddedFiles::new([(path, &b""[..])]).unwrap_err();
            assert_eq!(error, EmbeddedFilesError::NotAPlainPath { path: path.to_owned(), why });
            assert_eq!(error.to_string(), format!("embedded file `{path}`: {why}"));
        }
        let twice = EmbeddedFiles::new([("a.txt", &b"1"[..]), ("/a.txt", b"2")]).unwrap_err();
        assert_eq!(twice, EmbeddedFilesError::Clash { path: "a.txt".to_owned() });
        // A file, then a file below it; and the other way round.
        let below = EmbeddedFiles::new([("docs", &b"1"[..]), ("docs/a", b"2")]).unwrap_err();
        assert_eq!(below, EmbeddedFilesError::Clash { path: "docs".to_owned() });
        let above = EmbeddedFiles::new([("docs/a", &b"1"[..]), ("docs", b"2")]).unwrap_err();
        assert_eq!(above.to_string(), "embedded file `docs` is given twice, or is also a directory of another file");
    }

    #[test]
    fn debug_shows_paths_and_lengths_not_bytes() {
        let files = EmbeddedFiles::new([("b/c.txt", &b"123"[..]), ("a.txt", b"1")]).unwrap();
        assert_eq!(format!("{files:?}"), "EmbeddedFiles {\"a.txt\": 1, \"b/c.txt\": 3}");
    }

    #[test]
    fn the_tag_is_made_from_the_bytes_the_same_each_time_and_there_is_no_date() {
        let seen = get("/hello.txt");
        let tag = seen.header("etag").unwrap();
        assert!(tag.starts_with('"') && tag.ends_with("-c\""), "{tag}");
        assert_eq!(seen.header("last-modified"), None);
        // Files made again from the same bytes: the same tag (a restarted server, another copy).
        let again = EmbeddedFiles::new(listed()).unwrap();
        let Some(Entry::File { etag, .. }) = again.entries.get("hello.txt") else { panic!("no hello.txt") };
        assert_eq!(etag, tag);
        // Other bytes, another tag; the same bytes under another name, the same tag.
        assert_ne!(tag_of("/style.css"), tag);
        let twin = EmbeddedFiles::new([("x", &b"Hello, world"[..]), ("y", b"Hello, world!")]).unwrap();
        let tag_in = |path: &str| match twin.entries.get(path) {
            Some(Entry::File { etag, .. }) => etag.clone(),
            _ => panic!("no {path}"),
        };
        assert_eq!(tag_in("x"), tag);
        assert_ne!(tag_in("y"), tag);
    }

    #[test]
    fn a_file_is_served_with_its_type_length_tag_and_bytes_from_the_program() {
        let seen = get("/hello.txt");
        assert_eq!(seen.head.status, StatusCode::OK);
        assert_eq!(seen.head.length, Some(12));
        assert_eq!(seen.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(seen.header("accept-ranges"), Some("bytes"));
        assert_eq!(seen.body(), b"Hello, world");
        assert!(seen.finished);
        assert_eq!(seen.exit, Exit::Finished);
        assert_eq!(get("/style.css").header("content-type"), Some("text/css; charset=utf-8"));
        assert_eq!(get("/docs/deeper/note.md").header("content-type"), Some("text/markdown; charset=utf-8"));
        assert_eq!(get("/blob.unknownext").header("content-type"), Some("application/octet-stream"));
    }

    #[test]
    fn a_large_file_is_one_piece_of_the_programs_own_bytes_and_a_range_a_slice_of_them() {
        let whole = get("/big.bin");
        assert_eq!(whole.head.length, Some(10_000));
        assert_eq!(whole.data.len(), 1, "one piece, whatever the chunk size");
        assert!(whole.regions.is_empty());
        assert_eq!(whole.data[0].as_ptr(), BIG.as_ptr(), "copied");
        assert_eq!(whole.body(), *BIG);
        let slice = get_with("/big.bin", &[("range", "bytes=100-2099")]);
        assert_eq!(slice.head.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(slice.header("content-range"), Some("bytes 100-2099/10000"));
        assert_eq!(slice.data.len(), 1);
        assert_eq!(slice.data[0].as_ptr(), BIG[100..].as_ptr(), "copied");
        assert_eq!(slice.body(), &BIG[100..2100]);
    }

    #[test]
    fn head_gets_the_head_and_no_data_and_ignores_range() {
        for headers in [&[][..], &[("range", "bytes=0-4")]] {
            let seen = run(embedded(Method::HEAD, "/hello.txt", headers));
            assert_eq!(seen.head.status, StatusCode::OK);
            assert_eq!(seen.head.length, Some(12));
            assert_eq!(seen.header("content-type"), Some("text/plain; charset=utf-8"));
            assert!(seen.data.is_empty());
            assert!(seen.finished);
        }
    }

    #[test]
    fn if_none_match_with_the_tag_or_star_is_304_and_another_tag_200() {
        let tag = tag_of("/hello.txt");
        for value in [tag.clone(), "*".to_owned(), format!("W/{tag}"), format!("\"x\", {tag}")] {
            let seen = get_with("/hello.txt", &[("if-none-match", &value)]);
            assert_eq!(seen.head.status, StatusCode::NOT_MODIFIED, "{value}");
            assert_eq!(seen.header("etag"), Some(tag.as_str()));
            assert_eq!((seen.head.length, seen.header("content-type")), (None, None));
            assert!(seen.data.is_empty() && seen.finished);
        }
        let other = get_with("/hello.txt", &[("if-none-match", &tag_of("/style.css"))]);
        assert_eq!(other.head.status, StatusCode::OK);
        assert_eq!(other.body(), b"Hello, world");
    }

    #[test]
    fn without_a_date_if_modified_since_is_not_used_and_an_if_range_date_gets_the_whole_file() {
        let far_future = "Fri, 01 Jan 2100 00:00:00 GMT";
        let seen = get_with("/hello.txt", &[("if-modified-since", far_future)]);
        assert_eq!(seen.head.status, StatusCode::OK);
        let dated = get_with("/hello.txt", &[("range", "bytes=0-4"), ("if-range", far_future)]);
        assert_eq!((dated.head.status, dated.body()), (StatusCode::OK, b"Hello, world".to_vec()));
        let tagged = get_with("/hello.txt", &[("range", "bytes=0-4"), ("if-range", &tag_of("/hello.txt"))]);
        assert_eq!((tagged.head.status, tagged.body()), (StatusCode::PARTIAL_CONTENT, b"Hello".to_vec()));
    }

    #[test]
    fn ranges_are_judged_as_for_a_file_on_disk() {
        let cases = [
            ("bytes=0-4", StatusCode::PARTIAL_CONTENT, Some("bytes 0-4/12"), &b"Hello"[..]),
            ("bytes=-3", StatusCode::PARTIAL_CONTENT, Some("bytes 9-11/12"), b"rld"),
            ("bytes=7-", StatusCode::PARTIAL_CONTENT, Some("bytes 7-11/12"), b"world"),
            ("bytes=0-1,3-4", StatusCode::OK, None, b"Hello, world"),
            ("bytes=12-", StatusCode::RANGE_NOT_SATISFIABLE, Some("bytes */12"), b""),
        ];
        for (range, status, content_range, body) in cases {
            let seen = get_with("/hello.txt", &[("range", range)]);
            assert_eq!(seen.head.status, status, "{range}");
            assert_eq!(seen.header("content-range"), content_range, "{range}");
            if status != StatusCode::RANGE_NOT_SATISFIABLE {
                assert_eq!(seen.body(), body, "{range}");
            }
        }
    }

    #[test]
    fn directories_redirect_serve_their_index_or_404() {
        assert_eq!(get("/").body(), b"<h1>root index</h1>");
        let docs = get("/docs/");
        assert_eq!(docs.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(docs.body(), b"<p>docs</p>");
        let redirect = get("/docs?a=1");
        assert_eq!(redirect.head.status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(redirect.header("location"), Some("/docs/?a=1"));
        assert_eq!(get("/docs/deeper").header("location"), Some("/docs/deeper/"));
        assert_eq!(get("/docs/deeper/").head.status, StatusCode::NOT_FOUND, "no index");
        assert_eq!(get("/hello.txt/").head.status, StatusCode::NOT_FOUND);
        // Another index name, of plain names only.
        let mut other = embedded(Method::GET, "/docs/", &[]);
        other.indexfilename = "deeper/note.md".into();
        assert_eq!(run(other).body(), b"# note");
        for index in ["../hello.txt", "/hello.txt", ".secret"] {
            let mut escaping = embedded(Method::GET, "/docs/", &[]);
            escaping.indexfilename = index.into();
            assert_eq!(run(escaping).head.status, StatusCode::NOT_FOUND, "{index}");
        }
    }

    #[test]
    fn traversal_hidden_names_and_missing_files_are_404() {
        for target in ["/../hello.txt", "/docs/../../x", "/%2e%2e/hello.txt", "/..%2fhello.txt", "/a%00b", "/missing"] {
            assert_eq!(get(target).head.status, StatusCode::NOT_FOUND, "{target}");
        }
        assert_eq!(get("/.secret").head.status, StatusCode::NOT_FOUND);
        let mut hidden = embedded(Method::GET, "/.secret", &[]);
        hidden.serve_hidden = true;
        assert_eq!(run(hidden).body(), b"secret");
        assert_eq!(get("/a%20b.txt").body(), b"spaced");
    }

    #[test]
    fn the_file_io_and_sendfile_settings_change_nothing() {
        let baseline = get("/big.bin");
        for (file_io, sendfile) in
            [(FileIo::BlockingPool, false), (FileIo::Inline, false), (FileIo::BlockingPool, true)]
        {
            let mut minimal = embedded(Method::GET, "/big.bin", &[]);
            (minimal.file_io, minimal.sendfile) = (file_io, sendfile);
            let seen = run(minimal);
            assert_eq!((&seen.head, &seen.data), (&baseline.head, &baseline.data), "{file_io:?} {sendfile}");
        }
    }

    #[test]
    fn a_factory_makes_handlers_serving_the_same_files() {
        let factory = MinimalFactory::embedded("index.html", &FILES);
        let minimal = factory.make(request(Method::GET, "/docs/", &[]));
        assert!(minimal.embedded.is_some_and(|files| std::ptr::eq(files, &*FILES)));
        assert_eq!(minimal.homedirectory, Path::new(""));
        assert_eq!(run(minimal).body(), b"<p>docs</p>");
        assert_eq!(factory, MinimalFactory::embedded("index.html", &FILES));
        assert_ne!(factory, MinimalFactory::new("index.html", ""));
    }

    /// A request: its method, target and header fields.
    type Case = (Method, &'static str, &'static [(&'static str, &'static str)]);

    /// Every answer but the validators is the same as from a directory holding the same files.
    #[test]
    fn the_answers_are_those_of_a_directory_holding_the_same_files() {
        let tmp = tempfile::tempdir().unwrap();
        for (path, contents) in listed() {
            let path = tmp.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        let cases: &[Case] = &[
            (Method::GET, "/", &[]),
            (Method::GET, "/index.html", &[]),
            (Method::GET, "/hello.txt", &[]),
            (Method::GET, "/style.css", &[]),
            (Method::GET, "/data.json", &[]),
            (Method::GET, "/blob.unknownext", &[]),
            (Method::GET, "/a%20b.txt", &[]),
            (Method::GET, "/docs", &[]),
            (Method::GET, "/docs?q=<1>", &[]),
            (Method::GET, "//docs", &[]),
            (Method::GET, "/docs/", &[]),
            (Method::GET, "/docs/deeper/", &[]),
            (Method::GET, "/bare/", &[]),
            (Method::GET, "/hello.txt/", &[]),
            (Method::GET, "/missing", &[]),
            (Method::GET, "/../Cargo.toml", &[]),
            (Method::GET, "/%2e%2e/x", &[]),
            (Method::GET, "/.secret", &[]),
            (Method::GET, "/big.bin", &[]),
            (Method::GET, "/big.bin", &[("range", "bytes=9000-")]),
            (Method::GET, "/hello.txt", &[("range", "bytes=0-4")]),
            (Method::GET, "/hello.txt", &[("range", "bytes=-0")]),
            (Method::GET, "/hello.txt", &[("range", "items=0-4")]),
            (Method::GET, "/hello.txt", &[("if-none-match", "*")]),
            (Method::GET, "/hello.txt", &[("if-none-match", "\"other\"")]),
            (Method::GET, "/hello.txt", &[("range", "bytes=0-4"), ("if-range", "\"other\"")]),
            (Method::HEAD, "/hello.txt", &[]),
            (Method::HEAD, "/big.bin", &[]),
            (Method::POST, "/hello.txt", &[]),
            (Method::from_bytes(b"BREW").unwrap(), "/hello.txt", &[]),
        ];
        let mut statuses = std::collections::BTreeSet::new();
        for (method, target, headers) in cases {
            let from_disk = {
                let mut minimal = Minimal::new(request(method.clone(), target, headers), tmp.path(), "index.html");
                minimal.chunk_size = 1024;
                run(minimal)
            };
            let from_program = run(embedded(method.clone(), target, headers));
            let without_validators = |seen: &Seen| {
                let mut head = seen.head.clone();
                head.headers.remove(ETAG);
                head.headers.remove(LAST_MODIFIED);
                head
            };
            let case = format!("{method} {target} {headers:?}");
            assert_eq!(without_validators(&from_program), without_validators(&from_disk), "{case}");
            assert_eq!(
                from_program.head.headers.contains_key(ETAG),
                from_disk.head.headers.contains_key(ETAG),
                "{case}"
            );
            assert_eq!(from_program.body(), from_disk.body(), "{case}");
            assert_eq!((from_program.finished, &from_program.exit), (from_disk.finished, &from_disk.exit), "{case}");
            statuses.insert(from_program.head.status.as_u16());
        }
        assert_eq!(statuses.into_iter().collect::<Vec<_>>(), [200, 206, 301, 304, 404, 405, 416, 501]);
    }
}
