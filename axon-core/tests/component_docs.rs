//! Every component axon-core lets a user make documents its boxes as Kamaelia did: its doc
//! comment has an `# Inboxes` and an `# Outboxes` table listing exactly the boxes it declares,
//! each with the description its declaration gives, word for word, and its docs (or its module's)
//! have an `# Example` that runs and a `# How it works`.
//!
//! Those components are a closure's ([`FnComponent`](axon_core::FnComponent), from [`from_fn`]) and the two wrappers,
//! [`Threaded`] and [`Stepped`], whose boxes are the wrapped component's: each is checked with an
//! example inner component that declares nothing of its own, as the tables describe. (What
//! [`FnComponent::with_boxes`](axon_core::FnComponent::with_boxes) or a [`ThreadedComponent::declare`] adds is the user's, and their
//! docs say so in prose.)
//!
//! Each component is made, activated on a scheduler of its own and looked at through
//! [`Scheduler::introspect`](axon_core::Scheduler::introspect) before its body runs (the runtime
//! is a current-thread one, and nothing is awaited in between). Its source is read with
//! `include_str!`, and its tables parsed with the workspace's test support, the `box-tables`
//! crate.

use axon_core::{
    from_fn, ComponentError, ComponentResult, Context, StepComponent, Stepped, Threaded, ThreadedComponent,
};
use box_tables::{check, declared_boxes, DeclaredBox};

/// A component to check: where its source is, its name there, and what it declares.
struct Case {
    file: &'static str,
    source: &'static str,
    name: &'static str,
    declared: Vec<DeclaredBox>,
}

/// A blocking body: sends its lines.
struct Lines(Vec<&'static str>);

impl ThreadedComponent for Lines {
    type Inbox = ();
    type Outbox = String;

    fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        for line in self.0 {
            ctx.outbox.send_blocking(line.to_owned());
        }
        Ok(())
    }
}

/// A step body: counts to three.
struct Counter(u32);

impl StepComponent for Counter {
    type Inbox = ();
    type Outbox = u32;

    async fn main_body(&mut self, ctx: &mut Context<(), u32>) -> Result<bool, ComponentError> {
        self.0 += 1;
        ctx.outbox.send(self.0).await;
        Ok(self.0 < 3)
    }
}

#[tokio::test]
async fn every_component_lists_the_boxes_it_declares_word_for_word() {
    let cases = [
        Case {
            file: "src/fn_component.rs",
            source: include_str!("../src/fn_component.rs"),
            name: "FnComponent",
            declared: declared_boxes(from_fn("Shout", |mut ctx: Context<String, String>| async move {
                while let Some(s) = ctx.inbox.recv().await {
                    ctx.outbox.send(s.to_uppercase()).await;
                }
                Ok(())
            })),
        },
        Case {
            file: "src/threaded.rs",
            source: include_str!("../src/threaded.rs"),
            name: "Threaded",
            declared: declared_boxes(Threaded(Lines(vec!["a", "b"]))),
        },
        Case {
            file: "src/stepped.rs",
            source: include_str!("../src/stepped.rs"),
            name: "Stepped",
            declared: declared_boxes(Stepped(Counter(0))),
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
