//! Every component of the `kamaelia` package itself (the facade's own: the live page's stream)
//! documents its boxes as Kamaelia did: its doc comment has an `# Inboxes` and an `# Outboxes`
//! table listing exactly the boxes it declares, each with the description its declaration gives,
//! word for word, and its docs (or its module's) have an `# Example` that runs and a
//! `# How it works`. The components of the other crates are checked in theirs.
//!
//! Each component is made, activated on a scheduler of its own and looked at through
//! `Scheduler::introspect` before its body runs (the runtime is a current-thread one, and nothing
//! is awaited in between); its source is read with `include_str!`, and its tables parsed with the
//! workspace's test support, the `box-tables` crate.

use std::time::Duration;

use box_tables::{check_under, declared_boxes};
use kamaelia::live::GraphEvents;

#[tokio::test]
async fn every_component_lists_the_boxes_it_declares_word_for_word() {
    let problems = check_under(
        "src/live/events.rs",
        include_str!("../src/live/events.rs"),
        "GraphEvents",
        &declared_boxes(GraphEvents::new(Duration::from_millis(250), Duration::from_secs(5))),
        Some(("src/live/mod.rs", include_str!("../src/live/mod.rs"))),
    );
    assert!(problems.is_empty(), "{} problem(s) with the box tables:\n{}", problems.len(), problems.join("\n"));
}
