//! `peer_actix`: the actix-web 4 peer of the HTTP suite (`bench/run.sh`). A minimal server with
//! `--workers N` workers (the suite's as many as our server's threads; one per core by default),
//! actix-web's defaults otherwise (keep-alive on). A connection serves at most `--max-requests N`
//! requests (the suite's cap, the same for every server; 10,000 by default, as ours): the last is
//! answered with `Connection: close`, and actix-web closes.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin peer_actix -- --port 8084 --workers 2
//! curl -si http://127.0.0.1:8084/hello
//! ```
//!
//! `GET /hello` answers what the cookbook server's `/hello` answers: status `200 OK`, the headers
//! `Date`, `Server`, `Transfer-Encoding: chunked` and `content-type: text/html`, and the body
//! `<html><body><h1>Hello World</h1><P>Woo!!</body></html>` in one chunk (a streaming body, which
//! actix-web frames in chunks). The bytes on the wire have the same length; actix-web writes
//! header names in lower case, `transfer-encoding` first and its own cached `date` last. Anything
//! else gets actix-web's default 404.

use std::cell::Cell;
use std::convert::Infallible;

use actix_web::http::header::{CONTENT_TYPE, SERVER};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use bytes::Bytes;

/// The cookbook's `/hello` body, byte for byte.
const HELLO: &[u8] = kamaelia_http::handlers::HELLO_PAGE.as_bytes();
/// The `Server` header our server sends, so that the heads have the same length.
const SERVER_NAME: &str = kamaelia_http::settings::DEFAULT_SERVER_NAME;
/// The requests a connection has made (its connection data, set when it is accepted).
struct Served(Cell<usize>);

/// The most requests a connection may make (app data).
struct Cap(usize);

async fn hello(request: HttpRequest, cap: web::Data<Cap>) -> HttpResponse {
    let served = request.conn_data::<Served>().map_or(1, |s| {
        s.0.set(s.0.get() + 1);
        s.0.get()
    });
    let mut response = HttpResponse::Ok();
    response.insert_header((SERVER, SERVER_NAME)).insert_header((CONTENT_TYPE, "text/html"));
    if served >= cap.0 {
        response.force_close();
    }
    response.streaming(futures_util::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(HELLO)) }))
}

/// The command line: `--port N` (8084), `--workers N` (0: one per core), `--max-requests N`
/// (10,000).
struct Options {
    port: u16,
    workers: usize,
    max_requests: usize,
}

fn options_from_args() -> std::io::Result<Options> {
    let mut options = Options { port: 8084, workers: 0, max_requests: 10_000 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
    let usage = || bad(format!("usage: peer_actix [--port N] [--workers N] [--max-requests N]; got {args:?}"));
    for pair in args.chunks(2) {
        let [flag, value] = pair else { return Err(usage()) };
        let number = |what: &str| value.parse::<usize>().map_err(|_| bad(format!("{flag}: `{value}` is not {what}")));
        match flag.as_str() {
            "--port" => {
                options.port = value.parse().map_err(|_| bad(format!("--port: `{value}` is not a port number")))?
            }
            "--workers" => options.workers = number("a worker count")?,
            "--max-requests" => options.max_requests = number("a request count")?.max(1),
            _ => return Err(usage()),
        }
    }
    Ok(options)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let options = options_from_args()?;
    let cap = web::Data::new(Cap(options.max_requests));
    let mut server = HttpServer::new(move || App::new().app_data(cap.clone()).route("/hello", web::get().to(hello)))
        .on_connect(|_connection, data| {
            data.insert(Served(Cell::new(0)));
        });
    if options.workers > 0 {
        server = server.workers(options.workers);
    }
    server.bind(("127.0.0.1", options.port))?.run().await
}
