//! Every component of kamaelia-http documents its boxes as Kamaelia did: its doc comment has an
//! `# Inboxes` and an `# Outboxes` table listing exactly the boxes it declares, each with the
//! description its declaration gives, word for word, and its docs have an `# Example` and a
//! `# How it works`.
//!
//! Each component is made, activated on a scheduler of its own and looked at through
//! [`Scheduler::introspect`](axon_core::Scheduler::introspect) before its body runs (the runtime
//! is a current-thread one, and nothing is awaited in between). Its source is read with
//! `include_str!`, and its tables parsed with the workspace's test support, the `box-tables`
//! crate, which axon-core's and kamaelia-chassis's tests use too. (The connection's handler host is
//! crate-private: `src/host.rs` checks it the same way in its unit tests.)

use std::sync::Arc;

use box_tables::{check, declared_boxes, DeclaredBox};
use kamaelia_http::http_server::shared_factory;
use kamaelia_http::{
    BodyEcho, Cat, EchoHandler, ErrorPages, ExampleWrapper, HTTPParser, HTTPRequestHandler, HTTPShutdownLogicHandling,
    HelloHandler, HttpSettings, Method, Minimal, Request, StatusCode,
};

/// A component to check: where its source is, its name there, and what it declares.
struct Case {
    file: &'static str,
    source: &'static str,
    name: &'static str,
    declared: Vec<DeclaredBox>,
}

fn request() -> Request {
    Request::new(Method::GET, "/")
}

#[tokio::test]
async fn every_component_lists_the_boxes_it_declares_word_for_word() {
    let settings = Arc::new(HttpSettings::default());
    let cases = [
        Case {
            file: "src/parser/mod.rs",
            source: include_str!("../src/parser/mod.rs"),
            name: "HTTPParser",
            declared: declared_boxes(HTTPParser::with_shared_settings(settings.clone(), None, None)),
        },
        Case {
            file: "src/request_handler/mod.rs",
            source: include_str!("../src/request_handler/mod.rs"),
            name: "HTTPRequestHandler",
            declared: declared_boxes(HTTPRequestHandler::new(shared_factory(HelloHandler::new), settings.clone())),
        },
        Case {
            file: "src/shutdown.rs",
            source: include_str!("../src/shutdown.rs"),
            name: "HTTPShutdownLogicHandling",
            declared: declared_boxes(HTTPShutdownLogicHandling),
        },
        Case {
            file: "src/error_pages.rs",
            source: include_str!("../src/error_pages.rs"),
            name: "ErrorPages",
            declared: declared_boxes(ErrorPages::website_error_page(StatusCode::NOT_FOUND, "Not here.")),
        },
        Case {
            file: "src/minimal/mod.rs",
            source: include_str!("../src/minimal/mod.rs"),
            name: "Minimal",
            declared: declared_boxes(Minimal::new(request(), "site", "index.html")),
        },
        Case {
            file: "src/handlers.rs",
            source: include_str!("../src/handlers.rs"),
            name: "HelloHandler",
            declared: declared_boxes(HelloHandler::new(request())),
        },
        Case {
            file: "src/handlers.rs",
            source: include_str!("../src/handlers.rs"),
            name: "Cat",
            declared: declared_boxes(Cat::new(request())),
        },
        Case {
            file: "src/handlers.rs",
            source: include_str!("../src/handlers.rs"),
            name: "ExampleWrapper",
            declared: declared_boxes(ExampleWrapper::<Request>::new()),
        },
        Case {
            file: "src/handlers.rs",
            source: include_str!("../src/handlers.rs"),
            name: "EchoHandler",
            declared: declared_boxes(EchoHandler::new(request())),
        },
        Case {
            file: "src/handlers.rs",
            source: include_str!("../src/handlers.rs"),
            name: "BodyEcho",
            declared: declared_boxes(BodyEcho::new(request())),
        },
    ];
    let problems: Vec<String> =
        cases.iter().flat_map(|case| check(case.file, case.source, case.name, &case.declared)).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) with the components' box tables:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
