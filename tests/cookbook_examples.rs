//! The cookbook examples and the web server binary, run as a user runs them: each program is
//! started as a process on a free port (`--port 0`), the address is read from its log, and real
//! requests go to it over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
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
    let mut child = Command::new(&program)
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
    let mut running = Running { child, address: "127.0.0.1:1".parse().unwrap(), log };
    let line = running.wait_for_log("listening on ");
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

#[test]
fn the_web_server_help_lists_its_options_and_limits() {
    let output = Command::new(env!("CARGO_BIN_EXE_kamaelia")).arg("--help").output().expect("run --help");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    for option in ["--port", "--bind", "--root", "--max-connections", "--max-body", "--max-head-bytes", "--max-headers"]
    {
        assert!(text.contains(option), "--help does not mention {option}:\n{text}");
    }
}

#[test]
fn the_web_server_refuses_a_bad_option_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_kamaelia")).args(["--port", "http"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("--port: `http` is not a port number"), "{text}");
}
