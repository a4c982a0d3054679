//! The cookbook's console pipeline with an actix actor as its middle stage: each line typed is
//! sent to an actor, which numbers and upper-cases it, and its answer is echoed.
//!
//! ```text
//! ConsoleReader ──outbox→inbox──▶ ActorComponent(Shouter) ──outbox→inbox──▶ ConsoleEchoer
//!               ──signal→control─▶                        ──signal→control─▶
//! ```
//!
//! Kamaelia's `Pipeline(ConsoleReader(), Shouter(), ConsoleEchoer()).run()`, with `Shouter` an
//! actix actor rather than a component: the actor runs on an actix System on a thread of its own
//! ([`ActixSystem::new`]), the pipeline on the scheduler, and the end of input (Ctrl-D) travels
//! down the pipeline as `ProducerFinished` as it would through components.
//!
//! Run it with (type lines; Ctrl-D ends it):
//!
//! ```text
//! cargo run -p kamaelia-actix --example actix_pipeline
//! printf 'hello\nworld\n' | cargo run -p kamaelia-actix --example actix_pipeline
//! ```

use actix::{Actor, Context, Handler, Message, MessageResult};
use bytes::Bytes;
use kamaelia_actix::{ActixSystem, ActorComponent};
use kamaelia_chassis::{pipeline, ConsoleEchoer, ConsoleReader};

/// A line for the actor.
struct Line(Bytes);

impl Message for Line {
    type Result = Bytes;
}

impl From<Bytes> for Line {
    fn from(bytes: Bytes) -> Self {
        Line(bytes)
    }
}

/// The actor: numbers the lines it is sent and upper-cases them (its count is its own state,
/// as an actor's is).
#[derive(Default)]
struct Shouter {
    lines: u64,
}

impl Actor for Shouter {
    type Context = Context<Self>;
}

impl Handler<Line> for Shouter {
    type Result = MessageResult<Line>;

    fn handle(&mut self, Line(line): Line, _ctx: &mut Context<Self>) -> MessageResult<Line> {
        self.lines += 1;
        MessageResult(Bytes::from(format!("{}: {}", self.lines, String::from_utf8_lossy(&line).to_uppercase())))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let system = ActixSystem::new()?;
    let shouter = ActorComponent::<Line>::start(&system, |_| Shouter::default())?.accepting::<Bytes>();
    pipeline![ConsoleReader::new(), shouter, ConsoleEchoer::new()].run()?;
    Ok(())
}
