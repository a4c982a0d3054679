//! A console client for the echo server: what you type goes to the server, and what the server
//! sends back is printed.
//!
//! It shows a network hop as one more component in a pipeline: `ConsoleReader` (a threaded
//! component reading standard input) feeds `TCPClient`, which feeds `ConsoleEchoer`. Shutdown
//! travels in band: end of input (Ctrl-D) makes the reader send `ProducerFinished`, the client
//! sends what is queued and closes, and its own `ProducerFinished` ends the echoer. A connection
//! that cannot be made ends the pipeline the same way, and the program reports the error.
//!
//! The Kamaelia original:
//!
//! ```python
//! from Kamaelia.Chassis.Pipeline import Pipeline
//! from Kamaelia.Internet.TCPClient import TCPClient
//! from Kamaelia.Util.Console import ConsoleReader, ConsoleEchoer
//!
//! Pipeline(ConsoleReader(), TCPClient("127.0.0.1", 1500), ConsoleEchoer()).run()
//! ```
//!
//! Run the server, then the client, and type lines (Ctrl-D to end):
//!
//! ```text
//! cargo run --example echo_server
//! cargo run --example echo_client                          # talks to 127.0.0.1:1500
//! cargo run --example echo_client -- --host 127.0.0.1 --port 1600
//! ```
//!
//! The prompt is off (Kamaelia's `">>> "` would interleave with the echoes). Input piped in
//! ends the connection as soon as it ends, so echoes still on their way may be lost: the
//! Kamaelia-style echo server closes as soon as its client stops sending.

use std::process::ExitCode;

use kamaelia::axon::{Exit, Scheduler};
use kamaelia::chassis::console::{ConsoleEchoer, ConsoleReader};
use kamaelia::chassis::pipeline;
use kamaelia::chassis::tcp_client::TCPClient;

const USAGE: &str = "usage: echo_client [--host HOST] [--port PORT]
  --host HOST    the server's name or address (default 127.0.0.1)
  --port PORT    the server's port (default 1500)";

/// `--host` and `--port`, as `--name value` or `--name=value`.
fn parse_args() -> Result<(String, u16), String> {
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 1500);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        match name.as_str() {
            "--host" => host = value()?,
            "--port" => {
                let v = value()?;
                port = v.parse().map_err(|_| format!("--port: `{v}` is not a port number (0 to 65535)"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((host, port))
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let (host, port) = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("echo_client: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };

    let pipeline = pipeline![ConsoleReader::new().with_prompt(""), TCPClient::new(host, port), ConsoleEchoer::new()];
    let [_reader, client, echoer] = <[_; 3]>::try_from(pipeline.children()).expect("three children");
    let scheduler = Scheduler::new();
    scheduler.activate(pipeline);

    // The session is over when the echoer has ended (the connection ended, or could not be
    // made). Not `pipeline.run()`: the reader may be blocked reading a line that will never be
    // typed, and a blocking read cannot be interrupted; returning from `main` ends it.
    scheduler.runtime_handle().block_on(async {
        echoer.join().await;
        client.join().await
    });
    match client.exit() {
        Some(Exit::Failed(why)) => {
            eprintln!("echo_client: {why}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}
