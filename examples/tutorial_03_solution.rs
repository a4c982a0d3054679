//! Tutorial step 3, the exercise's solution (`docs/tutorial/03-pipeline.md`): a Pipeline is a
//! component, so one can stand in another.
//!
//! ```text
//! Pipeline: Numbers ──▶ evens_squared() ──▶ ConsoleEchoer
//!
//! evens_squared(), a Pipeline itself: Filter (evens) ──▶ PureTransformer (to text)
//! ```
//!
//! ```text
//! cargo run --example tutorial_03_solution
//! ```

use std::io::Write;

use kamaelia::axon::RunError;
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Sends the numbers from 1 to `upto`.
struct Numbers {
    upto: u32,
}

impl Component for Numbers {
    type Inbox = ();
    type Outbox = u32;

    async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        for n in 1..=self.upto {
            ctx.outbox.send(n).await;
        }
        // "That was all": travels down the pipeline after the numbers (step 5 says more).
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// A reusable stage: numbers in, the squares of the even ones out, as text.
fn evens_squared() -> Pipeline<u32, String> {
    pipeline![Filter::new(|n: &u32| n % 2 == 0), PureTransformer::new(|n: u32| format!("{n} squared is {}\n", n * n)),]
}

/// The outer pipeline, writing to `out`, run to the end.
pub fn run(out: impl Write + Send + 'static) -> Result<(), RunError> {
    pipeline![Numbers { upto: 6 }, evens_squared(), ConsoleEchoer::default().writing_to(out)].run()
}

fn main() -> Result<(), RunError> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
