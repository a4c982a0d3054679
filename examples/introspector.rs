//! Watch a system run: an `Introspector` piped, like any component, into a console echoer (or a
//! TCP connection), printing each change to the running graph as a line of JSON while a small
//! system starts and stops workers beside it.
//!
//! The Kamaelia original sent its text to the `AxonVisualiser` over TCP:
//!
//! ```python
//! from Kamaelia.Chassis.Pipeline import Pipeline
//! from Kamaelia.Internet.TCPClient import TCPClient
//! from Kamaelia.Util.Introspector import Introspector
//!
//! Pipeline(Introspector(), TCPClient("127.0.0.1", 1500)).activate()
//! ```
//!
//! Here the pipeline is `Introspector`, a `PureTransformer` writing each delta as one line of
//! JSON (the wire form documented on `axon_core::introspect::GraphDelta`), and a `ConsoleEchoer`;
//! with `--tcp HOST:PORT` a `TCPClient` takes the echoer's place:
//!
//! ```text
//! cargo run --example introspector                     # lines on standard output, for 3 s
//! cargo run --example introspector -- --seconds 10
//! nc -l 1500 &  cargo run --example introspector -- --tcp 127.0.0.1:1500
//! ```
//!
//! The first line lists the whole graph (`"full":true`): the pipeline itself, its three
//! children, and the worker system. The next ones show workers being born (`added`), linked
//! (`links_added`), filling their inboxes (`depths`) and going (`removed`, `links_removed`).

use std::process::ExitCode;
use std::time::Duration;

use kamaelia::axon::introspect::GraphDelta;
use kamaelia::axon::introspector::Introspector;
use kamaelia::axon::ipc::ShutdownMicroprocess;
use kamaelia::chassis::console::ConsoleEchoer;
use kamaelia::chassis::tcp_client::TCPClient;
use kamaelia::chassis::{pipeline, PureTransformer};
use kamaelia::http::Bytes;
use kamaelia::prelude::*;

const USAGE: &str = "usage: introspector [--seconds N] [--tcp HOST:PORT]
  --seconds N      how long to watch (default 3)
  --tcp HOST:PORT  send the lines to a TCP server instead of standard output";

/// One delta as one line of JSON.
fn json_line(delta: GraphDelta) -> Bytes {
    let mut line = serde_json::to_vec(&delta).expect("a delta always serialises");
    line.push(b'\n');
    Bytes::from(line)
}

/// Starts a worker every few milliseconds, sends it a few numbers it is slow to read, and lets
/// it go: something for the introspector to see.
fn workers() -> impl Component<Inbox = (), Outbox = ()> {
    from_fn("Workers", |ctx: Context<(), ()>| async move {
        for round in 0u64.. {
            let worker = Instance::new(from_fn("Worker", |mut ctx: Context<u64, ()>| async move {
                while ctx.inbox.recv().await.is_some() {
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
                Ok(())
            }));
            let feeder = Instance::new(from_fn("Feeder", move |mut ctx: Context<(), u64>| async move {
                for n in 0..5 {
                    ctx.outbox.send(round * 10 + n).await;
                }
                Ok(())
            }));
            ctx.link((feeder.component(), "outbox"), (worker.component(), "inbox"))?;
            ctx.add_children([feeder.component(), worker.component()]);
            ctx.activate(worker);
            ctx.activate(feeder);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok(())
    })
}

fn main() -> ExitCode {
    let mut seconds = 3;
    let mut tcp = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--seconds", Some(n)) if n.parse::<u64>().is_ok() => seconds = n.parse().unwrap_or(3),
            ("--tcp", Some(address)) => match address.rsplit_once(':').map(|(h, p)| (h.to_owned(), p.parse::<u16>())) {
                Some((host, Ok(port))) => tcp = Some((host, port)),
                _ => {
                    eprintln!("introspector: --tcp: `{address}` is not HOST:PORT\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let scheduler = Scheduler::new();
    scheduler.activate(workers());
    let watch = Introspector::new(Duration::from_millis(100));
    let lines = PureTransformer::new(json_line);
    let watching = match tcp {
        None => scheduler.activate(pipeline![watch, lines, ConsoleEchoer::new()]),
        Some((host, port)) => scheduler.activate(pipeline![watch, lines, TCPClient::new(host, port)]),
    };
    std::thread::sleep(Duration::from_secs(seconds));
    // Shutdown travels in band: the introspector passes it on, and the rest of the pipeline ends.
    let _ = watching.deliver("control", Ipc::from(ShutdownMicroprocess::new()));
    let ended = scheduler.runtime_handle().block_on(watching.join());
    eprintln!("introspector: {ended}");
    ExitCode::SUCCESS
}
