//! The live page in a real browser: the web server binary runs with `--introspect`, headless
//! Chromium opens `/_introspect`, and this test, as another client, opens and closes connections
//! while it reads the page's drawing (its DOM) through Chromium's DevTools protocol. The page must
//! draw each connection's components, inside their Graphline, while the connection is open, and
//! not after it closes; fold siblings past its threshold; and show a second viewer come and go.
//!
//! Needs Chromium (Debian's `chromium` package; `.ci/run` installs it; `CHROMIUM=/path/to/it`
//! names another). Every wait is on a condition of the DOM, with a deadline.
//!
//! The picture in the README is taken by the test under load:
//!
//! ```text
//! KAMAELIA_LIVE_SCREENSHOT=$PWD/docs/live-page.png cargo test --test live_page_browser under_load
//! ```

mod live_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long anything here may take before the test fails (Chromium starts slowly on a loaded
/// machine; a passing test waits far less).
const DEADLINE: Duration = Duration::from_secs(60);

/// A child process, killed when dropped, and its standard error's lines.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Process {
    fn start(command: &mut Command) -> Process {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Process { child, lines }
    }

    /// The first line of standard error containing `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            match self.lines.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line containing {needle:?} ({e})"),
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The web server binary with `args`, on a free port; and where it listens.
fn server(args: &[&str]) -> (Process, SocketAddr) {
    let server = Process::start(
        Command::new(env!("CARGO_BIN_EXE_kamaelia")).args(args).args(["--port", "0"]).env("RUST_LOG", "info"),
    );
    let line = server.wait_for("listening on ");
    let address = line.rsplit("listening on ").next().unwrap().trim().parse().expect("an address");
    (server, address)
}

/// Chromium, or the test cannot run.
fn chromium() -> String {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return path;
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return name.to_owned();
        }
    }
    panic!("headless Chromium is needed for this test: `apt-get install chromium` (.ci/run does), or CHROMIUM=path")
}

/// A page in headless Chromium, read through the DevTools protocol.
struct Page {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    // Dropped last: the browser, and the profile directory it writes to.
    _browser: Process,
    _profile: tempfile::TempDir,
}

impl Page {
    fn open(url: &str) -> Page {
        let profile = tempfile::tempdir().unwrap();
        let browser = Process::start(Command::new(chromium()).args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=1400,1000",
            "--remote-debugging-port=0",
            &format!("--user-data-dir={}", profile.path().display()),
            "about:blank",
        ]));
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let line = browser.wait_for("DevTools listening on ws://");
        let devtools = line.rsplit("ws://").next().unwrap().split('/').next().unwrap().to_owned();
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(DEADLINE)).build().into();
        let targets: Value = serde_json::from_str(
            &agent.get(format!("http://{devtools}/json/list")).call().unwrap().into_body().read_to_string().unwrap(),
        )
        .unwrap();
        let page = targets.as_array().unwrap().iter().find(|t| t["type"] == "page").expect("a page target");
        let ws_url = page["webSocketDebuggerUrl"].as_str().unwrap();
        let stream = TcpStream::connect(&devtools).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let (ws, _) = tungstenite::client(ws_url, stream).expect("the DevTools websocket");
        let mut page = Page { ws, next_id: 1, _browser: browser, _profile: profile };
        page.call("Page.navigate", json!({ "url": url }));
        page
    }

    /// Calls a DevTools method and returns its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let ask = json!({ "id": id, "method": method, "params": params }).to_string();
        self.ws.send(Message::text(ask)).unwrap();
        loop {
            let message = self.ws.read().expect("a DevTools message");
            let Ok(text) = message.to_text() else { continue };
            let reply: Value = serde_json::from_str(text).unwrap();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// How many components of class `class` the drawing shows: cards, plus those counted on
    /// fold cards.
    fn drawn(&mut self, class: &str) -> u64 {
        let count = self.eval(&format!(
            r#"[...document.querySelectorAll('#graph [data-class="{class}"]')]
                 .reduce((n, e) => n + Number(e.dataset.count || 1), 0)"#
        ));
        count.as_u64().unwrap_or_else(|| panic!("a count: {count}"))
    }

    /// Waits until `done` holds of the page, re-reading it; panics naming `what` at the deadline.
    fn until(&mut self, what: &str, mut done: impl FnMut(&mut Page) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(self) {
            if Instant::now() > end {
                let summary = self.eval("document.getElementById('summary')?.textContent");
                let status = self.eval("document.getElementById('status')?.textContent");
                panic!("waiting for {what}: the page says {status} / {summary}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Opens `n` connections kept open, each having made one request (see `live_support`).
fn connections(address: SocketAddr, n: usize) -> Vec<TcpStream> {
    live_support::connections(address, n, DEADLINE)
}

#[test]
fn the_page_draws_each_connection_while_it_is_open_and_not_after() {
    // A long keep-alive, so that the browser's own connections stay for the whole test and only
    // this test's come and go.
    let (_server, address) = server(&["--introspect", "--introspect-interval", "50", "--keep-alive-timeout", "600"]);
    let mut page = Page::open(&format!("http://{address}/_introspect"));
    page.until("the page to be live and to draw its own stream", |p| {
        // (Until the navigation is done, the document is about:blank, with no status.)
        p.eval("document.getElementById('status')?.dataset.state ?? 'not loaded'") == "live"
            && p.drawn("GraphEvents") == 1
    });
    // A connection's components sit inside its Graphline; linkages are arrows; inboxes have fills.
    assert_eq!(page.eval(r#"!!document.querySelector('.comp[data-class="Graphline"] .comp[data-class="HTTPRequestHandler"] .comp[data-class="GraphEvents"] .comp[data-class="Introspector"]')"#), true);
    assert!(page.eval("document.querySelectorAll('#paths path.link').length").as_u64().unwrap() > 10);
    assert_eq!(page.eval(r#"!!document.querySelector('.box.in[data-capacity="64"] .fill')"#), true);
    let before = page.drawn("ConnectedSocketAdapter");

    // Three connections from this test: their components appear...
    let open = connections(address, 3);
    page.until("three more connections", |p| {
        p.drawn("ConnectedSocketAdapter") >= before + 3 && p.drawn("HTTPParser") >= 3
    });
    assert_eq!(page.eval(r#"!!document.querySelector('.comp[data-class="Graphline"] > .body > .kids > .comp[data-class="HTTPParser"]')"#), true);
    let peak = page.drawn("ConnectedSocketAdapter");
    // ... and go when they close.
    drop(open);
    page.until("the three connections gone", |p| p.drawn("ConnectedSocketAdapter") <= peak - 3);

    // Past the fold threshold (6 by default) siblings of one shape are counted, not drawn.
    let many = connections(address, 12);
    page.until("a fold card for the connections", |p| {
        p.eval(r#"!!document.querySelector('.fold[data-class="ConnectedSocketAdapter"]')"#) == true
            && p.drawn("ConnectedSocketAdapter") >= before + 12
    });
    assert!(
        page.eval(r#"document.querySelectorAll('.comp[data-class="ConnectedSocketAdapter"]').length"#)
            .as_u64()
            .unwrap()
            <= 6 + 2
    );
    drop(many);
    page.until("the fold card gone", |p| {
        p.eval(r#"!!document.querySelector('.fold[data-class="ConnectedSocketAdapter"]')"#) == false
    });

    // A second viewer (a raw stream from this test) is drawn, and drawn no more once it leaves.
    let mut viewer = TcpStream::connect(address).unwrap();
    viewer.write_all(format!("GET /_introspect/events HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes()).unwrap();
    page.until("the second viewer's stream", |p| p.drawn("GraphEvents") == 2 && p.drawn("Introspector") == 2);
    drop(viewer);
    page.until("the second viewer gone", |p| p.drawn("GraphEvents") == 1 && p.drawn("Introspector") == 1);
}

#[test]
fn without_introspect_there_is_no_live_page() {
    let (_server, address) = server(&[]);
    let mut client = TcpStream::connect(address).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client
        .write_all(
            format!("GET /_introspect/events HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 404 Not Found\r\n"), "{response}");
}

/// Decodes standard base64 (a DevTools screenshot's PNG).
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn under_load_the_page_folds_hundreds_of_components_and_keeps_up() {
    let (_server, address) = server(&["--introspect", "--introspect-interval", "10", "--keep-alive-timeout", "600"]);
    let mut page = Page::open(&format!("http://{address}/_introspect?fold=2"));
    page.until("the page to be live", |p| {
        p.eval("document.getElementById('status')?.dataset.state ?? 'not loaded'") == "live"
            && p.drawn("GraphEvents") == 1
    });
    let before = page.drawn("ConnectedSocketAdapter");

    // 200 connections, kept busy by four threads until the picture is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, answered) = (stop.clone(), answered.clone());
            let mut mine = connections(address, 50);
            std::thread::spawn(move || {
                let mut buf = [0; 1024];
                while !stop.load(Ordering::Relaxed) {
                    for client in &mut mine {
                        client.write_all(format!("GET /hello HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes()).unwrap();
                        let mut response = Vec::new();
                        while !response.ends_with(b"0\r\n\r\n") {
                            let n = client.read(&mut buf).unwrap();
                            assert_ne!(n, 0, "closed early");
                            response.extend_from_slice(&buf[..n]);
                        }
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                mine
            })
        })
        .collect();
    page.until("the 200 connections, folded", |p| {
        p.drawn("ConnectedSocketAdapter") >= before + 200
            && p.eval(r#"!!document.querySelector('.fold[data-class="Graphline"]')"#) == true
    });
    // Hundreds of components, a few dozen cards.
    let components = page.eval("Number(document.getElementById('summary').dataset.components)").as_u64().unwrap();
    let cards = page.eval("document.querySelectorAll('.comp').length").as_u64().unwrap();
    assert!(components >= 1000 && cards <= 100, "{components} components, {cards} cards");
    let served = answered.load(Ordering::Relaxed);
    page.until("more requests served while the page watches", |_| answered.load(Ordering::Relaxed) > served + 1000);

    // A second viewer that reads nothing, with a small receive window: its stream backs up to
    // the request handler, whose inbox from the stream is drawn full (4 of 4, the bar red).
    let slow = {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let socket = runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.set_recv_buffer_size(4096)?;
                socket.connect(address).await?.into_std()
            })
            .unwrap();
        socket.set_nonblocking(false).unwrap();
        socket
    };
    (&slow).write_all(format!("GET /_introspect/events HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes()).unwrap();
    page.until("the slow viewer's stream drawn backed up", |p| {
        p.eval(
            r#"!!document.querySelector('.comp[data-class="GraphEvents"]')
                && !!document.querySelector('.box.in[data-key$=":i:_handlerinbox"][data-depth="4"] .fill[data-level="high"][style*="100"]')"#,
        ) == true
    });
    if let Ok(path) = std::env::var("KAMAELIA_LIVE_SCREENSHOT") {
        // The whole page, down to the slow viewer's stream (at most 2,400 pixels of it), at the
        // window's width: the same layout as drawn, so the arrows stay on their boxes.
        let height = page.eval("document.documentElement.scrollHeight").as_f64().unwrap().min(2400.0);
        let clip = json!({ "x": 0, "y": 0, "width": 1400, "height": height, "scale": 1 });
        let shot = page
            .call("Page.captureScreenshot", json!({ "format": "png", "clip": clip, "captureBeyondViewport": true }));
        std::fs::write(&path, base64(shot["data"].as_str().unwrap())).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let held: Vec<Vec<TcpStream>> = load.into_iter().map(|t| t.join().unwrap()).collect();
    drop((held, slow));
    page.until("the page to catch up: the 200 connections and the slow viewer gone", |p| {
        p.drawn("ConnectedSocketAdapter") <= before && p.drawn("GraphEvents") == 1
    });
}
