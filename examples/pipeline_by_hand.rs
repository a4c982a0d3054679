//! A small pipeline built by hand with linkages: the shape every Kamaelia chassis automates.
//!
//! ```text
//! Lines ──outbox→inbox──▶ Upper ──outbox→inbox──▶ ConsoleEchoer
//!       ──signal→control─▶       ──signal→control─▶
//! ```
//!
//! `Lines` sends some text then `ProducerFinished`; `Upper` upper-cases what it receives and
//! passes the shutdown on; `ConsoleEchoer` prints and passes it on too. Each linkage is declared
//! explicitly, as Axon code does with `self.link((a, "outbox"), (b, "inbox"))`, and the
//! running graph is printed from the scheduler's introspection before it runs down.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example pipeline_by_hand
//! RUST_LOG=debug cargo run --example pipeline_by_hand   # also log each component's end
//! ```

use kamaelia::axon::ipc::{Ipc, ProducerFinished};
use kamaelia::axon::{Component, ComponentResult, Context, Event, Instance, Scheduler};

/// Sends each of its lines, then `ProducerFinished` on `signal`.
struct Lines(Vec<&'static str>);

impl Component for Lines {
    type Inbox = ();
    type Outbox = String;

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        for line in self.0 {
            ctx.outbox.send(line.to_owned()).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Upper-cases text. On a shutdown request on `control` it finishes what is queued, passes the
/// request on, and ends.
struct Upper;

impl Component for Upper {
    type Inbox = String;
    type Outbox = String;

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(text) => ctx.outbox.send(text.to_uppercase()).await,
                // Everything sent before a ProducerFinished has come first.
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// Prints what it receives (Kamaelia's `ConsoleEchoer`); passes on what arrives on `control`
/// and ends.
struct ConsoleEchoer;

impl Component for ConsoleEchoer {
    type Inbox = String;
    type Outbox = ();

    async fn main(self, mut ctx: Context<String, ()>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(text) => println!("{text}"),
                Event::Control(msg) => {
                    let done = matches!(msg, Ipc::ProducerFinished(_) | Ipc::ShutdownMicroprocess(_));
                    ctx.signal.send(msg).await;
                    if done {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let scheduler = Scheduler::new();
    let lines = Instance::new(Lines(vec!["hello", "from", "a pipeline built by hand"]));
    let upper = Instance::new(Upper);
    let echo = Instance::new(ConsoleEchoer);

    // Data flows outbox → inbox; shutdown flows signal → control.
    scheduler.link((&lines, "outbox"), (&upper, "inbox"))?;
    scheduler.link((&lines, "signal"), (&upper, "control"))?;
    scheduler.link((&upper, "outbox"), (&echo, "inbox"))?;
    scheduler.link((&upper, "signal"), (&echo, "control"))?;

    // A linkage between boxes of different types is refused when it is declared:
    let refused = scheduler.link((&lines, "signal"), (&echo, "inbox")).unwrap_err();
    println!("refused as expected: {refused}\n");

    let components = [lines.activate(&scheduler), upper.activate(&scheduler), echo.activate(&scheduler)];
    println!("the graph as introspection sees it:\n{}", scheduler.introspect());

    scheduler.run()?;
    for c in &components {
        println!("{} {}", c.name(), c.exit().expect("every component has ended"));
    }
    Ok(())
}
