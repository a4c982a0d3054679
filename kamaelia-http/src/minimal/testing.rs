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

/// The user a test that needs permissions enforced runs as, when the suite runs as root (as CI
/// does): Debian's `nobody`.
#[cfg(unix)]
const NOBODY: u32 = 65534;

/// Whether this process may read anything (root, or `CAP_DAC_OVERRIDE`): `probe`, a file no one
/// may read, opens all the same.
#[cfg(unix)]
pub(super) fn reads_anything(probe: &Path) -> bool {
    fs::File::open(probe).is_ok()
}

/// Runs the unit test `test` (its full path, as the test runner names it) again, alone, in a
/// child process of this test binary running as `nobody`, for whom permissions are enforced, and
/// fails unless it ran there and passed. For a test that cannot test what it names as root.
#[cfg(unix)]
pub(super) fn run_again_as_nobody(test: &str) {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    let exe = std::env::current_exe().expect("the test binary's path");
    // `nobody` may not be able to reach the binary where it was built: then a copy that it can.
    let copy = tempfile::tempdir().expect("a temporary directory");
    let run = |binary: &Path| {
        Command::new(binary)
            .args([test, "--exact", "--test-threads=1", "--nocapture"])
            .current_dir("/")
            .uid(NOBODY)
            .gid(NOBODY)
            .output()
    };
    let output = match run(&exe) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            fs::set_permissions(copy.path(), fs::Permissions::from_mode(0o755)).expect("chmod the copy's directory");
            let copied = copy.path().join("test-binary");
            fs::copy(&exe, &copied).expect("a copy of the test binary");
            fs::set_permissions(&copied, fs::Permissions::from_mode(0o755)).expect("chmod the copy");
            run(&copied)
        }
        other => other,
    }
    .unwrap_or_else(|e| panic!("cannot run {} as uid {NOBODY}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test}, run again as uid {NOBODY} ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
