//! Faults on the server's side (issue 16, "Faults"), each over a real socket: a handler that
//! panics after its answer is complete (`handler_failures.rs` has the earlier phases: before its
//! head, and mid-body); a file that shrinks, vanishes or is replaced while it is sent, by the
//! kernel or in pieces (the connection is closed, never a wrong body, and it is logged at warn);
//! a named pipe or a directory where a file was expected (a clear status, at once). The process
//! at its descriptor limit is `tests/descriptor_limit.rs` of the `kamaelia` package, which runs
//! the server binary under `ulimit -n`.
//!
//! Its own test binary: it installs a logger that keeps what the server logs, to check the
//! warnings.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use axon_core::ipc::ProducerFinished;
use axon_core::{from_fn, Context};
use http::StatusCode;
use kamaelia_http::{factory, Bytes, Minimal, MinimalFactory, Request, Resource, ResponseHead};
use support::*;

// ---------------------------------------------------------------------------------------------
// What the server logs
// ---------------------------------------------------------------------------------------------

/// Every record logged in this process, as `LEVEL target: message`.
static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Keep;

impl log::Log for Keep {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}: {}", record.level(), record.target(), record.args());
            LOGGED.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    }

    fn flush(&self) {}
}

/// Installs the keeping logger (once; `support`'s `env_logger` then finds a logger set).
fn keep_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_boxed_logger(Box::new(Keep)).expect("no logger set before");
        log::set_max_level(log::LevelFilter::Info);
    });
}

/// Waits until a record at `level` containing every one of `words` has been logged.
async fn wait_for_log(level: log::Level, words: &[&str]) {
    let found = || {
        let logged = LOGGED.lock().unwrap_or_else(|p| p.into_inner());
        logged.iter().any(|l| l.starts_with(level.as_str()) && words.iter().all(|w| l.contains(w)))
    };
    wait_until(&format!("a {level} record containing {words:?}"), found).await;
}

// ---------------------------------------------------------------------------------------------
// A handler that panics after its answer
// ---------------------------------------------------------------------------------------------

/// A handler whose answer is complete (`ProducerFinished` sent), and which then panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_panics_after_answering_costs_nothing_but_a_log_line() {
    keep_logs();
    let panics_after = factory(|_r: Request| {
        from_fn("PanicsAfterAnswering", |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(4).into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from_static(b"done"))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            explode("boom after the answer");
            Ok(())
        })
    });
    let server = serve_routes(vec![("/after", panics_after), ("/", describe())]).await;
    let mut client = server.connect().await;
    for round in 0..3 {
        client.send(request("GET", "/after", "")).await;
        let response = client.response().await;
        response.assert_status(200);
        assert_eq!(response.body, b"done", "round {round}");
        // The connection goes on.
        client.send(request("GET", &format!("/next/{round}"), "")).await;
        assert_eq!(client.response().await.body, format!("GET /next/{round}").as_bytes());
    }
    drop(client);
    server.wait_idle("the connection to end").await;
    still_serving(&server).await;
    server.stop().await;
}

/// Panics, in a way the compiler does not see as diverging (so the body still returns a result).
fn explode(what: &str) {
    panic!("{what}");
}

async fn still_serving(server: &TestServer) {
    let response = get(server.addr, "/ok").await;
    response.assert_status(200);
    assert_eq!(response.body, b"GET /ok");
}

// ---------------------------------------------------------------------------------------------
// Files that change while they are sent
// ---------------------------------------------------------------------------------------------

/// 8 MiB that are not a short repeating pattern: a body that is not a prefix of it shows.
fn contents() -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    (0..8 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A site of one file, `big.bin` ([`contents`]), served with `sendfile` or in pieces.
async fn serve_big(dir: &Path, sendfile: bool) -> (TestServer, PathBuf) {
    let root = std::fs::canonicalize(dir).expect("the directory's real path");
    let path = root.join("big.bin");
    std::fs::write(&path, contents()).expect("big.bin");
    let site = MinimalFactory::new("index.html", root).with_sendfile(sendfile);
    let server = serve_routes(vec![("/", factory(move |request| site.make(request)))]).await;
    (server, path)
}

/// Asks for `big.bin` as a slow reader, reads the head and 64 KiB, then lets `change` change the
/// file, and reads what comes until the connection ends: the body the client got.
async fn fetch_while(server: &TestServer, change: impl FnOnce()) -> (Vec<u8>, Vec<u8>) {
    let mut client = Client::connect_slow(server.addr, 16 * 1024).await;
    client.send(request("GET", "/big.bin", "Connection: close\r\n")).await;
    let head = client.read_until(b"\r\n\r\n").await;
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
    assert!(find(&head, b"Content-Length: 8388608\r\n").is_some(), "{}", shown(&head));
    let mut body = client.read_exact(64 * 1024).await;
    change();
    body.extend(client.read_to_eof().await);
    (head, body)
}

/// A file cut to 1 MiB while its 8 MiB are sent: the client never gets a body that looks whole
/// (the connection closes short of the announced length), and the warning says why. Read in
/// pieces, what arrives is exactly the file's first bytes. Sent by the kernel (`sendfile`), the
/// bytes already handed to the kernel are read from the file when the kernel sends them (it does
/// not copy them when `sendfile` returns): those past the cut arrive as whatever the file then
/// holds (zeros here), as with any server using `sendfile`; the bytes the file still holds arrive
/// as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_shrinks_while_sent_gets_the_connection_closed_short_of_its_length() {
    keep_logs();
    let all = contents();
    let cut = 1024 * 1024;
    for sendfile in [true, false] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (server, path) = serve_big(dir.path(), sendfile).await;
        let (_head, body) = fetch_while(&server, || {
            let file = std::fs::File::options().write(true).open(&path).expect("big.bin");
            file.set_len(cut as u64).expect("truncate");
        })
        .await;
        assert!(body.len() < all.len(), "sendfile {sendfile}: a whole body from a file cut to 1 MiB");
        let checked = if sendfile { body.len().min(cut) } else { body.len() };
        let first_wrong = body[..checked].iter().zip(&all).position(|(a, b)| a != b);
        assert!(
            first_wrong.is_none(),
            "sendfile {sendfile}: the body ({} bytes) is not the file's first bytes: from byte {first_wrong:?} on, {:?}",
            body.len(),
            first_wrong.map(|i| &body[i..(i + 32).min(body.len())])
        );
        // Logged at warn, naming the cause.
        if sendfile {
            wait_for_log(log::Level::Warn, &["ConnectedSocketAdapter", "shrank"]).await;
        } else {
            wait_for_log(log::Level::Warn, &["big.bin", "shrank while being sent"]).await;
        }
        server.wait_idle("the connection to end").await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_removed_or_replaced_while_sent_arrives_whole_as_it_was_opened() {
    keep_logs();
    let all = contents();
    for sendfile in [true, false] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (server, path) = serve_big(dir.path(), sendfile).await;
        // Removed: the open file is still the file.
        let (_head, body) = fetch_while(&server, || std::fs::remove_file(&path).expect("remove big.bin")).await;
        assert!(body == all, "sendfile {sendfile}: removed while sent, it arrived changed ({} bytes)", body.len());
        let gone = get(server.addr, "/big.bin").await;
        gone.assert_status(404);
        // Replaced by another file under the same name: the one opened is sent, whole.
        std::fs::write(&path, &all).expect("big.bin again");
        let (_head, body) = fetch_while(&server, || {
            let other = path.with_extension("new");
            std::fs::write(&other, b"another file").expect("the new file");
            std::fs::rename(&other, &path).expect("rename over big.bin");
        })
        .await;
        assert!(body == all, "sendfile {sendfile}: replaced while sent, it arrived changed ({} bytes)", body.len());
        assert_eq!(get(server.addr, "/big.bin").await.body, b"another file");
        server.wait_idle("the connections to end").await;
        server.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Something other than a file where a file was expected
// ---------------------------------------------------------------------------------------------

/// Makes a named pipe at `path` (false if `mkfifo` cannot be run).
fn mkfifo(path: &Path) -> bool {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    made.is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_pipe_or_a_directory_where_a_file_was_expected_gets_a_clear_status_at_once() {
    keep_logs();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = std::fs::canonicalize(dir.path()).expect("the directory's real path");
    if !mkfifo(&root.join("pipe")) {
        panic!("mkfifo could not be run (CI installs coreutils)");
    }
    // A directory whose index is a named pipe, and one whose index is a directory.
    std::fs::create_dir_all(root.join("piped")).expect("piped/");
    assert!(mkfifo(&root.join("piped/index.html")));
    std::fs::create_dir_all(root.join("nested/index.html")).expect("nested/index.html/");
    std::fs::write(root.join("file.txt"), "a file").expect("file.txt");
    let site = MinimalFactory::new("index.html", root.clone());
    let server = serve_routes(vec![("/", factory(move |request| site.make(request)))]).await;
    for (target, status) in [
        // Opening a pipe to read waits for a writer, for ever: the answer must not.
        ("/pipe", 404),
        ("/piped/", 404),
        ("/piped/index.html", 404),
        // A directory asked for as a file is redirected to its slash form; there its index is a
        // directory, which is no file to serve.
        ("/nested/index.html", 301),
        ("/nested/index.html/", 404),
        ("/nested/", 404),
        // A file asked for as a directory.
        ("/file.txt/", 404),
    ] {
        let response = within(&format!("an answer for {target}"), get(server.addr, target)).await;
        assert_eq!(response.status, status, "{target}: {}", shown(&response.raw));
    }
    // And a 'file' that is a directory, opened by a handler that does not check: the read fails,
    // and the connection is closed after the head, never sent a wrong body.
    let dir_path = root.join("nested");
    let reads_a_directory = factory(move |_r: Request| {
        let dir_path = dir_path.clone();
        from_fn("ReadsADirectory", move |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(5000).into()).await;
            let file = std::fs::File::open(&dir_path)?;
            ctx.outbox.send(Resource::File(kamaelia_http::FileRegion::new(file, 0, 5000))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    });
    server.stop().await;
    let server = serve_routes(vec![("/dir", reads_a_directory)]).await;
    let mut client = server.connect().await;
    client.send(request("GET", "/dir", "")).await;
    let incomplete = client.try_response_to("GET").await.expect_err("a whole response read from a directory");
    assert!(incomplete.received.ends_with(b"Content-Length: 5000\r\n\r\n"), "{}", shown(&incomplete.received));
    wait_for_log(log::Level::Warn, &["ConnectedSocketAdapter", "sending a file region failed"]).await;
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

/// `Minimal` made alone (not from a factory) answers the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_made_alone_refuses_a_pipe_the_same_way() {
    keep_logs();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = std::fs::canonicalize(dir.path()).expect("the directory's real path");
    assert!(mkfifo(&root.join("pipe")), "mkfifo could not be run");
    let server =
        serve_routes(vec![("/", factory(move |request| Minimal::new(request, root.clone(), "index.html")))]).await;
    within("an answer for /pipe", get(server.addr, "/pipe")).await.assert_status(404);
    server.stop().await;
}
