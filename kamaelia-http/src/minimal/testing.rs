//! What the tests of `Minimal`'s modules share: a site on disk, and a handler run to its end.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axon_core::ipc::Ipc;
use axon_core::{Exit, Handle, Scheduler};
use bytes::Bytes;
use http::{HeaderValue, Method};
use kamaelia_chassis::socket::FileRegion;
use tempfile::TempDir;

use super::Minimal;
use crate::request::Request;
use crate::resource::{Resource, ResponseHead};

pub(super) const HELLO: &str = "Hello, world";

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
pub(super) fn mtime() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_700_000_000, 500_000_000)
}

/// `tmp/root` holding `hello.txt`, `page.html`, `data.json`, `blob.unknownext`, `.secret`,
/// `sub/index.html`, `bare/` (no index) and `a b.txt`; `tmp/x` and `tmp/outside.txt` sit
/// outside the root.
pub(super) fn site() -> (TempDir, PathBuf) {
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

pub(super) fn get(root: &Path, target: &str) -> Seen {
    run(Minimal::new(request(Method::GET, target, &[]), root, "index.html"))
}

pub(super) fn get_with(root: &Path, target: &str, headers: &[(&'static str, &str)]) -> Seen {
    run(Minimal::new(request(Method::GET, target, headers), root, "index.html"))
}

pub(super) fn hello_etag() -> String {
    format!("\"{:x}-{:x}-{:x}\"", 1_700_000_000u64, 500_000_000u32, HELLO.len())
}
