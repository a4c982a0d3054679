//! Kamaelia's `MockChild` for the chassis tests: a child component the test drives by hand.
//!
//! Kamaelia's chassis tests step the scheduler and call a child's `send`/`recv` directly. Here a
//! [`MockChild`] runs as a real component and obeys commands from its [`Puppet`], which the test
//! holds: send this from your `outbox` (or `signal`), take the next message from your `inbox` (or
//! `control`), stop. Every command waits for the child to carry it out, with a deadline, so a test
//! never sleeps: when `send` returns, the message is already in the destination inbox.
//!
//! The child reads its inboxes only when told to, so whatever reached it stays queued there and
//! [`Puppet::any_ready`] (Axon's `anyReady()`) shows it: that is how a test checks that a message
//! went nowhere else.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::time::Duration;

use axon_core::{Component, ComponentRef, ComponentResult, Context, Exit, Instance, Ipc};
use tokio::sync::{mpsc, oneshot, watch};

/// How long a test waits for something that should happen; reaching it fails the test.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Awaits `f`, failing the test with `what` if it takes longer than [`DEADLINE`].
pub async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

enum Command<I, O> {
    Send(O, oneshot::Sender<()>),
    Signal(Ipc, oneshot::Sender<()>),
    Recv(oneshot::Sender<Option<I>>),
    RecvControl(oneshot::Sender<Option<Ipc>>),
    Stop,
}

/// The component: does what its [`Puppet`] says, until told to stop (or the puppet is dropped).
pub struct MockChild<I, O> {
    commands: mpsc::Receiver<Command<I, O>>,
    activated: watch::Sender<bool>,
}

impl<I: Send + 'static, O: Send + 'static> Component for MockChild<I, O> {
    type Inbox = I;
    type Outbox = O;

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        "MockChild".into()
    }

    async fn main(mut self, mut ctx: Context<I, O>) -> ComponentResult {
        self.activated.send_replace(true);
        while let Some(command) = self.commands.recv().await {
            match command {
                Command::Send(msg, done) => {
                    ctx.outbox.send(msg).await;
                    let _ = done.send(());
                }
                Command::Signal(msg, done) => {
                    ctx.signal.send(msg).await;
                    let _ = done.send(());
                }
                Command::Recv(reply) => {
                    let _ = reply.send(ctx.inbox.recv().await);
                }
                Command::RecvControl(reply) => {
                    let _ = reply.send(ctx.control.recv().await);
                }
                Command::Stop => break,
            }
        }
        Ok(())
    }
}

/// The test's hold on one [`MockChild`].
pub struct Puppet<I, O> {
    commands: mpsc::Sender<Command<I, O>>,
    activated: watch::Receiver<bool>,
    component: ComponentRef,
}

/// A new mock child, not yet activated, and the puppet that drives it.
pub fn mock<I: Send + 'static, O: Send + 'static>() -> (Instance<MockChild<I, O>>, Puppet<I, O>) {
    let (tx, rx) = mpsc::channel(8);
    let (activated_tx, activated_rx) = watch::channel(false);
    let child = Instance::new(MockChild { commands: rx, activated: activated_tx });
    let component = child.component().clone();
    (child, Puppet { commands: tx, activated: activated_rx, component })
}

impl<I: Send + 'static, O: Send + 'static> Puppet<I, O> {
    /// The child, as a component.
    pub fn component(&self) -> &ComponentRef {
        &self.component
    }

    /// True once the child's body has started (Kamaelia's `wasActivated`).
    pub fn was_activated(&self) -> bool {
        *self.activated.borrow()
    }

    /// Waits until the child's body has started.
    pub async fn activated(&mut self) {
        let name = self.component.name().to_owned();
        within(&format!("{name} to be activated"), self.activated.wait_for(|a| *a))
            .await
            .expect("the child lives while its puppet does");
    }

    async fn command(&self, what: &str, c: Command<I, O>) {
        let name = self.component.name();
        within(&format!("{name} to take the command to {what}"), self.commands.send(c))
            .await
            .unwrap_or_else(|_| panic!("{name} has ended; cannot {what}"));
    }

    /// Sends `msg` from the child's `outbox`; returns once it has been delivered.
    pub async fn send(&self, msg: O) {
        let (done, wait) = oneshot::channel();
        self.command("send from its outbox", Command::Send(msg, done)).await;
        within("a send from the outbox", wait).await.expect("the child answers");
    }

    /// Sends `msg` from the child's `signal`; returns once it has been delivered.
    pub async fn signal(&self, msg: impl Into<Ipc>) {
        let (done, wait) = oneshot::channel();
        self.command("send from its signal", Command::Signal(msg.into(), done)).await;
        within("a send from the signal outbox", wait).await.expect("the child answers");
    }

    /// The next message on the child's `inbox` (waits for one).
    pub async fn recv(&self) -> I {
        let (reply, wait) = oneshot::channel();
        self.command("receive from its inbox", Command::Recv(reply)).await;
        let name = self.component.name();
        within(&format!("a message on {name}'s inbox"), wait)
            .await
            .expect("the child answers")
            .unwrap_or_else(|| panic!("{name}'s inbox closed"))
    }

    /// The next message on the child's `control` (waits for one).
    pub async fn recv_control(&self) -> Ipc {
        let (reply, wait) = oneshot::channel();
        self.command("receive from its control", Command::RecvControl(reply)).await;
        let name = self.component.name();
        within(&format!("a message on {name}'s control"), wait)
            .await
            .expect("the child answers")
            .unwrap_or_else(|| panic!("{name}'s control closed"))
    }

    /// True if a message waits in the child's `inbox` or `control` (Axon's `anyReady()`).
    pub fn any_ready(&self) -> bool {
        self.component.data_ready("inbox") + self.component.data_ready("control") > 0
    }

    /// Tells the child to stop (Kamaelia's `stopNow()`) and waits until it has ended.
    pub async fn stop(&self) -> Exit {
        self.command("stop", Command::Stop).await;
        within(&format!("{} to end", self.component.name()), self.component.join()).await
    }
}
