//! The cookbook examples and the web server binary, run as a user runs them: each program is
//! started as a process on a free port (`--port 0`), the address is read from its log, and real
//! requests go to it over TCP (and from curl). Some run from another directory, and the binary
//! also as a copy in a directory of its own, to show that the bundled site is in the program.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long anything here may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// A running program, stopped when dropped; its log lines arrive on `log`.
struct Running {
    child: Child,
    address: SocketAddr,
    log: mpsc::Receiver<String>,
    /// The log lines up to the one saying where it listens.
    started: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Waits for a log line containing `needle`.
    fn wait_for_log(&self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line containing {needle:?} within {DEADLINE:?}"),
            }
        }
    }
}

fn example(name: &str) -> PathBuf {
    // Integration tests run from target/<profile>/deps; cargo builds examples next door.
    let deps = std::env::current_exe().expect("test binary path");
    let profile = deps.parent().and_then(|p| p.parent()).expect("target/<profile>");
    profile.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Starts `program` with `args` and `--port 0`, and reads the address it listens on from its log.
fn start(program: PathBuf, args: &[&str]) -> Running {
    start_in(program, args, None)
}

/// [`start`], in the current directory `cwd` if given (else the test's own).
fn start_in(program: PathBuf, args: &[&str], cwd: Option<&Path>) -> Running {
    let mut command = Command::new(&program);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let mut child = command
        .args(args)
        .args(["--port", "0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let stderr = child.stderr.take().expect("piped");
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut running = Running { child, address: "127.0.0.1:1".parse().unwrap(), log, started: Vec::new() };
    let end = Instant::now() + DEADLINE;
    while !running.started.last().is_some_and(|line| line.contains("listening on ")) {
        let left = end.saturating_duration_since(Instant::now());
        match running.log.recv_timeout(left) {
            Ok(line) => running.started.push(line),
            Err(_) => panic!("{} logged no \"listening on\" within {DEADLINE:?}", program.display()),
        }
    }
    let line = running.started.last().expect("the line");
    let address = line.rsplit("listening on ").next().unwrap_or("").trim();
    running.address = address.parse().unwrap_or_else(|_| panic!("no address in {line:?}"));
    running
}

/// Sends `request` on a new connection and reads until the server closes it.
fn exchange(address: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("the server closes the connection after `Connection: close`");
    String::from_utf8_lossy(&response).into_owned()
}

fn get(address: SocketAddr, target: &str) -> String {
    exchange(address, &format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"))
}

/// The body of a chunked response, de-chunked.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size, 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

fn body_of(response: &str) -> String {
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    }
}

#[test]
fn cookbook_minimal_serves_the_bundled_site() {
    let server = start(example("cookbook_minimal"), &[]);
    let index = get(server.address, "/");
    assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
    assert!(index.contains("content-type: text/html"), "{index}");
    assert!(body_of(&index).contains("<h1>Kamaelia in Rust</h1>"), "{index}");
    let missing = get(server.address, "/missing");
    assert!(missing.starts_with("HTTP/1.1 404 Not Found\r\n"), "{missing}");
    assert!(body_of(&missing).contains("<h2>404 Not Found</h2>"), "{missing}");
}

#[test]
fn cookbook_minimal_serves_another_root_given_with_root() {
    let root = std::env::temp_dir().join(format!("kamaelia-root-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<p>elsewhere</p>").unwrap();
    let server = start(example("cookbook_minimal"), &["--root", root.to_str().unwrap()]);
    let index = get(server.address, "/");
    assert_eq!(body_of(&index), "<p>elsewhere</p>", "{index}");
    drop(server);
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn cookbook_hello_says_hello_and_still_serves_files() {
    let server = start(example("cookbook_hello"), &[]);
    let hello = get(server.address, "/hello");
    assert!(hello.starts_with("HTTP/1.1 200 OK\r\n"), "{hello}");
    assert_eq!(body_of(&hello), "<html><body><h1>Hello World</h1><P>Woo!!</body></html>");
    let file = get(server.address, "/hello.txt");
    assert_eq!(body_of(&file), "Hello from the bundled site.\n", "{file}");
}

#[test]
fn cookbook_echo_shows_the_request_in_a_page() {
    let server = start(example("cookbook_echo"), &[]);
    let echo = get(server.address, "/echo?x=1");
    assert!(echo.starts_with("HTTP/1.1 200 OK\r\n"), "{echo}");
    let body = body_of(&echo);
    assert!(body.starts_with("<html><body>"), "{body}");
    assert!(body.ends_with("</body></html>"), "{body}");
    assert!(body.contains("'query': 'x=1'"), "{body}");
    assert!(body.contains("'uri-prefix-trigger': '/echo'"), "{body}");
    // What the client sent is escaped, not put into the page raw.
    let tricky = get(server.address, "/echo?<script>");
    assert!(body_of(&tricky).contains("&lt;script&gt;"), "{tricky}");
    let hello = get(server.address, "/hello");
    assert!(body_of(&hello).contains("Hello World"), "{hello}");
}

/// The factory of a `ServerCore` is given each connection's addresses, and
/// `HTTPServer::for_connection` puts them on every request: the `/echo` page shows the client's
/// own address and port, and the server's.
#[test]
fn each_request_carries_its_connection_addresses_in_the_examples_and_the_web_server() {
    for program in [example("cookbook_echo"), PathBuf::from(env!("CARGO_BIN_EXE_kamaelia"))] {
        let server = start(program.clone(), &[]);
        let mut stream = TcpStream::connect(server.address).expect("connect");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let client = stream.local_addr().unwrap();
        stream.write_all(b"GET /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("the server closes the connection after `Connection: close`");
        let body = body_of(&String::from_utf8_lossy(&response));
        let peer = format!("'peer': '{}', 'peerport': {}", client.ip(), client.port());
        let local = format!("'localip': '{}', 'localport': {}", server.address.ip(), server.address.port());
        assert!(body.contains(&peer), "{}: no {peer} in {body}", program.display());
        assert!(body.contains(&local), "{}: no {local} in {body}", program.display());
    }
}

#[test]
fn body_echo_sends_the_body_back_with_its_type() {
    let server = start(example("body_echo"), &[]);
    let response = exchange(
        server.address,
        "PUT /anything HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("content-type: text/x-test\r\n"), "{response}");
    assert!(response.contains("Content-Length: 5\r\n"), "{response}");
    assert_eq!(body_of(&response), "hello");
    let chunked = exchange(
        server.address,
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    assert_eq!(body_of(&chunked), "abcde", "{chunked}");
}

#[test]
fn the_web_server_serves_the_cookbook_routes_and_logs_each_request() {
    let server = start(PathBuf::from(env!("CARGO_BIN_EXE_kamaelia")), &[]);
    let hello = get(server.address, "/hello");
    assert!(body_of(&hello).contains("Hello World"), "{hello}");
    server.wait_for_log("\"GET /hello HTTP/1.1\" 200");
    // A target longer than the access log keeps inline is logged whole all the same.
    let long = format!("/hello/{}", "x".repeat(100));
    let hello = get(server.address, &long);
    assert!(body_of(&hello).contains("Hello World"), "{hello}");
    server.wait_for_log(&format!("\"GET {long} HTTP/1.1\" 200"));
    let echo = get(server.address, "/echo?x=1");
    assert!(body_of(&echo).contains("'query': 'x=1'"), "{echo}");
    let docs = get(server.address, "/docs");
    assert!(docs.starts_with("HTTP/1.1 301 "), "{docs}");
    assert!(docs.to_ascii_lowercase().contains("\r\nlocation: /docs/\r\n"), "{docs}");
    let index = get(server.address, "/docs/");
    assert!(body_of(&index).contains("A directory"), "{index}");
}

#[test]
fn the_web_server_serves_on_one_shared_runtime_and_on_one_thread_too() {
    for args in
        [&["--runtime", "shared", "--threads", "2"][..], &["--threads", "1"], &["--runtime=shared", "--threads=1"]]
    {
        let server = start(PathBuf::from(env!("CARGO_BIN_EXE_kamaelia")), args);
        for _ in 0..3 {
            let hello = get(server.address, "/hello");
            assert!(body_of(&hello).contains("Hello World"), "{args:?}: {hello}");
            let index = get(server.address, "/");
            assert!(index.starts_with("HTTP/1.1 200 "), "{args:?}: {index}");
        }
    }
}

#[test]
fn the_web_server_stops_gracefully_on_sigterm_closing_idle_connections() {
    for args in [&[][..], &["--runtime", "shared"]] {
        let mut server = start(PathBuf::from(env!("CARGO_BIN_EXE_kamaelia")), args);
        // A keep-alive connection that has been served and is idle when the signal comes.
        let mut idle = TcpStream::connect(server.address).expect("connect");
        idle.set_read_timeout(Some(DEADLINE)).unwrap();
        idle.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        let mut first = [0u8; 12];
        idle.read_exact(&mut first).expect("a response");
        assert_eq!(&first, b"HTTP/1.1 200", "{args:?}");
        server.wait_for_log("\"GET /hello HTTP/1.1\" 200");

        let pid = server.child.id();
        let status = Command::new("sh").arg("-c").arg(format!("kill -TERM {pid}")).status().expect("sh runs");
        assert!(status.success(), "kill -TERM {pid}");
        // The idle connection is closed (after the rest of its response, if any was unread)...
        let mut rest = Vec::new();
        idle.read_to_end(&mut rest).expect("the server closes the idle connection");
        // (Closed on this side too, or the server would linger, as it does for a client that
        // keeps its end open after the server has closed.)
        drop(idle);
        // ... and the server says what it served and exits successfully, well within the grace.
        server.wait_for_log("served 1 connection(s); 0 stopped after a grace period");
        let end = Instant::now() + DEADLINE;
        let exit = loop {
            if let Some(exit) = server.child.try_wait().expect("the server's status") {
                break exit;
            }
            assert!(Instant::now() < end, "{args:?}: the server did not exit within {DEADLINE:?} of SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(exit.success(), "{args:?}: {exit}");
    }
}

/// Sends SIGUSR1 to `server` until the stats line it logs in answer satisfies `wanted` (the
/// figures may lag a connection's end by a moment), and returns that line.
fn stats_until(server: &Running, wanted: impl Fn(&str) -> bool) -> String {
    let pid = server.child.id();
    let end = Instant::now() + DEADLINE;
    loop {
        let status = Command::new("sh").arg("-c").arg(format!("kill -USR1 {pid}")).status().expect("sh runs");
        assert!(status.success(), "kill -USR1 {pid}");
        let line = server.wait_for_log("stats: ");
        if wanted(&line) {
            return line;
        }
        assert!(Instant::now() < end, "no stats line as wanted within {DEADLINE:?}; the last: {line}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_web_server_logs_its_components_and_connections_on_sigusr1() {
    let server = start(PathBuf::from(env!("CARGO_BIN_EXE_kamaelia")), &[]);
    // Idle: only the server's own component.
    let idle = stats_until(&server, |_| true);
    assert!(idle.contains(" INFO "), "{idle}");
    assert!(idle.ends_with("stats: live_components=1 open_connections=0 accepted_connections=0"), "{idle}");

    // One connection served and closed, one served and idle in keep-alive.
    assert!(body_of(&get(server.address, "/hello")).contains("Hello World"));
    let mut open = TcpStream::connect(server.address).expect("connect");
    open.set_read_timeout(Some(DEADLINE)).unwrap();
    open.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    open.read_exact(&mut first).expect("a response");
    assert_eq!(&first, b"HTTP/1.1 200");
    let busy = stats_until(&server, |line| line.contains(" open_connections=1 accepted_connections=2"));
    let live: usize = busy
        .split("live_components=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no live_components in {busy}"));
    assert!(live > 1, "an open connection runs components of its own: {busy}");

    // Closed: back to idle, the server still running (SIGUSR1 did not end it).
    drop(open);
    stats_until(&server, |line| line.ends_with("live_components=1 open_connections=0 accepted_connections=2"));
    assert!(body_of(&get(server.address, "/hello")).contains("Hello World"));
}

#[test]
fn the_web_server_help_lists_its_options_and_limits() {
    let output = Command::new(env!("CARGO_BIN_EXE_kamaelia")).arg("--help").output().expect("run --help");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    for option in ["--port", "--bind", "--root", "--max-connections", "--max-body", "--max-head-bytes", "--max-headers"]
    {
        assert!(text.contains(option), "--help does not mention {option}:\n{text}");
    }
    // What is served without --root.
    assert!(text.contains("(default: the bundled site, site/ of the"), "{text}");
    assert!(text.contains("compiled into this program: served wherever it runs)"), "{text}");
}

#[test]
fn the_web_server_refuses_a_bad_option_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_kamaelia")).args(["--port", "http"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("--port: `http` is not a port number"), "{text}");
}

/// A response read byte for byte: the status, the header fields (names in lower case) and the
/// body (de-chunked if it was chunked).
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn parse(bytes: &[u8]) -> Response {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
        let head = std::str::from_utf8(&bytes[..end]).expect("an ASCII head");
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|code| code.parse().ok());
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let mut body = bytes[end + 4..].to_vec();
        if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
            body = dechunk(&String::from_utf8_lossy(&body)).into_bytes();
        }
        Response { status: status.unwrap_or_else(|| panic!("no status in {head:?}")), headers, body }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends `method target` with `fields` on a new connection (closed after the response) and reads
/// the response.
fn request(address: SocketAddr, method: &str, target: &str, fields: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut text = format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in fields {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("the server closes the connection after `Connection: close`");
    Response::parse(&bytes)
}

/// Runs `curl -sS <args>` and returns what it wrote to stdout.
fn curl(args: &[&str]) -> Vec<u8> {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", &DEADLINE.as_secs().to_string()])
        .args(args)
        .output()
        .expect("curl runs (the tests need it: .ci/run installs it)");
    assert!(output.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// The file `path` of the repository's `site/`, read now.
fn site_file(path: &str) -> Vec<u8> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("site").join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Checks that the server at `address` serves the bundled site, compiled in: every page byte for
/// byte with its type, HEAD, a range, a conditional request, a missing file and ways out.
fn check_the_bundled_site(address: SocketAddr, how: &str) {
    let pages = [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/style.css", "style.css", "text/css; charset=utf-8"),
        ("/hello.txt", "hello.txt", "text/plain; charset=utf-8"),
        ("/docs/", "docs/index.html", "text/html; charset=utf-8"),
        ("/docs/index.html", "docs/index.html", "text/html; charset=utf-8"),
    ];
    for (target, file, content_type) in pages {
        let response = request(address, "GET", target, &[]);
        assert_eq!(response.status, 200, "{how}: {target}");
        assert!(response.body == site_file(file), "{how}: {target} is not site/{file}");
        assert_eq!(response.header("content-type"), Some(content_type), "{how}: {target}");
        assert_eq!(response.header("content-length"), Some(site_file(file).len().to_string().as_str()));
        assert!(response.header("etag").is_some(), "{how}: {target} has no ETag");
        // A file from site/ on disk would carry its modification time: these come from the program.
        assert_eq!(response.header("last-modified"), None, "{how}: {target} was read from disk");
    }
    // A second client: curl, for a page and a range of it.
    let url = format!("http://{address}/style.css");
    assert!(curl(&[&url]) == site_file("style.css"), "{how}: curl's /style.css");
    assert!(curl(&["-r", "4-9", &url]) == site_file("style.css")[4..10], "{how}: curl's range");

    let index = site_file("index.html");
    let head = request(address, "HEAD", "/index.html", &[]);
    assert_eq!(head.status, 200, "{how}");
    assert_eq!(head.header("content-length"), Some(index.len().to_string().as_str()), "{how}");
    assert!(head.body.is_empty(), "{how}: HEAD got a body");

    let range = request(address, "GET", "/index.html", &[("Range", "bytes=10-99")]);
    assert_eq!(range.status, 206, "{how}");
    assert_eq!(range.header("content-range"), Some(format!("bytes 10-99/{}", index.len()).as_str()), "{how}");
    assert!(range.body == index[10..100], "{how}: the range is not bytes 10 to 99 of index.html");
    let past = request(address, "GET", "/index.html", &[("Range", "bytes=100000-")]);
    assert_eq!((past.status, past.header("content-range")), (416, Some(format!("bytes */{}", index.len()).as_str())));

    let etag = request(address, "GET", "/hello.txt", &[]).header("etag").unwrap().to_owned();
    let again = request(address, "GET", "/hello.txt", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304, "{how}: If-None-Match {etag}");
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert!(again.body.is_empty(), "{how}: a 304 with a body");

    let missing = request(address, "GET", "/missing.html", &[]);
    assert_eq!(missing.status, 404, "{how}");
    assert!(String::from_utf8_lossy(&missing.body).contains("<h2>404 Not Found</h2>"), "{how}");
    // (What a leak of the repository's Cargo.toml, next to site/, would show.)
    let cargo_toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(cargo_toml.contains("[package]"));
    for target in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/docs/../../Cargo.toml", "/..%2fCargo.toml", "/Cargo.toml"]
    {
        let refused = request(address, "GET", target, &[]);
        assert_eq!(refused.status, 404, "{how}: {target}");
        assert!(!String::from_utf8_lossy(&refused.body).contains("[package]"), "{how}: {target} leaked a file");
    }
    let redirect = request(address, "GET", "/docs", &[]);
    assert_eq!((redirect.status, redirect.header("location")), (301, Some("/docs/")), "{how}");
}

#[test]
fn the_web_server_serves_its_bundled_site_from_anywhere_with_no_root() {
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    // The built binary, run from a directory with no site/ in it.
    let server = start_in(PathBuf::from(env!("CARGO_BIN_EXE_kamaelia")), &[], Some(elsewhere.path()));
    let serving = format!("serving the bundled site (compiled in) on http://{}/", server.address);
    assert!(server.started.iter().any(|line| line.contains(&serving)), "{:?}", server.started);
    check_the_bundled_site(server.address, "run from a temporary directory");
    drop(server);

    // A copy of the binary, alone in a directory of its own, run from there.
    let copy = elsewhere.path().join(format!("kamaelia{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(env!("CARGO_BIN_EXE_kamaelia"), &copy).expect("copy the binary");
    let server = start_in(copy, &[], Some(elsewhere.path()));
    check_the_bundled_site(server.address, "a copy of the binary");
}

#[test]
fn the_cookbook_examples_serve_the_bundled_site_from_anywhere() {
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    for name in ["cookbook_minimal", "cookbook_hello", "cookbook_echo"] {
        let server = start_in(example(name), &[], Some(elsewhere.path()));
        let page = request(server.address, "GET", "/docs/", &[]);
        assert_eq!(page.status, 200, "{name}");
        assert!(page.body == site_file("docs/index.html"), "{name}: /docs/ is not site/docs/index.html");
        assert_eq!(page.header("last-modified"), None, "{name}: read from disk");
    }
}

#[test]
fn the_web_server_serves_a_directory_given_with_root_and_refuses_one_that_is_not() {
    let root = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(root.path().join("index.html"), "<p>elsewhere</p>").unwrap();
    let server = start(PathBuf::from(env!("CARGO_BIN_EXE_kamaelia")), &["--root", root.path().to_str().unwrap()]);
    let serving = format!("serving {} on http://{}/", root.path().display(), server.address);
    assert!(server.started.iter().any(|line| line.contains(&serving)), "{:?}", server.started);
    let index = request(server.address, "GET", "/", &[]);
    assert_eq!((index.status, &index.body[..]), (200, &b"<p>elsewhere</p>"[..]));
    assert!(index.header("last-modified").is_some(), "a file from disk has its modification time");
    // Only that directory: not the bundled site as well.
    assert_eq!(request(server.address, "GET", "/hello.txt", &[]).status, 404);
    drop(server);

    let missing = root.path().join("missing");
    let output = Command::new(env!("CARGO_BIN_EXE_kamaelia"))
        .args(["--port", "0", "--root", missing.to_str().unwrap()])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains(&format!("--root {}: not a directory", missing.display())), "{text}");
}

/// A ureq agent (a real HTTP client crate) that hands back 4xx and 5xx answers instead of
/// turning them into errors.
fn http_client() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(DEADLINE)).build().into()
}

#[test]
fn rest_store_stores_replaces_lists_and_deletes_items_by_method() {
    let server = start(example("rest_store"), &["--max-body", "1000"]);
    let base = format!("http://{}", server.address);
    let client = http_client();
    let item = format!("{base}/items/greeting");

    // PUT a new key: 201; again: 204. GET gives the same bytes and type back.
    let put = |body: &str, content_type: &str| {
        client.put(&item).header("Content-Type", content_type).send(body.as_bytes()).expect("PUT").status().as_u16()
    };
    assert_eq!(put("hello", "text/plain"), 201);
    assert_eq!(put("{\"hello\": 1}", "application/json"), 204);
    let mut got = client.get(&item).call().expect("GET");
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "application/json");
    assert_eq!(got.body_mut().read_to_string().unwrap(), "{\"hello\": 1}");

    // A second key, then the list, one key a line.
    let put_other = client.put(format!("{base}/items/a%20b")).send(&b"\x00\x01binary"[..]).expect("PUT");
    assert_eq!(put_other.status().as_u16(), 201);
    let mut list = client.get(format!("{base}/items")).call().expect("GET list");
    assert_eq!(list.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(list.body_mut().read_to_string().unwrap(), "a b\ngreeting\n");
    let mut other = client.get(format!("{base}/items/a%20b")).call().expect("GET");
    assert_eq!(other.headers()["content-type"], "application/octet-stream");
    assert_eq!(other.body_mut().read_to_vec().unwrap(), b"\x00\x01binary");

    // POST is not a method of the route: 405 with exactly what it allows.
    let post = client.post(&item).send(&b"x"[..]).expect("POST");
    assert_eq!(post.status().as_u16(), 405);
    assert_eq!(post.headers()["allow"], "GET, PUT, DELETE, HEAD, OPTIONS");

    // DELETE: 204, then 404, and GET 404.
    assert_eq!(client.delete(&item).call().expect("DELETE").status().as_u16(), 204);
    assert_eq!(client.delete(&item).call().expect("DELETE").status().as_u16(), 404);
    assert_eq!(client.get(&item).call().expect("GET").status().as_u16(), 404);

    // At --max-body exactly: stored. Past it: 413, and nothing stored.
    let at_limit = vec![b'y'; 1000];
    let stored = client.put(format!("{base}/items/limit")).send(&at_limit[..]).expect("PUT");
    assert_eq!(stored.status().as_u16(), 201);
    let mut back = client.get(format!("{base}/items/limit")).call().expect("GET");
    assert_eq!(back.body_mut().read_to_vec().unwrap(), at_limit);
    let big = vec![b'x'; 1001];
    let refused = client.put(format!("{base}/items/big")).send(&big[..]).expect("PUT");
    assert_eq!(refused.status().as_u16(), 413);
    assert_eq!(client.get(format!("{base}/items/big")).call().expect("GET").status().as_u16(), 404);
}

#[test]
fn rest_store_answers_curl() {
    let server = start(example("rest_store"), &[]);
    let url = format!("http://{}/items/k", server.address);
    let run = |args: &[&str]| {
        let out = Command::new("curl").args(["-s", "-i", "--max-time", "30"]).args(args).output().expect("curl runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let created = run(&["-X", "PUT", "-H", "Content-Type: text/plain", "--data-binary", "from curl", &url]);
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let got = run(&[&url]);
    assert!(got.starts_with("HTTP/1.1 200") && got.ends_with("\r\n\r\nfrom curl"), "{got}");
    let options = run(&["-X", "OPTIONS", &url]);
    assert!(
        options.starts_with("HTTP/1.1 204") && options.contains("allow: GET, PUT, DELETE, HEAD, OPTIONS"),
        "{options}"
    );
    let head = run(&["-I", &url]);
    assert!(head.starts_with("HTTP/1.1 200") && head.to_ascii_lowercase().contains("content-length: 9"), "{head}");
}

#[test]
fn past_max_connections_the_server_can_refuse_with_503_and_retry_after() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_kamaelia"));
    let server = start(binary, &["--max-connections", "1", "--when-full", "refuse", "--retry-after", "3"]);
    // One client holds the only place: a keep-alive request, answered, the connection left open.
    let mut held = TcpStream::connect(server.address).expect("connect");
    held.set_read_timeout(Some(DEADLINE)).unwrap();
    held.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    held.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // The next ones are refused at once, whatever they send.
    let refused = get(server.address, "/hello");
    assert!(refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{refused}");
    assert!(refused.contains("\r\nRetry-After: 3\r\n") && refused.contains("\r\nConnection: close\r\n"), "{refused}");
    let code = curl(&["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://{}/hello", server.address)]);
    assert_eq!(code, b"503");
    // Once the place is free, clients are served again.
    drop(held);
    let end = Instant::now() + DEADLINE;
    loop {
        let answer = get(server.address, "/hello");
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < end, "never served again: {answer}");
        std::thread::yield_now();
    }
}

#[test]
fn axum_inside_serves_an_axum_router_at_api_beside_the_cookbook_routes() {
    let server = start(example("axum_inside"), &[]);
    let base = format!("http://{}", server.address);
    let client = http_client();
    let read = |path: &str| {
        let mut response = client.get(format!("{base}{path}")).call().expect("GET");
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    };
    // axum's routes, with axum's parameter, under /api.
    assert_eq!(read("/api/health"), (200, "ok".to_owned()));
    assert_eq!(read("/api/echo/kamaelia"), (200, "kamaelia".to_owned()));
    assert_eq!(read("/api/nothing").0, 404);
    // The cookbook's, beside them: a component, the echo page, the bundled site.
    let hello = read("/hello");
    assert_eq!(hello, (200, "<html><body><h1>Hello World</h1><P>Woo!!</body></html>".to_owned()));
    assert!(read("/echo?x=1").1.contains("'query': 'x=1'"));
    assert_eq!(read("/").1.as_bytes(), site_file("index.html"));
    // tower-http's compression (of answers over 32 bytes), seen by curl; and each request in the
    // access log.
    let long = "kamaelia".repeat(8);
    let compressed = curl(&["-s", "-i", "-H", "Accept-Encoding: gzip", &format!("{base}/api/echo/{long}")]);
    let compressed = String::from_utf8_lossy(&compressed).to_ascii_lowercase();
    assert!(
        compressed.starts_with("http/1.1 200 ok\r\n") && compressed.contains("content-encoding: gzip"),
        "{compressed}"
    );
    let word = curl(&["-s", "--compressed", &format!("{base}/api/echo/{long}")]);
    assert_eq!(word, long.as_bytes());
    let logged = server.wait_for_log("\"GET /api/health HTTP/1.1\" 200");
    assert!(logged.ends_with("\" 200 2"), "the access line gives the status and the body's length: {logged}");
}

#[test]
fn components_in_axum_serves_hello_and_the_site_through_axum_and_hyper() {
    let server = start(example("components_in_axum"), &[]);
    let base = format!("http://{}", server.address);
    let client = http_client();
    let read = |path: &str| {
        let mut response = client.get(format!("{base}{path}")).call().expect("GET");
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        (status, content_type, response.body_mut().read_to_vec().unwrap())
    };
    assert_eq!(read("/health"), (200, Some("text/plain; charset=utf-8".to_owned()), b"ok".to_vec()));
    let hello = read("/hello");
    assert_eq!((hello.0, hello.1.as_deref()), (200, Some("text/html")));
    assert_eq!(hello.2, b"<html><body><h1>Hello World</h1><P>Woo!!</body></html>");
    assert_eq!(read("/").2, site_file("index.html"));
    assert_eq!(read("/style.css").2, site_file("style.css"));
    assert_eq!(read("/no-such-file").0, 404);
    // curl, a second real client.
    assert_eq!(curl(&["-s", &format!("{base}/hello")]), b"<html><body><h1>Hello World</h1><P>Woo!!</body></html>");

    // --root serves a directory instead.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>another root</p>").unwrap();
    let other = start(example("components_in_axum"), &["--root", dir.path().to_str().unwrap()]);
    let body = curl(&["-s", &format!("http://{}/", other.address)]);
    assert_eq!(body, b"<p>another root</p>");
}
