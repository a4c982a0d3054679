//! The web server at its file-descriptor limit (issue 16, "Faults"): the binary runs under
//! `ulimit -n` low enough that clients fill its descriptors. It must go on serving the
//! connections it has, stop accepting without spinning (one warning for the episode), and serve
//! the clients waiting in the listen queue once others leave.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long anything here may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// The server's descriptor limit: its own needs (about 16 on one thread) and room for a few
/// dozen connections.
const LIMIT: usize = 48;

/// The server, under `ulimit -n`, killed when dropped; every line it logs is kept.
struct Server {
    child: Child,
    address: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Server {
        // The shell lowers its own limit, then becomes the server (same process id).
        let mut child = Command::new("sh")
            .args(["-c", r#"ulimit -n "$0" && exec "$@""#, &LIMIT.to_string(), env!("CARGO_BIN_EXE_kamaelia")])
            .args(["--port", "0", "--threads", "1"])
            .env("RUST_LOG", "info,kamaelia_chassis::server=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh and the server start");
        let stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        let mut server = Server { child, address: "127.0.0.1:1".parse().unwrap(), log };
        let line = server.wait_for_log("listening on ");
        let address = line.rsplit("listening on ").next().unwrap_or("").trim();
        server.address = address.parse().unwrap_or_else(|_| panic!("no address in {line:?}"));
        server
    }

    /// The first line logged so far that contains `needle`.
    fn logged(&self, needle: &str) -> Option<String> {
        self.log.lock().unwrap().iter().find(|l| l.contains(needle)).cloned()
    }

    /// Every line logged so far that contains `needle`.
    fn all_logged(&self, needle: &str) -> Vec<String> {
        self.log.lock().unwrap().iter().filter(|l| l.contains(needle)).cloned().collect()
    }

    fn wait_for_log(&self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(line) = self.logged(needle) {
                return line;
            }
            assert!(Instant::now() < end, "no log line containing {needle:?} within {DEADLINE:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n";

/// A keep-alive client, and what it has read of the current response.
struct Client {
    stream: TcpStream,
    read: Vec<u8>,
}

impl Client {
    fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address).expect("connect (the listen queue takes it)");
        Client { stream, read: Vec::new() }
    }

    fn ask(&mut self) {
        self.read.clear();
        self.stream.write_all(HELLO).expect("send a request");
    }

    /// Reads what has arrived within `wait`; true once a whole `/hello` response is in (it is
    /// chunked: its last chunk ends it).
    fn answered_within(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut piece = [0u8; 4096];
        match self.stream.read(&mut piece) {
            Ok(0) => panic!("the server closed a connection: {}", self.read.escape_ascii()),
            Ok(n) => self.read.extend_from_slice(&piece[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("reading a response: {e}"),
        }
        let whole = self.read.ends_with(b"\r\n0\r\n\r\n");
        if whole {
            assert!(self.read.starts_with(b"HTTP/1.1 200 OK\r\n"), "{}", self.read.escape_ascii());
        }
        whole
    }

    /// Waits (at most [`DEADLINE`]) for the whole response.
    fn answer(&mut self) {
        let end = Instant::now() + DEADLINE;
        while !self.answered_within(Duration::from_millis(100)) {
            assert!(Instant::now() < end, "no whole response within {DEADLINE:?}: {}", self.read.escape_ascii());
        }
    }
}

#[test]
fn out_of_descriptors_the_server_serves_the_connections_it_has_and_recovers() {
    let server = Server::start();
    let mut served = Vec::new();
    let mut waiting = Vec::new();
    // Clients one after another, each asking once, until the server can accept no more: the
    // warning says so, and that client's request waits in the listen queue.
    let end = Instant::now() + DEADLINE;
    while waiting.is_empty() {
        assert!(served.len() < LIMIT, "{} clients served under a limit of {LIMIT} descriptors", served.len());
        let mut client = Client::connect(server.address);
        client.ask();
        loop {
            if client.answered_within(Duration::from_millis(20)) {
                served.push(client);
                break;
            }
            if server.logged("cannot accept connections").is_some() {
                waiting.push(client);
                break;
            }
            assert!(Instant::now() < end, "neither an answer nor a warning within {DEADLINE:?}");
        }
    }
    assert!(served.len() >= 10, "only {} clients served before the limit", served.len());
    // A few more wait behind it.
    for _ in 0..4 {
        let mut client = Client::connect(server.address);
        client.ask();
        waiting.push(client);
    }
    // The connections it has are served, again and again, while it cannot accept.
    for round in 0..3 {
        for client in &mut served {
            client.ask();
            client.answer();
        }
        for client in &mut waiting {
            assert!(!client.answered_within(Duration::from_millis(1)), "round {round}: served without a descriptor?");
        }
    }
    // Clients leave: their descriptors come back, and the waiting clients are served.
    served.truncate(served.len() - waiting.len() - 1);
    for client in &mut waiting {
        client.answer();
    }
    server.wait_for_log("accepting connections again");
    for client in served.iter_mut().chain(&mut waiting) {
        client.ask();
        client.answer();
    }
    // One warning for the episode; every other failed attempt at debug level, and few of them
    // (a server that retried at once, spinning, would have made thousands).
    let warnings = server.all_logged("cannot accept connections");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains(" WARN "), "{}", warnings[0]);
    let retries = server.all_logged("accepting failed again").len();
    assert!(retries < 200, "{retries} failed attempts to accept in one episode");
}
