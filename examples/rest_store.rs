//! A small key-value store over HTTP whose handlers are components, routed by method and path
//! with `Routes`: what Kamaelia's users asked for ("the handler needs to differentiate HTTP
//! methods", "support for DELETE and PUT will be a must have").
//!
//! ```text
//! cargo run --example rest_store                      # on 127.0.0.1:8082
//! cargo run --example rest_store -- --port 8090 --max-body 1048576
//! curl -i -X PUT -H 'Content-Type: text/plain' --data-binary 'hello' http://127.0.0.1:8082/items/greeting
//! curl -i http://127.0.0.1:8082/items/greeting         # 200, text/plain, hello
//! curl -i http://127.0.0.1:8082/items                  # the keys, one a line
//! curl -i -X DELETE http://127.0.0.1:8082/items/greeting
//! curl -i -X POST http://127.0.0.1:8082/items/greeting # 405, Allow: GET, PUT, DELETE, HEAD, OPTIONS
//! ```
//!
//! | request | answer |
//! |---|---|
//! | `PUT /items/{key}` | stores the body with its `Content-Type`: `201 Created` when new, `204 No Content` when replaced |
//! | `GET /items/{key}` | the same bytes and type; `404` when absent |
//! | `DELETE /items/{key}` | `204`, then `404` |
//! | `GET /items` | the keys, one a line, `text/plain` |
//! | anything else on those paths | `405` with `Allow` (from `Routes`) |
//! | a body over `--max-body` bytes | `413 Content Too Large` (from the server, before the handler sees it) |
//!
//! Each handler is a component made per request, as in Kamaelia's cookbook: `PutItem` reads the
//! body from its `inbox` until the `ProducerFinished` on `control`, stores it, and answers.

mod cookbook;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use clap::Parser;
use kamaelia::axon::ipc::ProducerFinished;
use kamaelia::axon::{Component, ComponentResult, Context, Event, Instance};
use kamaelia::chassis::{ConnectionInfo, Graphline, SimpleServer, SocketOptions};
use kamaelia::http::http_server::shared_factory;
use kamaelia::http::routes::{get, Routes};
use kamaelia::http::{
    Bytes, ErrorPages, HTTPServer, HttpSettings, Payload, Request, Resource, ResponseHead, StatusCode,
};

/// What the store holds for a key: the body and its type.
#[derive(Clone)]
struct Item {
    content_type: String,
    body: Bytes,
}

/// The store, shared by every connection's handlers.
type Store = Arc<Mutex<BTreeMap<String, Item>>>;

/// `PUT /items/{key}`: stores the request body.
struct PutItem {
    store: Store,
    key: String,
    content_type: String,
}

impl Component for PutItem {
    type Inbox = Bytes;
    type Outbox = Resource;

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        // The body arrives in pieces on `inbox`; the ProducerFinished after the last of them.
        let mut body = Vec::new();
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(piece) => body.extend_from_slice(&piece),
                Event::Control(_) => break,
            }
        }
        let item = Item { content_type: self.content_type, body: Bytes::from(body) };
        let replaced = self.store.lock().expect("the store").insert(self.key, item).is_some();
        let status = if replaced { StatusCode::NO_CONTENT } else { StatusCode::CREATED };
        ctx.outbox.send(ResponseHead::new(status).length(0).into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Sends one answer, a head and perhaps a body, whatever the request: what `GET` and `DELETE`
/// decide from the store before the component exists.
struct Answer {
    head: ResponseHead,
    body: Option<Bytes>,
}

impl Component for Answer {
    type Inbox = Bytes;
    type Outbox = Resource;

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        ctx.outbox.send(self.head.into()).await;
        if let Some(body) = self.body {
            ctx.outbox.send(Resource::Data(body)).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

fn not_found(key: &str) -> ErrorPages {
    ErrorPages::website_error_page(StatusCode::NOT_FOUND, format!("There is no item {key:?}."))
}

/// The table: one route with three methods, and the list.
fn routes(store: Store) -> Routes {
    let (put_store, get_store, delete_store, list_store) = (store.clone(), store.clone(), store.clone(), store);
    let put = move |r: Request| PutItem {
        store: put_store.clone(),
        key: r.param("key").unwrap_or_default().to_owned(),
        content_type: r.header("content-type").unwrap_or("application/octet-stream").to_owned(),
    };
    let get_item = move |r: Request| -> kamaelia::http::Handler {
        let key = r.param("key").unwrap_or_default();
        match get_store.lock().expect("the store").get(key) {
            Some(item) => {
                let head =
                    ResponseHead::new(StatusCode::OK).content_type(&item.content_type).length(item.body.len() as u64);
                Answer { head, body: Some(item.body.clone()) }.into()
            }
            None => not_found(key).into(),
        }
    };
    let delete = move |r: Request| -> kamaelia::http::Handler {
        let key = r.param("key").unwrap_or_default();
        match delete_store.lock().expect("the store").remove(key) {
            Some(_) => Answer { head: ResponseHead::new(StatusCode::NO_CONTENT), body: None }.into(),
            None => not_found(key).into(),
        }
    };
    let list = move |_: Request| {
        let keys: String = list_store.lock().expect("the store").keys().map(|k| format!("{k}\n")).collect();
        let head =
            ResponseHead::new(StatusCode::OK).content_type("text/plain; charset=utf-8").length(keys.len() as u64);
        Answer { head, body: Some(Bytes::from(keys)) }
    };
    Routes::new()
        .route("/items/{key}", get(get_item).put(put).delete(delete))
        .and_then(|routes| routes.route("/items", get(list)))
        .expect("the routes do not conflict")
}

/// The example's command line: the cookbook's, and the body limit.
#[derive(Debug, Parser)]
struct StoreOptions {
    #[command(flatten)]
    server: cookbook::Options,
    /// the largest body a PUT may send, in bytes (past it: 413)
    #[arg(long, value_name = "BYTES", default_value_t = kamaelia::http::settings::DEFAULT_MAX_BODY)]
    max_body: u64,
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = StoreOptions::parse();
    let create_request_handler = shared_factory(routes(Store::default()).into_factory());
    let settings = Arc::new(HttpSettings { max_body: options.max_body, ..HttpSettings::default() });
    let http_protocol = move |connection: &ConnectionInfo| -> Instance<Graphline<Bytes, Payload>> {
        HTTPServer::with_settings(connection, create_request_handler.clone(), settings.clone())
    };
    let server = SimpleServer {
        socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
        ..SimpleServer::new(http_protocol, options.server.port)
    };
    if let Err(e) = Instance::new(server).run() {
        log::error!("{e}");
        std::process::exit(1);
    }
}
