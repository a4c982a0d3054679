//! Static files through `Minimal` on a real socket (RFC 9110 §8.8, §13, §14, §15.4.2): type,
//! length and validators; percent-decoded names; no way out of the root in any encoding or
//! through a symbolic link; directories redirected to their slash form; 304 on conditional
//! requests; ranges; and a large file streamed intact, also to a slow reader; and a large file
//! compiled into the program (`EmbeddedFiles`) the same way.
//!
//! Each test of a directory runs twice (`with_each_file_io!`): with the file-system calls made
//! inline (`FileIo::Inline`, the default) and on the blocking pool (`FileIo::BlockingPool`, the
//! binary's `--file-io pool`), as `inline::<name>` and `blocking_pool::<name>`. The two tests
//! named for the kernel's `sendfile` run inline only: the pool never sends a region.

mod support;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use kamaelia_http::{factory, EmbeddedFiles, FileIo, Minimal, MinimalFactory};
use support::*;

/// The secret placed next to (outside) the root: no response may ever contain it.
const SECRET: &str = "TOP SECRET: outside the root";

/// A temporary directory holding `root/` (served) and `secret.txt` (not served).
struct Site {
    dir: tempfile::TempDir,
    /// Where the handlers make their file-system calls.
    file_io: FileIo,
}

impl Site {
    fn new(file_io: FileIo) -> Site {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).expect("root/sub");
        std::fs::create_dir_all(root.join("a")).expect("root/a");
        std::fs::create_dir_all(root.join("noindex")).expect("root/noindex");
        std::fs::write(dir.path().join("secret.txt"), SECRET).expect("the secret");
        std::fs::write(root.join("hello.txt"), "Hello, file!").expect("hello.txt");
        std::fs::write(root.join("a b.txt"), "spaced").expect("a b.txt");
        std::fs::write(root.join("page.html"), "<p>page</p>").expect("page.html");
        std::fs::write(root.join("data.json"), "{}").expect("data.json");
        std::fs::write(root.join("image.PNG"), b"\x89PNG").expect("image.PNG");
        std::fs::write(root.join("blob.unknownext"), b"\x00\x01").expect("blob");
        std::fs::write(root.join("sub").join("index.html"), "<p>sub index</p>").expect("sub/index.html");
        std::fs::write(root.join("digits.txt"), "0123456789abcdefghij").expect("digits.txt");
        Site { dir, file_io }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    async fn serve(&self) -> TestServer {
        self.serve_sendfile(true).await
    }

    /// Serves the site, with large files sent as file regions (`sendfile`) or read in pieces
    /// (always in pieces when the file I/O is on the blocking pool).
    async fn serve_sendfile(&self, sendfile: bool) -> TestServer {
        let (root, file_io) = (self.root(), self.file_io);
        serve_routes(vec![(
            "/",
            factory(move |request| {
                let mut minimal = Minimal::new(request, root.clone(), "index.html");
                minimal.sendfile = sendfile;
                minimal.file_io = file_io;
                minimal
            }),
        )])
        .await
    }
}

/// A GET (with `extra` fields) on a fresh connection, closing after.
async fn fetch(server: &TestServer, method: &str, target: &str, extra: &str) -> Response {
    let mut client = server.connect().await;
    client.send(request(method, target, &format!("Connection: close\r\n{extra}"))).await;
    let response = client.response_to(method).await;
    client.assert_closed().await;
    response
}

fn mtime_secs(path: &Path) -> u64 {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).expect("an mtime");
    modified.duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

async fn a_file_is_served_with_its_type_length_and_validators(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let response = fetch(&server, "GET", "/hello.txt", "").await;
    response.assert_status(200);
    response.assert_header("content-type", "text/plain; charset=utf-8");
    response.assert_header("content-length", "12");
    response.assert_header("accept-ranges", "bytes");
    response.assert_date_and_server();
    assert_eq!(response.body, b"Hello, file!");
    let etag = response.header("etag").expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2, "not a strong entity tag: {etag:?}");
    let last_modified = response.header("last-modified").expect("a Last-Modified");
    let when = httpdate::parse_http_date(last_modified).expect("Last-Modified is an HTTP date");
    assert_eq!(
        when.duration_since(UNIX_EPOCH).expect("after 1970").as_secs(),
        mtime_secs(&site.root().join("hello.txt")),
        "Last-Modified is not the file's modification time"
    );

    // The type follows the extension (case-insensitively), with a default.
    for (path, expected) in [
        ("/page.html", "text/html; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/image.PNG", "image/png"),
        ("/blob.unknownext", "application/octet-stream"),
    ] {
        let response = fetch(&server, "GET", path, "").await;
        response.assert_status(200);
        assert_eq!(response.header("content-type"), Some(expected), "{path}");
    }
    server.stop().await;
}

async fn head_on_a_file_has_the_fields_of_get_and_no_body(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let get = fetch(&server, "GET", "/hello.txt", "").await;
    let head = fetch(&server, "HEAD", "/hello.txt", "").await;
    head.assert_status(200);
    let without_date = |r: &Response| r.headers.iter().filter(|(n, _)| n != "date").cloned().collect::<Vec<_>>();
    assert_eq!(without_date(&head), without_date(&get));
    assert!(head.raw.ends_with(b"\r\n\r\n"));
    server.stop().await;
}

async fn a_percent_encoded_name_is_decoded(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let response = fetch(&server, "GET", "/a%20b.txt", "").await;
    response.assert_status(200);
    assert_eq!(response.body, b"spaced");
    let response = fetch(&server, "GET", "/%68%65%6C%6c%6f.txt", "").await;
    response.assert_status(200);
    assert_eq!(response.body, b"Hello, file!");
    // A query is not part of the name.
    let response = fetch(&server, "GET", "/hello.txt?x=1", "").await;
    response.assert_status(200);
    server.stop().await;
}

async fn no_encoding_of_dot_dot_leads_out_of_the_root(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let attempts = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/a/..%5c..%5csecret.txt",
        "/..%5csecret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/sub/../../secret.txt",
        "/./../secret.txt",
        "//../secret.txt",
        "/a/../../secret.txt",
        "/..%00/secret.txt",
        "/%00../secret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/..;/secret.txt",
        "/../../../../../../etc/passwd",
        "http://test/../secret.txt",
        "http://test/%2e%2e/secret.txt",
    ];
    for target in attempts {
        let response = fetch(&server, "GET", target, "").await;
        assert!(
            response.status == 404 || response.status == 400,
            "{target} was answered {}: {}",
            response.status,
            shown(&response.raw)
        );
        let text = response.text();
        assert!(!text.contains(SECRET), "{target} served the secret");
        assert!(!text.contains("root:x:"), "{target} served /etc/passwd");
    }
    // A raw backslash is refused too, at whatever stage.
    let mut client = server.connect().await;
    client.send("GET /..\\secret.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
    let response = client.response().await;
    assert!(response.status == 404 || response.status == 400, "{}", shown(&response.raw));
    assert!(!response.text().contains(SECRET));
    drop(client);
    server.stop().await;
}

#[cfg(unix)]
async fn a_symlink_pointing_outside_the_root_is_not_followed(file_io: FileIo) {
    let site = Site::new(file_io);
    let root = site.root();
    std::os::unix::fs::symlink(site.dir.path().join("secret.txt"), root.join("link.txt")).expect("a link out");
    std::os::unix::fs::symlink(site.dir.path(), root.join("outdir")).expect("a directory link out");
    std::os::unix::fs::symlink(root.join("hello.txt"), root.join("inlink.txt")).expect("a link in");
    let server = site.serve().await;
    for target in ["/link.txt", "/outdir/secret.txt"] {
        let response = fetch(&server, "GET", target, "").await;
        assert_eq!(response.status, 404, "{target}: {}", shown(&response.raw));
        assert!(!response.text().contains(SECRET), "{target} served the secret");
    }
    // The other side: a link that stays inside is followed.
    let response = fetch(&server, "GET", "/inlink.txt", "").await;
    response.assert_status(200);
    assert_eq!(response.body, b"Hello, file!");
    server.stop().await;
}

async fn a_directory_without_its_slash_is_redirected_and_with_it_serves_its_index(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let response = fetch(&server, "GET", "/sub", "").await;
    response.assert_status(301);
    assert!(response.raw.starts_with(b"HTTP/1.1 301 Moved Permanently\r\n"), "{}", shown(&response.raw));
    response.assert_header("location", "/sub/");
    // The query is kept.
    let response = fetch(&server, "GET", "/sub?x=1&y=2", "").await;
    response.assert_header("location", "/sub/?x=1&y=2");
    // Leading slashes cannot make it a redirect to another host.
    let response = fetch(&server, "GET", "//evil.example/../sub", "").await;
    if response.status == 301 {
        let location = response.header("location").unwrap_or_default();
        assert!(!location.starts_with("//"), "an open redirect: {location}");
    }

    let response = fetch(&server, "GET", "/sub/", "").await;
    response.assert_status(200);
    response.assert_header("content-type", "text/html; charset=utf-8");
    assert_eq!(response.body, b"<p>sub index</p>");
    // No index: 404, not a listing.
    fetch(&server, "GET", "/noindex/", "").await.assert_status(404);
    // A file asked for as a directory: 404.
    fetch(&server, "GET", "/hello.txt/", "").await.assert_status(404);
    server.stop().await;
}

/// RFC 9110 §13.1.1, §13.1.4, §13.2.2: a failing `If-Match` or `If-Unmodified-Since` is a 412
/// (they used to be ignored: 200), before `If-None-Match` and before a `Range`.
async fn a_failing_if_match_or_if_unmodified_since_gets_412(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let first = fetch(&server, "GET", "/hello.txt", "").await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    let last_modified = first.header("last-modified").expect("a Last-Modified").to_owned();

    let failed = fetch(&server, "GET", "/hello.txt", "If-Match: \"other\"\r\n").await;
    failed.assert_status(412);
    assert!(failed.raw.starts_with(b"HTTP/1.1 412 Precondition Failed\r\n"), "{}", shown(&failed.raw));
    failed.assert_header("etag", &etag);
    let early = "Thu, 01 Jan 1970 00:00:01 GMT";
    fetch(&server, "GET", "/hello.txt", &format!("If-Unmodified-Since: {early}\r\n")).await.assert_status(412);
    fetch(&server, "GET", "/hello.txt", &format!("If-Match: \"other\"\r\nIf-None-Match: {etag}\r\n"))
        .await
        .assert_status(412);
    fetch(&server, "GET", "/hello.txt", "If-Match: \"other\"\r\nRange: bytes=0-1\r\n").await.assert_status(412);
    // Passing ones serve as usual.
    fetch(&server, "GET", "/hello.txt", &format!("If-Match: {etag}\r\n")).await.assert_status(200);
    fetch(&server, "GET", "/hello.txt", &format!("If-Unmodified-Since: {last_modified}\r\n")).await.assert_status(200);
    fetch(&server, "GET", "/hello.txt", "If-Match: *\r\nRange: bytes=0-1\r\n").await.assert_status(206);
    // curl, a real client, sees the same.
    let code =
        curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-Match: \"nope\"", &server.url("/hello.txt")])
            .await;
    assert_eq!(String::from_utf8_lossy(&code.stdout), "412");
    server.stop().await;
}

async fn a_matching_if_none_match_gets_304_without_a_body(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let first = fetch(&server, "GET", "/hello.txt", "").await;
    let etag = first.header("etag").expect("an ETag").to_owned();

    let response = fetch(&server, "GET", "/hello.txt", &format!("If-None-Match: {etag}\r\n")).await;
    response.assert_status(304);
    assert!(response.raw.starts_with(b"HTTP/1.1 304 Not Modified\r\n"), "{}", shown(&response.raw));
    response.assert_header("etag", &etag);
    assert!(response.raw.ends_with(b"\r\n\r\n"), "a 304 with a body: {}", shown(&response.raw));
    response.assert_date_and_server();

    // In a list, weakly, or as `*`.
    for value in [format!("\"other\", {etag}"), format!("W/{etag}"), "*".to_owned()] {
        let response = fetch(&server, "GET", "/hello.txt", &format!("If-None-Match: {value}\r\n")).await;
        assert_eq!(response.status, 304, "If-None-Match: {value}");
    }
    // The other side: another tag gets the file.
    let response = fetch(&server, "GET", "/hello.txt", "If-None-Match: \"other\"\r\n").await;
    response.assert_status(200);
    assert_eq!(response.body, b"Hello, file!");
    server.stop().await;
}

async fn if_modified_since_the_modification_time_gets_304(file_io: FileIo) {
    let site = Site::new(file_io);
    let path = site.root().join("hello.txt");
    // A modification time well in the past, in whole seconds.
    let past = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(past)).expect("set the mtime");
    let server = site.serve().await;
    let first = fetch(&server, "GET", "/hello.txt", "").await;
    let last_modified = first.header("last-modified").expect("a Last-Modified").to_owned();
    assert_eq!(last_modified, httpdate::fmt_http_date(past));

    let response = fetch(&server, "GET", "/hello.txt", &format!("If-Modified-Since: {last_modified}\r\n")).await;
    response.assert_status(304);
    assert!(response.raw.ends_with(b"\r\n\r\n"), "{}", shown(&response.raw));
    let later = httpdate::fmt_http_date(past + Duration::from_secs(3600));
    fetch(&server, "GET", "/hello.txt", &format!("If-Modified-Since: {later}\r\n")).await.assert_status(304);

    // The other side: a second earlier gets the file.
    let earlier = httpdate::fmt_http_date(past - Duration::from_secs(1));
    let response = fetch(&server, "GET", "/hello.txt", &format!("If-Modified-Since: {earlier}\r\n")).await;
    response.assert_status(200);
    assert_eq!(response.body, b"Hello, file!");
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let response = fetch(
        &server,
        "GET",
        "/hello.txt",
        &format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {last_modified}\r\n"),
    )
    .await;
    response.assert_status(200);
    server.stop().await;
}

async fn a_range_gets_206_with_content_range_and_an_unsatisfiable_one_416(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let response = fetch(&server, "GET", "/digits.txt", "Range: bytes=0-9\r\n").await;
    response.assert_status(206);
    assert!(response.raw.starts_with(b"HTTP/1.1 206 Partial Content\r\n"), "{}", shown(&response.raw));
    response.assert_header("content-range", "bytes 0-9/20");
    response.assert_header("content-length", "10");
    assert_eq!(response.body, b"0123456789");

    let response = fetch(&server, "GET", "/digits.txt", "Range: bytes=15-\r\n").await;
    response.assert_header("content-range", "bytes 15-19/20");
    assert_eq!(response.body, b"fghij");
    let response = fetch(&server, "GET", "/digits.txt", "Range: bytes=-3\r\n").await;
    response.assert_header("content-range", "bytes 17-19/20");
    assert_eq!(response.body, b"hij");
    // An end past the file is cut to it.
    let response = fetch(&server, "GET", "/digits.txt", "Range: bytes=18-100\r\n").await;
    response.assert_header("content-range", "bytes 18-19/20");
    assert_eq!(response.body, b"ij");

    for range in ["bytes=20-", "bytes=100-200", "bytes=-0"] {
        let response = fetch(&server, "GET", "/digits.txt", &format!("Range: {range}\r\n")).await;
        assert_eq!(response.status, 416, "{range}: {}", shown(&response.raw));
        response.assert_header("content-range", "bytes */20");
    }
    // The other side of the end: the last byte is satisfiable.
    let response = fetch(&server, "GET", "/digits.txt", "Range: bytes=19-\r\n").await;
    response.assert_status(206);
    assert_eq!(response.body, b"j");
    // What is not one parseable range gets the whole file.
    for range in ["bytes=0-1,5-6", "pages=1", "bytes=5-2"] {
        let response = fetch(&server, "GET", "/digits.txt", &format!("Range: {range}\r\n")).await;
        assert_eq!(response.status, 200, "{range}");
        assert_eq!(response.body, b"0123456789abcdefghij");
    }
    server.stop().await;
}

async fn curl_fetches_a_range_and_a_file(file_io: FileIo) {
    let site = Site::new(file_io);
    let server = site.serve().await;
    let url = server.url("/digits.txt");
    assert_eq!(curl_ok(&["-r", "0-9", &url]).await, b"0123456789");
    let out = curl_ok(&["-r", "0-9", "-o", "/dev/null", "-w", "%{http_code}", &url]).await;
    assert_eq!(out, b"206");
    assert_eq!(curl_ok(&[&server.url("/a%20b.txt")]).await, b"spaced");
    // curl follows the directory redirect.
    assert_eq!(curl_ok(&["-L", &server.url("/sub")]).await, b"<p>sub index</p>");
    server.stop().await;
}

/// 5 MiB of bytes that are not a repeating pattern of any short period.
fn big_file_bytes() -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..5 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

async fn a_5_mib_file_arrives_intact_sent_by_the_kernel_or_read_in_pieces(file_io: FileIo) {
    let site = Site::new(file_io);
    let bytes = big_file_bytes();
    std::fs::write(site.root().join("big.bin"), &bytes).expect("big.bin");
    for sendfile in [true, false] {
        let server = site.serve_sendfile(sendfile).await;
        let response = fetch(&server, "GET", "/big.bin", "").await;
        response.assert_status(200);
        response.assert_header("content-length", &bytes.len().to_string());
        assert_eq!(response.body.len(), bytes.len(), "sendfile {sendfile}");
        assert!(response.body == bytes, "the 5 MiB file arrived changed (sendfile {sendfile})");
        // And through curl.
        let out = curl_ok(&[&server.url("/big.bin")]).await;
        assert!(out == bytes, "curl got {} bytes, not the file (sendfile {sendfile})", out.len());
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_heads_and_keep_alive_work_on_a_large_file_sent_by_the_kernel() {
    let site = Site::new(FileIo::Inline);
    let bytes = big_file_bytes();
    std::fs::write(site.root().join("big.bin"), &bytes).expect("big.bin");
    let server = site.serve().await;
    let mut client = server.connect().await;
    // A range deep in the file: the region starts at its first byte.
    client.send(request("GET", "/big.bin", "Range: bytes=1000000-3999999\r\n")).await;
    let response = client.response().await;
    response.assert_status(206);
    response.assert_header("content-range", &format!("bytes 1000000-3999999/{}", bytes.len()));
    assert!(response.body == bytes[1_000_000..4_000_000], "the range arrived changed");
    // HEAD: the head alone, and the connection goes on.
    client.send(request("HEAD", "/big.bin", "")).await;
    let response = client.response_to("HEAD").await;
    response.assert_header("content-length", &bytes.len().to_string());
    assert!(response.body.is_empty());
    // Two pipelined requests: the small file's bytes go out after the whole region, not inside it.
    client.send(format!("{}{}", request("GET", "/big.bin", ""), request("GET", "/hello.txt", ""))).await;
    let big = client.response().await;
    assert!(big.body == bytes, "the file arrived changed");
    let small = client.response().await;
    assert_eq!(small.body, b"Hello, file!");
    server.stop().await;
}

async fn a_slow_reader_still_gets_the_whole_5_mib_file_read_in_pieces(file_io: FileIo) {
    let site = Site::new(file_io);
    let bytes = big_file_bytes();
    std::fs::write(site.root().join("big.bin"), &bytes).expect("big.bin");
    let server = site.serve_sendfile(false).await;
    // A small receive buffer and small reads: the server's writes must wait for room.
    let mut client = Client::connect_slow(server.addr, 1024).await;
    client.send(request("GET", "/big.bin", "Connection: close\r\n")).await;
    let head = client.read_until(b"\r\n\r\n").await;
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
    // Read a little, then stop reading until the server has to wait: the request handler, which
    // hands the socket adapter no more than `write_behind` bytes beyond what it has written, waits
    // for them, so the handler it runs fills the inbox between them and waits too. No box on the
    // way holds more than its capacity, and the adapter's holds a few pieces at most.
    let first = client.read_exact(64 * 1024).await;
    let scheduler = server.scheduler.clone();
    wait_until("the response to be held up by the reader", || {
        let snapshot = scheduler.introspect();
        let boxes = || snapshot.components.iter().flat_map(|c| c.boxes.iter().map(move |b| (c, b)));
        assert!(boxes().all(|(_, b)| b.capacity.is_none_or(|capacity| b.depth <= capacity)));
        // One flush's messages at most: what it had buffered (the head's bytes, a piece, the
        // rest) and the receipt after them, which the request handler waits on before it flushes
        // again.
        for (c, b) in boxes() {
            if c.name.starts_with("ConnectedSocketAdapter") && b.name == "inbox" {
                assert!(b.depth <= 5, "{} holds {} messages", c.name, b.depth);
            }
        }
        boxes().any(|(c, b)| {
            c.name.contains("HTTPRequestHandler")
                && b.name == "_handlerinbox"
                && b.capacity.is_some_and(|capacity| b.depth >= capacity)
        })
    })
    .await;
    let mut body = first;
    body.extend(client.read_to_eof().await);
    assert_eq!(body.len(), bytes.len(), "the slow reader got {} of {} bytes", body.len(), bytes.len());
    assert!(body == bytes, "the slow reader got the file changed");
    drop(client);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_still_gets_the_whole_5_mib_file_sent_by_the_kernel() {
    let site = Site::new(FileIo::Inline);
    let bytes = big_file_bytes();
    std::fs::write(site.root().join("big.bin"), &bytes).expect("big.bin");
    let server = site.serve().await;
    // A small receive buffer, read 1 KiB at a time: the socket is full long before 10 MiB have
    // gone, so the adapter waits for room, and takes turns, many times over. Two requests: the
    // second response goes out only after the whole of the first file.
    let mut client = Client::connect_slow(server.addr, 1024).await;
    let get = request("GET", "/big.bin", "");
    client.send(format!("{get}{}", request("GET", "/big.bin", "Connection: close\r\n"))).await;
    let head = client.read_until(b"\r\n\r\n").await;
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
    let first = client.read_exact(64 * 1024).await;
    let mut body = first;
    body.extend(client.read_exact(bytes.len() - body.len()).await);
    assert!(body == bytes, "the slow reader got the first file changed");
    let second = client.response().await;
    assert!(second.body == bytes, "the slow reader got the second file changed");
    client.assert_closed().await;
    server.stop().await;
}

/// The 5 MiB file and a page as a program would have them compiled in (made here once, and kept).
fn embedded_files() -> &'static EmbeddedFiles {
    static BIG: LazyLock<Vec<u8>> = LazyLock::new(big_file_bytes);
    static FILES: LazyLock<EmbeddedFiles> = LazyLock::new(|| {
        EmbeddedFiles::new([("big.bin", &BIG[..]), ("hello.txt", &b"Hello, file!"[..])]).expect("plain paths")
    });
    &FILES
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_mib_embedded_file_arrives_intact_whole_in_a_range_pipelined_and_to_a_slow_reader() {
    let bytes = big_file_bytes();
    let site = MinimalFactory::embedded("index.html", embedded_files());
    let server = serve_routes(vec![("/", factory(move |request| site.make(request)))]).await;
    let response = fetch(&server, "GET", "/big.bin", "").await;
    response.assert_status(200);
    response.assert_header("content-length", &bytes.len().to_string());
    assert!(response.header("etag").is_some());
    assert_eq!(response.header("last-modified"), None);
    assert!(response.body == bytes, "the 5 MiB embedded file arrived changed");
    let out = curl_ok(&[&server.url("/big.bin")]).await;
    assert!(out == bytes, "curl got {} bytes, not the file", out.len());

    // On one connection: a range deep in the file, a HEAD, then two pipelined requests (the
    // small file's bytes go out after the whole of the large one).
    let mut client = server.connect().await;
    client.send(request("GET", "/big.bin", "Range: bytes=1000000-3999999\r\n")).await;
    let response = client.response().await;
    response.assert_status(206);
    response.assert_header("content-range", &format!("bytes 1000000-3999999/{}", bytes.len()));
    assert!(response.body == bytes[1_000_000..4_000_000], "the range arrived changed");
    client.send(request("HEAD", "/big.bin", "")).await;
    let response = client.response_to("HEAD").await;
    response.assert_header("content-length", &bytes.len().to_string());
    assert!(response.body.is_empty());
    client.send(format!("{}{}", request("GET", "/big.bin", ""), request("GET", "/hello.txt", ""))).await;
    assert!(client.response().await.body == bytes, "the pipelined file arrived changed");
    assert_eq!(client.response().await.body, b"Hello, file!");
    drop(client);

    // A small receive buffer, read 1 KiB at a time: the one piece is written as room comes.
    let mut client = Client::connect_slow(server.addr, 1024).await;
    client.send(request("GET", "/big.bin", "Connection: close\r\n")).await;
    let head = client.read_until(b"\r\n\r\n").await;
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", shown(&head));
    let body = client.read_to_eof().await;
    assert_eq!(body.len(), bytes.len(), "the slow reader got {} of {} bytes", body.len(), bytes.len());
    assert!(body == bytes, "the slow reader got the file changed");
    drop(client);
    server.stop().await;
}

/// Runs each test named (an `async fn(FileIo)` above) as two tests: `inline::<name>` with the
/// file-system calls made inline, `blocking_pool::<name>` with them made on the blocking pool.
macro_rules! with_each_file_io {
    ($($(#[$attr:meta])* $test:ident),* $(,)?) => {
        mod inline {
            use super::*;
            $(
                $(#[$attr])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(FileIo::Inline).await
                }
            )*
        }
        mod blocking_pool {
            use super::*;
            $(
                $(#[$attr])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(FileIo::BlockingPool).await
                }
            )*
        }
    };
}

with_each_file_io! {
    a_file_is_served_with_its_type_length_and_validators,
    head_on_a_file_has_the_fields_of_get_and_no_body,
    a_percent_encoded_name_is_decoded,
    no_encoding_of_dot_dot_leads_out_of_the_root,
    #[cfg(unix)]
    a_symlink_pointing_outside_the_root_is_not_followed,
    a_directory_without_its_slash_is_redirected_and_with_it_serves_its_index,
    a_failing_if_match_or_if_unmodified_since_gets_412,
    a_matching_if_none_match_gets_304_without_a_body,
    if_modified_since_the_modification_time_gets_304,
    a_range_gets_206_with_content_range_and_an_unsatisfiable_one_416,
    curl_fetches_a_range_and_a_file,
    a_5_mib_file_arrives_intact_sent_by_the_kernel_or_read_in_pieces,
    a_slow_reader_still_gets_the_whole_5_mib_file_read_in_pieces,
}
