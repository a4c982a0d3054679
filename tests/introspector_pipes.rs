//! The `Introspector` is an ordinary component: piped through a transformer that writes each
//! delta as a line of JSON, into a console echoer writing to a file, and into a TCP connection,
//! as `examples/introspector.rs` does. Each pipeline stops in band (a `ShutdownMicroprocess` to
//! its `control`), and every wait has a deadline.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use kamaelia::axon::introspect::GraphDelta;
use kamaelia::axon::introspector::Introspector;
use kamaelia::axon::ipc::ShutdownMicroprocess;
use kamaelia::axon::Exit;
use kamaelia::chassis::console::ConsoleEchoer;
use kamaelia::chassis::tcp_client::TCPClient;
use kamaelia::chassis::{pipeline, PureTransformer};
use kamaelia::http::Bytes;
use kamaelia::prelude::*;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(20);

fn json_line(delta: GraphDelta) -> Bytes {
    let mut line = serde_json::to_vec(&delta).unwrap();
    line.push(b'\n');
    Bytes::from(line)
}

/// Stops `pipeline` in band and waits for it to end.
fn stop(scheduler: &Scheduler, pipeline: &ComponentRef) {
    pipeline.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
    let ended = scheduler.runtime_handle().block_on(async { tokio::time::timeout(DEADLINE, pipeline.join()).await });
    assert_eq!(ended, Ok(Exit::Finished));
}

/// A component that appears once the watching has begun, for the lines to show.
fn marker() -> impl Component<Inbox = (), Outbox = ()> {
    from_fn("Marker", |mut ctx: Context<(), ()>| async move {
        ctx.control.recv().await;
        Ok(())
    })
}

#[test]
fn into_a_console_echoer_writing_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("graph.jsonl");
    let scheduler = Scheduler::new();
    let watching = scheduler.activate(pipeline![
        Introspector::new(Duration::from_millis(10)),
        PureTransformer::new(json_line),
        ConsoleEchoer::new().writing_to(std::fs::File::create(&path).unwrap()),
    ]);
    let marker = scheduler.activate(marker());
    let end = Instant::now() + DEADLINE;
    while !std::fs::read_to_string(&path).unwrap().contains(r#""class":"Marker""#) {
        assert!(Instant::now() < end, "the file never showed the Marker");
        std::thread::sleep(Duration::from_millis(10));
    }
    marker.stop();
    stop(&scheduler, &watching);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["full"], true);
    let classes: Vec<&str> =
        lines[0]["added"].as_array().unwrap().iter().map(|c| c["class"].as_str().unwrap()).collect();
    for class in ["Introspector", "PureTransformer", "ConsoleEchoer"] {
        assert!(classes.iter().any(|c| c.ends_with(class)), "{class} not in {classes:?}");
    }
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], n as u64, "one line a delta, in order");
    }
}

#[test]
fn into_a_tcp_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let scheduler = Scheduler::new();
    let watching = scheduler.activate(pipeline![
        Introspector::new(Duration::from_millis(10)),
        PureTransformer::new(json_line),
        TCPClient::new("127.0.0.1", port),
    ]);
    let (socket, _) = listener.accept().unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut lines = BufReader::new(socket).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!((&first["seq"], &first["full"]), (&Value::from(0), &Value::from(true)));
    let classes: Vec<&str> = first["added"].as_array().unwrap().iter().map(|c| c["class"].as_str().unwrap()).collect();
    assert!(classes.contains(&"TCPClient"), "{classes:?}");

    let marker = scheduler.activate(marker());
    let id = marker.id().get();
    loop {
        let line: Value = serde_json::from_str(&lines.next().expect("more lines").unwrap()).unwrap();
        if line["added"].as_array().unwrap().iter().any(|c| c["id"] == id) {
            break;
        }
    }
    marker.stop();
    loop {
        let line: Value = serde_json::from_str(&lines.next().expect("more lines").unwrap()).unwrap();
        if line["removed"].as_array().unwrap().contains(&Value::from(id)) {
            break;
        }
    }
    // Closed first: the client's socket lingers after a stop until its peer closes too.
    drop(lines);
    stop(&scheduler, &watching);
}
