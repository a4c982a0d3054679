//! Connections that end the ordinary ways (the client closes an idle keep-alive connection, asks
//! to close, vanishes mid-response, or is idle too long) drop no message unread: the components
//! of a connection discard what they discard on purpose, so the scheduler's record of lost
//! messages (`Scheduler::lost_messages`, logged as warnings) stays empty.

mod support;

use std::time::Duration;

use kamaelia_http::HttpSettings;
use support::*;

/// Asserts that no component of `server` ended with messages unread.
#[track_caller]
fn assert_nothing_lost(server: &TestServer, after: &str) {
    let lost = server.scheduler.lost_messages();
    assert!(lost.is_empty(), "after {after}, components ended with messages unread: {lost:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_closed_by_its_client_loses_no_message() {
    let server = serve_routes(describe_everything()).await;
    for round in 0..20 {
        let mut client = server.connect().await;
        for i in 0..3 {
            client.send(request("GET", &format!("/{round}/{i}"), "")).await;
            client.response().await.assert_status(200);
        }
        // The client closes its idle connection: a FIN, with nothing in flight.
        drop(client);
    }
    server.wait_idle("every connection to end").await;
    assert_nothing_lost(&server, "clients closing idle keep-alive connections");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_close_request_loses_no_message() {
    let server = serve_routes(describe_everything()).await;
    for round in 0..20 {
        let mut client = server.connect().await;
        client.send(request("GET", &format!("/a/{round}"), "")).await;
        client.response().await.assert_status(200);
        client.send(request("GET", &format!("/b/{round}"), "Connection: close\r\n")).await;
        client.response().await.assert_header("connection", "close");
        client.assert_closed().await;
    }
    // Pipelined behind a close: the last request is never answered, on purpose.
    for round in 0..20 {
        let mut client = server.connect().await;
        let last = request("GET", &format!("/last/{round}"), "Connection: close\r\n");
        client.send([last, request("GET", "/ignored", ""), request("GET", "/ignored", "")].concat()).await;
        client.response().await.assert_status(200);
        client.assert_closed().await;
    }
    // A body the response does not need, still arriving when the response closes the connection.
    let body = vec![b'x'; 256 * 1024];
    for round in 0..10 {
        let mut client = server.connect().await;
        let head = request(
            "POST",
            &format!("/upload/{round}"),
            &format!("Content-Length: {}\r\nConnection: close\r\n", body.len()),
        );
        client.send(head).await;
        // (The server may close before it has read it all: a failed write is no failure here.)
        let _ = client.try_send(&body).await;
        client.response().await.assert_status(200);
        client.read_to_eof().await;
    }
    server.wait_idle("every connection to end").await;
    assert_nothing_lost(&server, "requests with Connection: close");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_or_aborts_loses_no_message() {
    let server = serve_routes(describe_everything()).await;
    for round in 0..20 {
        // A request, then a half-close: the response still comes, then the close.
        let mut client = server.connect().await;
        client.send(request("GET", &format!("/half/{round}"), "")).await;
        client.shutdown_write().await;
        client.response().await.assert_status(200);
        client.assert_closed().await;
        // Pipelined requests, then a reset before reading anything.
        let mut client = server.connect().await;
        client.send(request("GET", &format!("/abort/{round}"), "").repeat(4)).await;
        client.reset();
        // A head cut off in the middle.
        let mut client = server.connect().await;
        client.send("GET /cut HTTP/1.1\r\nHost: te").await;
        drop(client);
    }
    server.wait_idle("every connection to end").await;
    assert_nothing_lost(&server, "clients half-closing and aborting");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_timed_out_loses_no_message() {
    let settings = HttpSettings { keep_alive_timeout: Duration::from_millis(200), ..HttpSettings::default() };
    let server = serve(describe_everything(), settings).await;
    let mut clients = Vec::new();
    for round in 0..10 {
        let mut client = server.connect().await;
        client.send(request("GET", &format!("/{round}"), "")).await;
        client.response().await.assert_status(200);
        clients.push(client);
    }
    for mut client in clients {
        client.assert_closed().await;
    }
    server.wait_idle("every connection to end").await;
    assert_nothing_lost(&server, "idle connections timed out");
    server.stop().await;
}
