//! The cookbook web server: `/echo`, `/hello`, and static files from the bundled site, on
//! 127.0.0.1:8082 (the third program of the Kamaelia HTTPServer cookbook page, with a command
//! line, access logging and a graceful stop). The bundled site is compiled into the program, so
//! a copy of it serves the same site from any directory, on any machine; `--root DIR` serves a
//! directory instead.
//!
//! ```text
//! cargo run --release                         # serves the bundled site on http://127.0.0.1:8082/
//! cargo run --release -- --help               # every option and limit
//! curl -i http://127.0.0.1:8082/hello
//! ```
//!
//! The command line, every option with its default, is `cli.rs`, a module of this program only.
//!
//! On SIGUSR1 (unix) the server logs one info line with what it holds now, for an operator or a
//! soak test (`bench/soak.sh`) to read from outside:
//!
//! ```text
//! kill -USR1 <pid>
//! [... INFO  kamaelia] stats: live_components=1 open_connections=0 accepted_connections=1207
//! ```
//!
//! `live_components` is [`Scheduler::live`]: the server's own component (1 when idle) and those
//! of its open connections (socket, protocol, request handlers). `open_connections` and
//! `accepted_connections` are the server's
//! [`ServerHandle::stats`](kamaelia::chassis::ServerHandle::stats). Requests are not counted: the
//! access log has one line per request.

mod cli;

use std::process::ExitCode;
use std::sync::Arc;

use kamaelia::axon::Scheduler;
use kamaelia::chassis::{ConnectionInfo, ServerHandle, SimpleServer, SocketOptions};
use kamaelia::http::http_server::shared_factory;
use kamaelia::http::{factory, request_handlers, EchoHandler, HTTPServer, HelloHandler, MinimalFactory};
use kamaelia::site::bundled_site;

use crate::cli::{Options, RuntimeKind};

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

/// The scheduler the server's components run on, as `--threads` and `--runtime` ask, and the
/// multi-threaded runtime it shares if it shares one.
fn scheduler(options: &Options) -> std::io::Result<(Scheduler, Option<tokio::runtime::Runtime>)> {
    match options.runtime {
        RuntimeKind::PerThread => Ok((Scheduler::per_thread(options.threads), None)),
        RuntimeKind::Shared => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            if options.threads > 0 {
                builder.worker_threads(options.threads);
            }
            let runtime = builder.enable_all().thread_name("axon-worker").build()?;
            Ok((Scheduler::on_runtime(runtime.handle().clone()), Some(runtime)))
        }
    }
}

/// From now on, logs [`stats_line`] on every SIGUSR1, for as long as the program runs. Called
/// before the server starts listening: a SIGUSR1 that is not watched ends the process.
fn report_stats_on_sigusr1(scheduler: &Scheduler, handle: &ServerHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::user_defined1()) {
            Ok(mut usr1) => {
                let (scheduler, handle) = (scheduler.clone(), handle.clone());
                // On the main thread, with the signal handling: it ends with the program.
                tokio::spawn(async move {
                    while usr1.recv().await.is_some() {
                        log::info!("{}", stats_line(&scheduler, &handle));
                    }
                });
            }
            Err(e) => log::warn!("cannot watch for SIGUSR1 ({e}): no stats on request"),
        }
    }
    #[cfg(not(unix))]
    let _ = (scheduler, handle);
}

/// What the server holds now, as SIGUSR1 logs it (see the module docs).
fn stats_line(scheduler: &Scheduler, handle: &ServerHandle) -> String {
    let stats = handle.stats();
    format!(
        "stats: live_components={} open_connections={} accepted_connections={}",
        scheduler.live(),
        stats.open,
        stats.accepted
    )
}

// The main thread only binds the port, starts the server and waits for a signal: the server's
// components run on the scheduler's threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = Options::from_env_or_exit();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let (site, serving) = match &options.root {
        Some(root) if !root.is_dir() => {
            log::error!("--root {}: not a directory", root.display());
            return ExitCode::from(2);
        }
        Some(root) => (MinimalFactory::new(options.index.clone(), root.clone()), root.display().to_string()),
        None => (
            MinimalFactory::embedded(options.index.clone(), bundled_site()),
            "the bundled site (compiled in)".to_owned(),
        ),
    };
    let site = site.with_file_io(options.file_io).with_sendfile(options.sendfile);
    let create_request_handler = shared_factory(request_handlers([
        ("/echo", factory(EchoHandler::new)),
        ("/hello", factory(HelloHandler::new)),
        ("/", factory(move |request| site.make(request))),
    ]));
    let http_settings = Arc::new(options.http.clone());
    // Each connection's addresses go on every request it makes (`peer`, `local`).
    let http_protocol = move |connection: &ConnectionInfo| {
        HTTPServer::with_settings(connection, create_request_handler.clone(), http_settings.clone())
    };
    let server = SimpleServer {
        socket_options: SocketOptions { listen_address: options.bind, reuse_address: true, ..SocketOptions::default() },
        settings: options.server.clone(),
        ..SimpleServer::new(http_protocol, options.port)
    };
    let server = match server.bind().await {
        Ok(server) => server,
        Err(e) => {
            log::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let handle = server.handle();
    log::info!("serving {serving} on http://{}/ (Ctrl-C to stop)", server.local_addr());

    let (scheduler, shared_runtime) = match scheduler(&options) {
        Ok(made) => made,
        Err(e) => {
            log::error!("cannot start the server's threads: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::debug!(
        "components run on {} thread(s), {}",
        scheduler.threads().or(shared_runtime.as_ref().map(|r| r.metrics().num_workers())).unwrap_or(0),
        if shared_runtime.is_some() { "sharing one runtime" } else { "a runtime each" }
    );
    report_stats_on_sigusr1(&scheduler, &handle);
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
    if let Some(runtime) = shared_runtime {
        runtime.shutdown_background();
    }
    ExitCode::SUCCESS
}
