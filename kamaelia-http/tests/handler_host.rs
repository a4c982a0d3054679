//! The connection's handler host (the request handler runs its handlers through the core's
//! `axon_core::host::ChildHost`): consecutive requests on a keep-alive connection have their
//! handlers run in one host component; what one handler leaves behind (unread body, children, a
//! failure) does not reach the next; the host goes when the connection idles, and with the
//! connection; `handler_host_idle: None` gives a component per request. Real sockets, as
//! elsewhere.

mod support;

use std::time::Duration;

use axon_core::ipc::ProducerFinished;
use axon_core::{from_fn, Component, ComponentResult, Context, Declarations};
use http::StatusCode;
use kamaelia_http::{factory, Bytes, Factory, HttpSettings, Request, Resource, ResponseHead};
use support::*;

/// Answers with the name of the component it runs in (its own, or its host's).
fn who_am_i() -> Factory {
    factory(|_r: Request| {
        from_fn("WhoAmI", |mut ctx: Context<Bytes, Resource>| async move {
            let name = ctx.name().to_owned();
            let head = ResponseHead::new(StatusCode::OK).content_type("text/plain").length(name.len() as u64);
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::from(name)).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// Answers at once, without reading the request body.
fn ignores_the_body() -> Factory {
    factory(|_r: Request| {
        from_fn("IgnoresBody", |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(2).into()).await;
            ctx.outbox.send("ok".into()).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// Starts a child that outlives it, then answers: it leaves something behind in a host. (A
/// component it only activates is not its child, and leaves nothing behind.)
fn leaves_a_child() -> Factory {
    factory(|_r: Request| {
        from_fn("LeavesAChild", |mut ctx: Context<Bytes, Resource>| async move {
            let child = ctx.activate(from_fn("Lingers", |mut child: Context<(), ()>| async move {
                // Until it is told to stop, or its box closes.
                let _ = child.control.recv().await;
                Ok(())
            }));
            ctx.add_child(&child);
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(2).into()).await;
            ctx.outbox.send("ok".into()).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// A handler with a box of its own: it cannot be hosted.
struct WithExtraBox;

impl Component for WithExtraBox {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.inbox::<u32>("extra", "a box beyond the standard four");
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let name = ctx.name().to_owned();
        ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(name.len() as u64).into()).await;
        ctx.outbox.send(Resource::from(name)).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Answers, then asks for its own component to be stopped (in a host: the host).
fn stops_itself() -> Factory {
    factory(|_r: Request| {
        from_fn("StopsItself", |mut ctx: Context<Bytes, Resource>| async move {
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(2).into()).await;
            ctx.outbox.send("ok".into()).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            ctx.me().stop();
            Ok(())
        })
    })
}

/// Answers and signals, then waits until it is dropped.
fn lingers_after_answering() -> Factory {
    factory(|_r: Request| {
        from_fn("Lingers", |mut ctx: Context<Bytes, Resource>| async move {
            let name = ctx.name().to_owned();
            ctx.outbox.send(ResponseHead::new(StatusCode::OK).length(name.len() as u64).into()).await;
            ctx.outbox.send(Resource::from(name)).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            std::future::pending::<()>().await;
            Ok(())
        })
    })
}

fn routes() -> Vec<(&'static str, Factory)> {
    vec![
        ("/selfstop", stops_itself()),
        ("/linger", lingers_after_answering()),
        ("/who", who_am_i()),
        ("/ignore", ignores_the_body()),
        ("/echo", buffered_echo()),
        ("/child", leaves_a_child()),
        ("/extra", factory(|_r: Request| WithExtraBox)),
        ("/pipeline", factory(kamaelia_http::EchoHandler::new)),
    ]
}

/// A long idle time, so that no test but the idle one sees its host go between two requests.
fn kept_long() -> HttpSettings {
    HttpSettings { handler_host_idle: Some(Duration::from_secs(30)), ..HttpSettings::default() }
}

async fn who(client: &mut Client) -> String {
    client.send(request("GET", "/who", "")).await;
    let response = client.response().await;
    response.assert_status(200);
    response.text()
}

/// Names of the live components that are handler hosts.
fn hosts(server: &TestServer) -> Vec<String> {
    server.scheduler.components().iter().map(|c| c.name().to_owned()).filter(|n| n.starts_with("HandlerHost")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connections_requests_are_answered_in_one_host() {
    let server = serve(routes(), kept_long()).await;
    let mut client = server.connect().await;
    let first = who(&mut client).await;
    assert!(first.starts_with("HandlerHost_"), "the handler ran in {first}");
    for _ in 0..5 {
        assert_eq!(who(&mut client).await, first);
    }
    // Another connection has a host of its own.
    let mut other = server.connect().await;
    let second = who(&mut other).await;
    assert!(second.starts_with("HandlerHost_") && second != first, "{second} vs {first}");
    assert_eq!(hosts(&server).len(), 2, "{}", server.describe_components());
    // The hosts go with their connections.
    drop(client);
    drop(other);
    server.wait_idle("the connections and their hosts to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_host_every_request_has_a_component_of_its_own() {
    let settings = HttpSettings { handler_host_idle: None, ..HttpSettings::default() };
    let server = serve(routes(), settings).await;
    let mut client = server.connect().await;
    let first = who(&mut client).await;
    let second = who(&mut client).await;
    assert!(first.starts_with("WhoAmI_") && second.starts_with("WhoAmI_") && first != second, "{first}, {second}");
    assert!(hosts(&server).is_empty(), "{}", server.describe_components());
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_lets_its_host_go_and_gets_a_new_one() {
    let settings = HttpSettings { handler_host_idle: Some(Duration::from_millis(50)), ..HttpSettings::default() };
    let server = serve(routes(), settings).await;
    let mut client = server.connect().await;
    let first = who(&mut client).await;
    wait_until("the idle connection's host to end", || hosts(&server).is_empty()).await;
    assert!(client.is_open().await, "the connection closed with its host");
    let second = who(&mut client).await;
    assert!(second.starts_with("HandlerHost_") && second != first, "{second} after {first}");
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_the_last_handler_did_not_read_does_not_reach_the_next() {
    let server = serve(routes(), kept_long()).await;
    let mut client = server.connect().await;
    for round in 0..20 {
        // The first handler answers before its body has been read (and perhaps before it
        // arrives): the server reads and drops the rest.
        let body = format!("stale body {round} ").repeat(200);
        let head = format!("POST /ignore HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n", body.len());
        client.send(format!("{head}{body}")).await;
        let response = client.response_to("POST").await;
        response.assert_status(200);
        assert_eq!(response.text(), "ok");
        let fresh = format!("fresh {round}");
        let echo = format!("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{fresh}", fresh.len());
        client.send(echo).await;
        let response = client.response_to("POST").await;
        response.assert_status(200);
        assert_eq!(response.text(), fresh, "round {round}");
    }
    assert_eq!(hosts(&server).len(), 1, "{}", server.describe_components());
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_leaves_a_child_behind_gets_its_host_replaced() {
    let server = serve(routes(), kept_long()).await;
    let mut client = server.connect().await;
    let before = who(&mut client).await;
    client.send(request("GET", "/child", "")).await;
    client.response().await.assert_status(200);
    let after = who(&mut client).await;
    assert!(after.starts_with("HandlerHost_") && after != before, "{after} after {before}");
    // The child lives on, as an orphan does when its parent ends; the old host has gone.
    wait_until("the old host to end", || !hosts(&server).contains(&before)).await;
    assert!(
        server.scheduler.components().iter().any(|c| c.name().starts_with("Lingers")),
        "{}",
        server.describe_components()
    );
    drop(client);
    for c in server.scheduler.components().iter().filter(|c| c.name().starts_with("Lingers")) {
        c.stop();
    }
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosted_and_unhostable_handlers_take_turns_on_one_connection() {
    let server = serve(routes(), kept_long()).await;
    let mut client = server.connect().await;
    for _ in 0..3 {
        let hosted = who(&mut client).await;
        assert!(hosted.starts_with("HandlerHost_"), "{hosted}");
        // A handler with a box of its own is a component of its own; the host goes first.
        client.send(request("GET", "/extra", "")).await;
        let response = client.response().await;
        response.assert_status(200);
        assert!(response.text().contains("WithExtraBox_"), "{}", response.text());
        // A prefab (a Pipeline) likewise.
        client.send(request("GET", "/pipeline", "")).await;
        let response = client.response().await;
        response.assert_status(200);
        assert!(response.text().contains("/pipeline"), "{}", response.text());
    }
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_handler_that_panics_gets_a_500_and_the_next_request_a_new_host() {
    fn explode() {
        panic!("hosted boom");
    }
    let mut routes = routes();
    routes.push((
        "/panic",
        factory(|_r: Request| {
            from_fn("HostedPanic", |_ctx: Context<Bytes, Resource>| async move {
                explode();
                Ok(())
            })
        }),
    ));
    let server = serve(routes, kept_long()).await;
    let mut client = server.connect().await;
    let before = who(&mut client).await;
    client.send(request("GET", "/panic", "")).await;
    let response = client.response().await;
    response.assert_status(500);
    // A 500 from a handler's failure closes the connection.
    client.assert_closed().await;
    let failures = server.scheduler.failures();
    assert!(
        failures
            .iter()
            .any(|f| f.name.starts_with("HostedPanic (hosted by ") && f.name.ends_with(&format!("{before})"))),
        "{failures:?}"
    );
    let mut client = server.connect().await;
    let after = who(&mut client).await;
    assert!(after.starts_with("HandlerHost_") && after != before);
    drop(client);
    server.wait_idle("the connections to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_stops_its_host_does_not_take_the_next_pipelined_request_with_it() {
    let server = serve(routes(), kept_long()).await;
    let mut client = server.connect().await;
    for _ in 0..20 {
        // Both in one write: the second is handed over as soon as the first is answered.
        client.send(format!("{}{}", request("GET", "/selfstop", ""), request("GET", "/who", ""))).await;
        client.response().await.assert_status(200);
        let response = client.response().await;
        response.assert_status(200);
        assert!(response.text().starts_with("HandlerHost_"), "{}", response.text());
    }
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_dropped_after_it_answered_leaves_its_host_for_the_next() {
    let server = serve(routes(), kept_long()).await;
    let mut client = server.connect().await;
    let mut names = std::collections::HashSet::new();
    for _ in 0..10 {
        client.send(request("GET", "/linger", "")).await;
        let response = client.response().await;
        response.assert_status(200);
        names.insert(response.text());
    }
    assert_eq!(names.len(), 1, "{names:?}");
    drop(client);
    server.wait_idle("the connection to end").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_idle_time_means_no_host_and_a_huge_one_is_for_ever() {
    for (keep, hosted) in [(Duration::ZERO, false), (Duration::MAX, true)] {
        let settings = HttpSettings { handler_host_idle: Some(keep), ..HttpSettings::default() };
        let server = serve(routes(), settings).await;
        let mut client = server.connect().await;
        let name = who(&mut client).await;
        assert_eq!(name.starts_with("HandlerHost_"), hosted, "{keep:?}: {name}");
        assert_eq!(who(&mut client).await.starts_with("HandlerHost_"), hosted, "{keep:?}");
        drop(client);
        server.wait_idle("the connection to end").await;
        server.stop().await;
    }
}
