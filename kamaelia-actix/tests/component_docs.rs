//! Every component of kamaelia-actix documents its boxes as Kamaelia did: its doc comment has an
//! `# Inboxes` and an `# Outboxes` table listing exactly the boxes it declares, each with the
//! description its declaration gives, word for word, and its docs (or its module's) have an
//! `# Example` that runs and a `# How it works`. The component is made as its docs show and
//! looked at before its body runs; its source is read with `include_str!` and its tables parsed
//! with the workspace's test support, the `box-tables` crate.

use actix::{Actor, Handler, Message};
use box_tables::{check, declared_boxes};
use kamaelia_actix::{ActixSystem, ActorComponent};

struct Line(String);

impl Message for Line {
    type Result = String;
}

struct Upper;

impl Actor for Upper {
    type Context = actix::Context<Self>;
}

impl Handler<Line> for Upper {
    type Result = String;

    fn handle(&mut self, Line(text): Line, _ctx: &mut actix::Context<Self>) -> String {
        text.to_uppercase()
    }
}

#[tokio::test]
async fn every_component_lists_the_boxes_it_declares_word_for_word() {
    let system = ActixSystem::new().unwrap();
    let problems = check(
        "src/actor_component.rs",
        include_str!("../src/actor_component.rs"),
        "ActorComponent",
        &declared_boxes(ActorComponent::<Line>::start(&system, |_| Upper).unwrap()),
    );
    assert!(problems.is_empty(), "{} problem(s) with the box tables:\n{}", problems.len(), problems.join("\n"));
}
