//! The crate's examples, run as a user runs them: `actix_pipeline` with its standard input piped
//! in, `actix_web_graph` as a server on a free port (`--port 0`, the address read from its log)
//! asked over TCP with raw HTTP/1.1 requests.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long anything here may take before the test fails (never reached when things work).
const DEADLINE: Duration = Duration::from_secs(30);

fn example(name: &str) -> PathBuf {
    // Integration tests run from target/<profile>/deps; cargo builds examples next door.
    let deps = std::env::current_exe().expect("test binary path");
    let profile = deps.parent().and_then(|p| p.parent()).expect("target/<profile>");
    profile.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A running program, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `child` to exit, within [`DEADLINE`].
fn wait_within(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < end, "the program did not exit within {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_actix_pipeline_numbers_and_shouts_each_line_of_its_input() {
    let mut child = Command::new(example("actix_pipeline"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    let mut stdin = child.stdin.take().unwrap();
    // Many lines, written while the output is read, so that the boxes fill and empty.
    let writer = std::thread::spawn(move || {
        for i in 0..500 {
            writeln!(stdin, "line {i}, quietly").unwrap();
        }
        // Dropped: end of input, which ends the pipeline.
    });
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    writer.join().unwrap();
    let status = wait_within(&mut child);
    assert!(status.success(), "{status}");
    // ConsoleReader's prompt comes before each line it reads (it reads ahead of the echo).
    let cleaned = out.replace(">>> ", "");
    let lines: Vec<&str> = cleaned.lines().collect();
    assert_eq!(lines.len(), 500, "{out}");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(*line, format!("{}: LINE {i}, QUIETLY", i + 1));
    }
}

/// Starts `actix_web_graph --port 0` and reads the address it listens on from its log.
fn start_web() -> (Running, SocketAddr) {
    let mut child = Command::new(example("actix_web_graph"))
        .args(["--port", "0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let running = Running(child);
    let end = Instant::now() + DEADLINE;
    loop {
        let line =
            rx.recv_timeout(end.saturating_duration_since(Instant::now())).expect("the server logs where it listens");
        if let Some(at) = line.find("listening on http://") {
            let addr = line[at + "listening on http://".len()..].trim().parse().expect("an address");
            return (running, addr);
        }
    }
}

#[test]
fn the_actix_web_handler_forwards_each_body_to_the_graph_and_answers_with_its_reply() {
    let (_server, addr) = start_web();
    let (status, body) = common::request(addr, "POST", "/shout", b"  hello, components \n");
    assert_eq!((status, String::from_utf8_lossy(&body).as_ref()), (200, "HELLO, COMPONENTS!\n"));
    // Many clients at once: each gets the answer to its own body.
    let clients: Vec<_> = (0..16)
        .map(|c| {
            std::thread::spawn(move || {
                for i in 0..10 {
                    let (status, body) =
                        common::request(addr, "POST", "/shout", format!("client {c} asks {i}").as_bytes());
                    assert_eq!(status, 200);
                    assert_eq!(String::from_utf8_lossy(&body), format!("CLIENT {c} ASKS {i}!\n"));
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    // Bad requests get actix-web's answers: too large a body, no such route.
    let (status, _) = common::request(addr, "POST", "/shout", &vec![b'a'; 64 * 1024 + 1]);
    assert_eq!(status, 413);
    let (status, _) = common::request(addr, "POST", "/nonesuch", b"x");
    assert_eq!(status, 404);
}

#[test]
fn the_actix_web_example_refuses_a_bad_port_saying_why() {
    let output = Command::new(example("actix_web_graph")).args(["--port", "eighty"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--port takes a port number from 0 to 65535, not \"eighty\""), "{stderr}");
}
