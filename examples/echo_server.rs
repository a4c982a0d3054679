//! Kamaelia's classic echo server: every connection gets its own `EchoProtocol` component, which
//! sends back whatever the client sends.
//!
//! It shows a protocol written as a component (bytes in on `inbox`, bytes out of `outbox`,
//! shutdown passed on from `control` to `signal`), `SimpleServer` making one per connection, a
//! bind failure reported as an error, and a graceful shutdown on Ctrl-C or SIGTERM: the server
//! stops accepting, open connections get a grace period, and a second Ctrl-C stops at once.
//!
//! The Kamaelia original:
//!
//! ```python
//! from Kamaelia.Chassis.ConnectedServer import SimpleServer
//! from Kamaelia.Protocol.EchoProtocol import EchoProtocol
//!
//! SimpleServer(protocol=EchoProtocol, port=1500).run()
//! ```
//!
//! Run it, then poke it from another terminal:
//!
//! ```text
//! cargo run --example echo_server                      # listens on 127.0.0.1:1500
//! cargo run --example echo_server -- --port 1600 --listen 0.0.0.0
//! RUST_LOG=debug cargo run --example echo_server       # also log each connection
//!
//! nc 127.0.0.1 1500                                    # type lines; each comes back
//! cargo run --example echo_client                      # the Kamaelia client pipeline
//! ```
//!
//! A client that shuts down its sending side still gets every reply: `printf 'hi\n' | nc -N
//! 127.0.0.1 1500` prints `hi` (Kamaelia ended such a connection at once and dropped the reply).

use std::net::IpAddr;
use std::process::ExitCode;

use kamaelia::axon::prelude::*;
use kamaelia::chassis::server::SimpleServer;
use kamaelia::chassis::socket::Bytes;

/// Kamaelia's `EchoProtocol`: sends back whatever it receives. When anything arrives on
/// `control` (the server's notice that the socket closed, or its shutdown request) it first
/// echoes what is still queued, then passes the message on out of `signal`, which the server
/// links to the connection's socket adapter: the adapter writes everything, then closes.
struct EchoProtocol;

impl Component for EchoProtocol {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => ctx.outbox.send(bytes).await,
                Event::Control(msg) => {
                    for _ in 0..ctx.inbox.data_ready() {
                        let Ok(bytes) = ctx.inbox.try_recv() else { break };
                        ctx.outbox.send(bytes).await;
                    }
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

const USAGE: &str = "usage: echo_server [--port PORT] [--listen ADDRESS]
  --port PORT         the port to listen on (default 1500; 0 picks a free one)
  --listen ADDRESS    the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)";

/// `--port` and `--listen`, as `--name value` or `--name=value`.
fn parse_args() -> Result<(u16, Option<IpAddr>), String> {
    let (mut port, mut listen) = (1500, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        match name.as_str() {
            "--port" => {
                let v = value()?;
                port = v.parse().map_err(|_| format!("--port: `{v}` is not a port number (0 to 65535)"))?;
            }
            "--listen" => {
                let v = value()?;
                listen = Some(v.parse().map_err(|_| format!("--listen: `{v}` is not an IP address"))?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((port, listen))
}

/// Resolves on Ctrl-C, or on SIGTERM where there is such a thing.
async fn termination_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                log::warn!("cannot watch for SIGTERM ({e}); Ctrl-C still works");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let (port, listen) = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("echo_server: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };

    let mut server = SimpleServer::new(|| EchoProtocol, port);
    if let Some(address) = listen {
        server.socket_options.listen_address = address;
    }
    let server = match server.bind().await {
        Ok(server) => server,
        Err(e) => {
            log::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let handle = server.handle();
    println!(
        "echo server on {}: try `nc {} {}`; Ctrl-C to stop",
        server.local_addr(),
        server.local_addr().ip(),
        server.local_addr().port()
    );

    let scheduler = Scheduler::new();
    let running = scheduler.activate(server);
    tokio::select! {
        _ = termination_requested() => handle.shutdown(),
        _ = running.join() => {}
    }
    tokio::select! {
        _ = running.join() => {}
        _ = termination_requested() => {
            log::warn!("asked again: stopping every connection now");
            running.stop();
            running.join().await;
        }
    }
    let stats = handle.stats();
    log::info!("served {} connection(s); {} stopped after a grace period", stats.accepted, stats.stopped_after_grace);
    ExitCode::SUCCESS
}
