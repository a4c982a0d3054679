//! Every component of kamaelia-chassis documents its boxes as Kamaelia did: its doc comment has
//! an `# Inboxes` and an `# Outboxes` table listing exactly the boxes it declares, each with the
//! description its declaration gives, word for word, and its docs (or its module's) have an
//! `# Example` that runs and a `# How it works`. A module's doc that repeats the tables is held to
//! the same boxes.
//!
//! Each component is made as its docs show, activated on a scheduler of its own and looked at
//! through [`Scheduler::introspect`](axon_core::Scheduler::introspect) before its body runs (the
//! runtime is a current-thread one, and nothing is awaited in between). Its source is read with
//! `include_str!`, and its tables parsed with the workspace's test support, the `box-tables`
//! crate.
//!
//! What this does not cover: boxes a component adds while it runs, which the docs describe in
//! prose: a Graphline's `_cs_<name>` outboxes (one per child whose `control` is not linked), a
//! Backplane's `_data_<id>` and `_control_<id>` outboxes (one pair per subscriber), a server's
//! `protocolHandlerShutdownSignal*` and `connectedSocketShutdownSignal*` outboxes (one pair per
//! connection). A Graphline's boxes named by `("self", X)` linkages are named by its user: a
//! second test makes one and checks that the box takes its child's box's type and description, as
//! the docs say. A few components describe a box otherwise when made another way (a forwarding
//! `PublishTo` or `ConsoleEchoer`, a `PAR` that discards its `inbox`): the tables show the usual
//! way, and a third test checks that the doc quotes the other descriptions word for word.

use std::io::Cursor;

use axon_core::prelude::*;
use axon_core::BoxKind;
use box_tables::{check_under, declared_boxes, item_doc, plain, DeclaredBox};
use kamaelia_chassis::graphline::child;
use kamaelia_chassis::socket::Bytes;
use kamaelia_chassis::{pipeline, Seq};
use kamaelia_chassis::{
    Backplane, Carousel, ConnectedSocketAdapter, ConnectionInfo, ConsoleEchoer, ConsoleReader, Filter, Graphline,
    PublishTo, PureTransformer, ServerCore, SimpleServer, SubscribeTo, TCPClient, PAR,
};

/// A component to check: where its source is, its name there, what it declares, and the module
/// that tells its story if that is not its own file's.
struct Case {
    file: &'static str,
    source: &'static str,
    name: &'static str,
    declared: Vec<DeclaredBox>,
    module: Option<(&'static str, &'static str)>,
}

const BACKPLANE: Option<(&str, &str)> = Some(("src/backplane/mod.rs", include_str!("../src/backplane/mod.rs")));
const SERVER: Option<(&str, &str)> = Some(("src/server/mod.rs", include_str!("../src/server/mod.rs")));

/// A child for the chassis: ends at once.
fn quiet<I: Send + 'static, O: Send + 'static>() -> impl Component<Inbox = I, Outbox = O> {
    from_fn("Quiet", |_ctx: Context<I, O>| async { Ok(()) })
}

/// A protocol for the servers: bytes in, bytes out.
fn echo() -> impl Component<Inbox = Bytes, Outbox = Bytes> {
    from_fn("Echo", |mut ctx: Context<Bytes, Bytes>| async move {
        while let Some(bytes) = ctx.inbox.recv().await {
            ctx.outbox.send(bytes).await;
        }
        Ok(())
    })
}

#[tokio::test]
async fn every_component_lists_the_boxes_it_declares_word_for_word() {
    // A connected socket for the adapter, and a bound server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stream = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let bound = SimpleServer::new(echo, 0).bind().await.unwrap();

    let cases = [
        Case {
            file: "src/pipeline.rs",
            source: include_str!("../src/pipeline.rs"),
            name: "Pipeline",
            declared: declared_boxes(pipeline![quiet::<u8, u8>(), quiet::<u8, u8>()]),
            module: None,
        },
        Case {
            file: "src/graphline.rs",
            source: include_str!("../src/graphline.rs"),
            name: "Graphline",
            declared: declared_boxes(Graphline::new([("A", child(quiet::<(), ()>()))], []).unwrap()),
            module: None,
        },
        Case {
            file: "src/carousel.rs",
            source: include_str!("../src/carousel.rs"),
            name: "Carousel",
            declared: declared_boxes(Carousel::new(|_: String| quiet::<u8, u8>(), false)),
            module: None,
        },
        Case {
            file: "src/seq.rs",
            source: include_str!("../src/seq.rs"),
            name: "Seq",
            declared: declared_boxes(Seq::new().then(quiet::<u8, u8>())),
            module: None,
        },
        Case {
            file: "src/par.rs",
            source: include_str!("../src/par.rs"),
            name: "PAR",
            declared: declared_boxes(PAR::new().with(quiet::<u8, u8>())),
            module: None,
        },
        Case {
            file: "src/backplane/splitter.rs",
            source: include_str!("../src/backplane/splitter.rs"),
            name: "Backplane",
            declared: declared_boxes(Backplane::<u8>::new("Numbers")),
            module: BACKPLANE,
        },
        Case {
            file: "src/backplane/publish.rs",
            source: include_str!("../src/backplane/publish.rs"),
            name: "PublishTo",
            declared: declared_boxes(PublishTo::<u8>::new("Numbers")),
            module: BACKPLANE,
        },
        Case {
            file: "src/backplane/subscribe.rs",
            source: include_str!("../src/backplane/subscribe.rs"),
            name: "SubscribeTo",
            declared: declared_boxes(SubscribeTo::<u8>::new("Numbers")),
            module: BACKPLANE,
        },
        Case {
            file: "src/console.rs",
            source: include_str!("../src/console.rs"),
            name: "ConsoleReader",
            declared: declared_boxes(ConsoleReader::from_reader(Cursor::new(b"a line\n".to_vec()))),
            module: None,
        },
        Case {
            file: "src/console.rs",
            source: include_str!("../src/console.rs"),
            name: "ConsoleEchoer",
            declared: declared_boxes(ConsoleEchoer::new().writing_to(Vec::new())),
            module: None,
        },
        Case {
            file: "src/socket.rs",
            source: include_str!("../src/socket.rs"),
            name: "ConnectedSocketAdapter",
            declared: declared_boxes(ConnectedSocketAdapter::new(stream)),
            module: None,
        },
        Case {
            file: "src/server/simple_server.rs",
            source: include_str!("../src/server/simple_server.rs"),
            name: "SimpleServer",
            declared: declared_boxes(SimpleServer::new(echo, 0)),
            module: SERVER,
        },
        Case {
            file: "src/server/server_core.rs",
            source: include_str!("../src/server/server_core.rs"),
            name: "ServerCore",
            declared: declared_boxes(ServerCore::new(|_: &ConnectionInfo| echo(), 0)),
            module: SERVER,
        },
        Case {
            file: "src/server/server_core.rs",
            source: include_str!("../src/server/server_core.rs"),
            name: "BoundServer",
            declared: declared_boxes(bound),
            module: SERVER,
        },
        Case {
            file: "src/tcp_client.rs",
            source: include_str!("../src/tcp_client.rs"),
            name: "TCPClient",
            declared: declared_boxes(TCPClient::new("127.0.0.1", 1)),
            module: None,
        },
        Case {
            file: "src/transform.rs",
            source: include_str!("../src/transform.rs"),
            name: "PureTransformer",
            declared: declared_boxes(PureTransformer::new(|n: u8| n.to_string())),
            module: None,
        },
        Case {
            file: "src/transform.rs",
            source: include_str!("../src/transform.rs"),
            name: "Filter",
            declared: declared_boxes(Filter::new(|n: &u8| n % 2 == 0)),
            module: None,
        },
    ];
    let problems: Vec<String> = cases
        .iter()
        .flat_map(|case| check_under(case.file, case.source, case.name, &case.declared, case.module))
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) with the components' box tables:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The Graphline's tables say that a box named by a `("self", X)` linkage is its child's box, with
/// its type and description.
#[tokio::test]
async fn a_graphline_box_named_by_a_linkage_is_described_as_its_childs_box() {
    let shout = from_fn("Shout", |_ctx: Context<String, String>| async { Ok(()) }).with_boxes(|boxes| {
        boxes.inbox::<u32>("volume", "How loud to shout");
    });
    let graphline = Graphline::new(
        [("SHOUT", child(shout))],
        [(("self", "loudness"), ("SHOUT", "volume")), (("SHOUT", "outbox"), ("self", "said"))],
    )
    .unwrap();
    let declared = declared_boxes(graphline);
    let find = |kind: BoxKind, name: &str| {
        declared
            .iter()
            .find(|b| b.kind == kind && b.name == name)
            .unwrap_or_else(|| panic!("no {name} among {declared:?}"))
    };
    let loudness = find(BoxKind::Inbox, "loudness");
    assert_eq!((loudness.type_name.as_str(), loudness.description.as_str()), ("u32", "How loud to shout"));
    let said = find(BoxKind::Outbox, "said");
    assert_eq!(said.type_name, std::any::type_name::<String>());
    assert_eq!(said.description, axon_core::boxes::OUTBOX_DESCRIPTION);
}

/// A component made another way than its tables show describes some boxes otherwise, and its doc
/// says how, quoting each description.
#[tokio::test]
async fn other_descriptions_of_other_variants_are_quoted_in_the_docs() {
    let variants = [
        (
            "PublishTo",
            include_str!("../src/backplane/publish.rs"),
            declared_boxes(PublishTo::<u8>::forwarder("Numbers")),
        ),
        ("ConsoleEchoer", include_str!("../src/console.rs"), declared_boxes(ConsoleEchoer::new().forwarder(true))),
        ("PAR", include_str!("../src/par.rs"), declared_boxes(PAR::<String, u8>::discarding_inbox().with(quiet()))),
    ];
    let mut missing = Vec::new();
    for (name, source, declared) in variants {
        let doc = plain(&item_doc(source, name).expect("the component's doc"));
        for b in declared {
            if !doc.contains(b.description.as_str()) {
                missing.push(format!("{name}: {:?} {} is described {:?}", b.kind, b.name, b.description));
            }
        }
    }
    assert!(missing.is_empty(), "descriptions the docs do not quote:\n{}", missing.join("\n"));
}
