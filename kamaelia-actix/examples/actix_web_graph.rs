//! An actix-web handler that forwards each request body to a component graph and answers with
//! what the graph sends back.
//!
//! ```text
//! actix-web ── POST /shout ──▶ handler ──ComponentAddr::send──▶ Pipeline[Trim, Upper, Exclaim]
//!                              handler ◀──────── answer ──────── (one per message, in order)
//! ```
//!
//! The graph is a [`Pipeline`](kamaelia_chassis::Pipeline) of three `PureTransformer`s, made and
//! activated on an axon [`Scheduler`] before actix-web starts (so it runs on the scheduler's
//! runtime, not on actix-web's workers). Each actix-web worker shares one [`ComponentAddr`] to
//! it: a handler's `send` waits while the pipeline's inbox is full (the box's bound holds across
//! the two frameworks), and each request gets its own answer. If the graph has ended, the handler
//! answers 503 with the reason.
//!
//! Run it with:
//!
//! ```text
//! cargo run -p kamaelia-actix --example actix_web_graph -- --port 8090
//! curl -d 'hello, components' http://127.0.0.1:8090/shout     # HELLO, COMPONENTS!
//! ```
//!
//! `--port 0` picks a free port; the address is logged (`listening on http://...`).

use actix_web::{web, App, HttpResponse, HttpServer};
use axon_core::Scheduler;
use bytes::Bytes;
use kamaelia_actix::ComponentAddr;
use kamaelia_chassis::{pipeline, PureTransformer};

/// The largest request body the handler takes, in bytes; a larger one is answered 413 by
/// actix-web (its payload limit, set here to this).
const MAX_BODY: usize = 64 * 1024;

/// The graph's address, shared by the workers.
type Graph = ComponentAddr<Bytes, Bytes>;

/// POST /shout: the body through the graph.
async fn shout(graph: web::Data<Graph>, body: web::Bytes) -> HttpResponse {
    match graph.send(body).await {
        Ok(answer) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(answer),
        Err(e) => HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body(format!("{e}\n")),
    }
}

/// The command line: `--port N` (default 8090).
fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 8090;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value (a port number, 0 for any free port)")?;
                port =
                    value.parse().map_err(|_| format!("--port takes a port number from 0 to 65535, not {value:?}"))?;
            }
            "--help" | "-h" => {
                println!(
                    "actix_web_graph [--port N]: POST /shout forwards the body to a component graph \
                     (request bodies up to {MAX_BODY} bytes; default port 8090, 0 for any free port)"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(port)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let port = match port() {
        Ok(port) => port,
        Err(e) => {
            eprintln!("actix_web_graph: {e}");
            std::process::exit(2);
        }
    };

    // The graph, on the scheduler's own runtime.
    let scheduler = Scheduler::new();
    let graph = pipeline![
        PureTransformer::new(|b: Bytes| Bytes::copy_from_slice(b.trim_ascii())),
        PureTransformer::new(|b: Bytes| Bytes::from(b.to_ascii_uppercase())),
        PureTransformer::new(|b: Bytes| Bytes::from([&b[..], b"!\n"].concat())),
    ];
    let graph: Graph = ComponentAddr::new(graph, &scheduler);

    // actix-web, in an actix System of its own on this thread.
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(graph.clone()))
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route("/shout", web::post().to(shout))
        })
        .workers(2)
        .bind(("127.0.0.1", port))?;
        for addr in server.addrs() {
            log::info!("listening on http://{addr}");
        }
        server.run().await
    })?;
    Ok(())
}
