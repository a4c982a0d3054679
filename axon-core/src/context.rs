//! [`Context`]: what a component body works with. Its four standard boxes are public fields;
//! its methods are the component's view of the system: linking, children, waiting on several
//! inboxes, and boxes declared or added at run time.
//!
//! # Where its methods live
//!
//! Most are here. Those that need a floor above this one are written there, as inherent methods
//! of `Context`, and appear with the others in the docs: [`scheduler`](Context::scheduler) and
//! [`tracker`](Context::tracker) in `scheduler.rs`; [`activate`](Context::activate) and
//! [`activate_boxed`](Context::activate_boxed) in `instance.rs`; and, crate-private, `host` and
//! `host_is_clean` in `host/body.rs` (the public face of hosting is
//! [`ChildHost`](crate::host::ChildHost)).

use std::borrow::Cow;
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;

use crate::boxes::{Inbox, Outbox};
use crate::component_ref::ComponentRef;
use crate::error::{BoxError, LinkError};
use crate::events::{Event, Select, Source};
use crate::id::ComponentId;
use crate::identity::Unpauser;
use crate::ipc::Ipc;
use crate::kinds::{BoxKind, BoxName, Passthrough};
use crate::lifecycle::ChildExit;
use crate::link::{self, LinkOptions, Linkage};
use crate::linkage::{self, Endpoint};
use crate::node::{make_node, take_handle, ErasedNode, Node};
use crate::queue::DEFAULT_CAPACITY;

/// What a component body works with: its standard boxes (as public fields, so that each can be
/// used on its own), and the component's view of the system.
///
/// Axon's `self.send(msg, "outbox")` is `ctx.outbox.send(msg).await`; `self.recv("control")` is
/// `ctx.control.try_recv()` (or `ctx.control.recv().await` to wait); `self.dataReady("inbox")` is
/// `ctx.inbox.data_ready()`.
///
/// # Waiting on several inboxes
///
/// [`next_event`](Self::next_event) waits on `inbox` and `control`; [`select`](Self::select)
/// on `control` and any number of inboxes; [`wait_any`](Self::wait_any) names the inbox to read
/// next. All three keep the [rule](crate::events) that makes the natural loop correct: a
/// `ProducerFinished` is handed over only once the data queued before it has been taken, while
/// a `ShutdownMicroprocess` comes at once.
///
/// ```
/// use axon_core::prelude::*;
///
/// /// Squares numbers; passes the end of the stream on once every number is through.
/// struct Square;
///
/// impl Component for Square {
///     type Inbox = i64;
///     type Outbox = i64;
///
///     async fn main(self, mut ctx: Context<i64, i64>) -> ComponentResult {
///         while let Some(event) = ctx.next_event().await {
///             match event {
///                 Event::Data(n) => ctx.outbox.send(n * n).await,
///                 Event::Control(msg) if msg.is_shutdown_request() => {
///                     ctx.signal.send(msg).await;
///                     break;
///                 }
///                 Event::Control(_) => {}
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let mut square = Handle::new(Square, &Scheduler::new());
/// for n in 1..=5 {
///     square.put(n).unwrap();
/// }
/// square.put_control(ProducerFinished::new()).unwrap();
/// let squares: Vec<i64> = std::iter::from_fn(|| square.recv_blocking()).collect();
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
/// ```
pub struct Context<I, O> {
    /// The standard `inbox`.
    pub inbox: Inbox<I>,
    /// The standard `control` inbox.
    pub control: Inbox<Ipc>,
    /// The standard `outbox`.
    pub outbox: Outbox<O>,
    /// The standard `signal` outbox.
    pub signal: Outbox<Ipc>,
    me: ComponentRef,
    /// Which data inbox [`select`](Self::select) looks at first next time.
    turn: u32,
}

impl<I, O> fmt::Debug for Context<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("component", &self.me).finish_non_exhaustive()
    }
}

/// The declared box `name` of `me`, of kind `kind`, as a box of `T`, its one handle checked out.
fn typed<T: Send + 'static>(me: &ComponentRef, kind: BoxKind, name: &str) -> Result<Arc<Node<T>>, BoxError> {
    let node = me.find_box(kind, name).map_err(|_| BoxError::NoSuchBox {
        component: me.name().to_owned(),
        kind: kind.word(),
        name: name.to_owned(),
    })?;
    let actual = node.type_name();
    let node: Arc<Node<T>> =
        (node as Arc<dyn std::any::Any + Send + Sync>).downcast().map_err(|_| BoxError::WrongType {
            component: me.name().to_owned(),
            name: name.to_owned(),
            actual,
            requested: std::any::type_name::<T>(),
        })?;
    if !take_handle(&node.meta) {
        return Err(BoxError::AlreadyTaken { component: me.name().to_owned(), name: name.to_owned() });
    }
    Ok(node)
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    pub(crate) fn new(me: ComponentRef) -> Self {
        fn standard<T: Send + 'static>(
            boxes: &[Arc<dyn ErasedNode>],
            i: usize,
            kind: BoxKind,
            name: &str,
        ) -> Arc<Node<T>> {
            // The standard boxes are the first four, in this order (`Declarations::standard`;
            // `declare` can only add boxes after them), and nothing has taken their handles yet.
            // (Not `typed`: its search and its `Result` cost 460 instructions more per component
            // made, under callgrind, and a component is made per HTTP request.)
            let node = boxes
                .get(i)
                .filter(|b| b.meta().kind == kind && b.meta().name == name)
                .cloned()
                .and_then(|b| (b as Arc<dyn std::any::Any + Send + Sync>).downcast::<Node<T>>().ok())
                .filter(|n| take_handle(&n.meta));
            node.unwrap_or_else(|| panic!("the standard {} `{name}` is missing or taken", kind.word()))
        }
        let (inbox, control, outbox, signal) = {
            let boxes = &me.0.boxes.fixed;
            (
                standard(boxes, 0, BoxKind::Inbox, "inbox"),
                standard(boxes, 1, BoxKind::Inbox, "control"),
                standard(boxes, 2, BoxKind::Outbox, "outbox"),
                standard(boxes, 3, BoxKind::Outbox, "signal"),
            )
        };
        Context {
            inbox: Inbox::from_node(inbox),
            control: Inbox::from_node(control),
            outbox: Outbox::from_node(outbox),
            signal: Outbox::from_node(signal),
            me,
            turn: 0,
        }
    }

    /// A second context over the same four boxes, for a body run by `Context::host` (a hosted
    /// child, see [`host`](crate::host)) while this one is borrowed.
    pub(crate) fn lend(&self) -> Self {
        Context {
            inbox: self.inbox.lend(),
            control: self.control.lend(),
            outbox: self.outbox.lend(),
            signal: self.signal.lend(),
            me: self.me.clone(),
            turn: 0,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    /// This component's id.
    pub fn id(&self) -> ComponentId {
        self.me.id()
    }

    /// This component's name.
    pub fn name(&self) -> &str {
        self.me.name()
    }

    /// This component, as others see it (to link to its own boxes: `(ctx.me(), "inbox")`).
    pub fn me(&self) -> &ComponentRef {
        &self.me
    }

    // ----- linkages -----

    /// Links an outbox to an inbox (Axon's `self.link((a, "outbox"), (b, "inbox"))`). The linkage
    /// belongs to this component: it is removed when this component ends.
    pub fn link<'a>(&self, from: impl Into<Endpoint<'a>>, to: impl Into<Endpoint<'a>>) -> Result<Linkage, LinkError> {
        self.link_with(from, to, LinkOptions::default())
    }

    /// Links with a passthrough kind: `Inbound` (an inbox to a child's inbox) or `Outbound` (a
    /// child's outbox to an outbox), Axon's `passthrough=1|2`.
    pub fn link_passthrough<'a>(
        &self,
        from: impl Into<Endpoint<'a>>,
        to: impl Into<Endpoint<'a>>,
        passthrough: Passthrough,
    ) -> Result<Linkage, LinkError> {
        self.link_with(from, to, LinkOptions::passthrough(passthrough))
    }

    /// Links with full [`LinkOptions`] (passthrough and pipewidth).
    pub fn link_with<'a>(
        &self,
        from: impl Into<Endpoint<'a>>,
        to: impl Into<Endpoint<'a>>,
        options: LinkOptions,
    ) -> Result<Linkage, LinkError> {
        linkage::link_endpoints(Some(&self.me), from.into(), to.into(), options)
    }

    /// Removes a linkage (one this component made, or any other). Unknown or already removed
    /// linkages are ignored, as in Axon.
    pub fn unlink(&self, linkage: &Linkage) {
        link::unlink(linkage);
        self.me.forget_owned_link(linkage);
    }

    /// Removes every linkage this component made that involves `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        let hit = self.me.take_links_involving(component.id());
        // One acquisition of the wiring lock for all of them; the linkages are dropped after.
        link::unlink_all(&hit);
    }

    /// Makes several linkages, outbox to inbox, all belonging to this component, at once: all of
    /// them, or none (if one cannot be made, for instance because a box does not exist or the
    /// types differ, those made before it are removed again and its error returned). The same as
    /// calling [`link`](Self::link) for each, but cheaper: what a component does when it links
    /// each child it makes.
    ///
    /// ```
    /// use axon_core::prelude::*;
    ///
    /// let parent = from_fn("Parent", |ctx: Context<u8, u8>| async move {
    ///     let child = Instance::new(from_fn("Child", |mut c: Context<u8, u8>| async move {
    ///         while let Some(n) = c.inbox.recv().await {
    ///             c.outbox.send(n + 1).await;
    ///         }
    ///         Ok(())
    ///     }));
    ///     ctx.link_all([((ctx.me(), "outbox"), (child.component(), "inbox"))])?;
    ///     // A box that does not exist: nothing is linked.
    ///     let err = ctx.link_all([
    ///         ((child.component(), "outbox"), (ctx.me(), "inbox")),
    ///         ((child.component(), "signal"), (ctx.me(), "nonesuch")),
    ///     ]);
    ///     assert!(err.is_err());
    ///     assert_eq!(ctx.me().owned_linkages().len(), 1);
    ///     Ok(())
    /// });
    /// Instance::new(parent).run().unwrap();
    /// ```
    pub fn link_all<'a, F, T>(&self, links: impl IntoIterator<Item = (F, T)>) -> Result<(), LinkError>
    where
        F: Into<Endpoint<'a>>,
        T: Into<Endpoint<'a>>,
    {
        linkage::link_all(&self.me, links)
    }

    // ----- children -----

    /// Makes these components children of this one (Axon's `addChildren`): this component is told
    /// when each ends ([`child_exited`](Self::child_exited)), and its `pause` is woken.
    pub fn add_children<'a>(&self, children: impl IntoIterator<Item = &'a ComponentRef>) {
        for c in children {
            c.adopt_by(&self.me);
        }
    }

    /// Makes one component a child (see [`add_children`](Self::add_children)).
    pub fn add_child(&self, child: &ComponentRef) {
        child.adopt_by(&self.me);
    }

    /// Stops treating `child` as a child and removes the linkages this component made that
    /// involve it (Axon's `removeChild`). It keeps running if it has not ended.
    pub fn remove_child(&self, child: &ComponentRef) {
        self.me.disown(child);
    }

    /// The current children (Axon's `childComponents()`).
    pub fn children(&self) -> Vec<ComponentRef> {
        self.me.children()
    }

    /// Waits for the next child to end and reaps it (removes it as a child, with the linkages
    /// this component made to it). `None` when there are no children.
    pub async fn child_exited(&mut self) -> Option<ChildExit> {
        let me = self.me.clone();
        let exit = poll_fn(|cx| me.poll_child_exit(cx)).await?;
        if let Some(c) = self.children().into_iter().find(|c| c.id() == exit.id) {
            self.remove_child(&c);
        }
        Some(exit)
    }

    /// Waits until every child has ended, reaping each; returns how they ended, in the order
    /// they did (Kamaelia's chassis loop `while not childrenDone(): pause()`).
    pub async fn wait_for_children(&mut self) -> Vec<ChildExit> {
        let mut exits = Vec::new();
        while let Some(e) = self.child_exited().await {
            exits.push(e);
        }
        exits
    }

    /// Reaps children that have ended and says whether none are left (Kamaelia's `childrenDone`).
    pub fn children_done(&mut self) -> bool {
        let ended: Vec<_> = self.children().into_iter().filter(|c| c.has_ended()).collect();
        for c in &ended {
            self.remove_child(c);
        }
        self.children().is_empty()
    }

    // ----- waiting -----

    /// Sleeps until something happens to this component: a delivery into any of its inboxes, the
    /// end of a child, or an [`Unpauser::unpause`] (Axon's `self.pause(); yield 1`). A wake that
    /// came while the component was busy makes `pause` return at once, so the Axon idiom
    /// `while !ready { ctx.pause().await }` never sleeps through a delivery.
    pub async fn pause(&self) {
        poll_fn(|cx| self.me.0.notifier().poll_wait(cx)).await
    }

    /// A handle that wakes this component from [`pause`](Self::pause).
    pub fn unpauser(&self) -> Unpauser {
        self.me.unpauser()
    }

    /// The name of an inbox with messages waiting, if any (Axon's `anyReady()`): the first in
    /// declaration order, except that `control` comes last unless its oldest message is urgent
    /// ([`Ipc::is_urgent`]), so that a `ProducerFinished` is named only once the data queued
    /// before it has been taken (see [`events`](crate::events)).
    pub fn any_ready(&self) -> Option<BoxName> {
        // Control is looked at before the other inboxes: see `events::poll_next`.
        let waiting = self.control.peek(|m| m.map(Ipc::is_urgent));
        if waiting == Some(true) {
            return Some(BoxName::Borrowed("control"));
        }
        let data = self.me.0.boxes.with_all(|mut boxes| {
            Iterator::find(&mut boxes, |b| {
                b.meta().kind == BoxKind::Inbox && b.meta().name != "control" && b.depth() > 0
            })
            .map(|b| b.meta().name.clone())
        });
        data.or_else(|| waiting.map(|_| BoxName::Borrowed("control")))
    }

    /// Waits until any inbox of this component has a message, and names one as
    /// [`any_ready`](Self::any_ready) does.
    pub async fn wait_any(&self) -> BoxName {
        loop {
            if let Some(name) = self.any_ready() {
                return name;
            }
            self.pause().await;
        }
    }

    /// The next message from `inbox` or `control`, waiting if neither has one: an urgent control
    /// message (`ShutdownMicroprocess`) at once, data next, and any other control message
    /// (`ProducerFinished`) only once `inbox` is empty, so that the end of the stream never
    /// overtakes its data (see [`events`](crate::events)). `None` once `inbox` is closed
    /// (everything upstream has gone) and `control` is closed too, or was never linked: a
    /// shutdown message still on its way (a chassis passing the end on) is waited for.
    pub async fn next_event(&mut self) -> Option<Event<I>> {
        self.select(std::convert::identity).next().await
    }

    /// A wait on `control`, `inbox` (its messages mapped by `map`) and, with
    /// [`Select::or`](crate::events::Select::or), declared inboxes, in the order
    /// [`next_event`](Self::next_event) keeps; inboxes take turns. See [`events`](crate::events)
    /// for an example.
    pub fn select<M, F: FnMut(I) -> M>(&mut self, map: F) -> Select<'_, M, Source<'_, I, F>> {
        Select::new(&mut self.control, Source::new(&mut self.inbox, map), &mut self.turn)
    }

    // ----- declared and adaptive boxes -----

    /// The handle of a declared inbox (each box has one handle; take it once).
    pub fn take_inbox<T: Send + 'static>(&self, name: &str) -> Result<Inbox<T>, BoxError> {
        typed(&self.me, BoxKind::Inbox, name).map(Inbox::from_node)
    }

    /// The handle of a declared outbox (each box has one handle; take it once).
    pub fn take_outbox<T: Send + 'static>(&self, name: &str) -> Result<Outbox<T>, BoxError> {
        typed(&self.me, BoxKind::Outbox, name).map(Outbox::from_node)
    }

    /// Adds an inbox at run time (Axon's `AdaptiveCommsComponent.addInbox`). If the name is taken
    /// a number is appended until it is free; the handle's [`name`](Inbox::name) is the one used.
    pub fn add_inbox<T: Send + 'static>(&self, name: &str, description: impl Into<Cow<'static, str>>) -> Inbox<T> {
        let node = self.add_box::<T>(BoxKind::Inbox, name, description.into());
        take_handle(&node.meta);
        Inbox::from_node(node)
    }

    /// Adds an outbox at run time (Axon's `addOutbox`); naming as for
    /// [`add_inbox`](Self::add_inbox).
    pub fn add_outbox<T: Send + 'static>(&self, name: &str, description: impl Into<Cow<'static, str>>) -> Outbox<T> {
        let node = self.add_box::<T>(BoxKind::Outbox, name, description.into());
        take_handle(&node.meta);
        Outbox::from_node(node)
    }

    fn add_box<T: Send + 'static>(&self, kind: BoxKind, name: &str, description: Cow<'static, str>) -> Arc<Node<T>> {
        let cap = (kind == BoxKind::Inbox).then_some(DEFAULT_CAPACITY);
        self.me
            .0
            .boxes
            .add_unique(kind, name, |chosen| make_node::<T>(&self.me.0.ident, chosen, kind, description, cap))
    }

    /// Removes a box by name (Axon's `deleteInbox`/`deleteOutbox`): every linkage into or out of
    /// it is removed first (Axon left that to the caller), and what it held is dropped.
    pub fn delete_box(&self, kind: BoxKind, name: &str) -> Result<(), BoxError> {
        let node = self.me.find_box(kind, name).map_err(|_| BoxError::NoSuchBox {
            component: self.name().to_owned(),
            kind: kind.word(),
            name: name.to_owned(),
        })?;
        {
            let _g = link::wiring();
            if let Some((_, info)) = node.target() {
                link::unlink_locked(&node, info.id);
            }
            for s in node.sources() {
                if let Some((_, info)) = s.target() {
                    link::unlink_locked(&s, info.id);
                }
            }
            let leftovers = node.clone().retire();
            drop(_g);
            drop(leftovers);
        }
        self.me.0.boxes.remove(&node);
        Ok(())
    }

    /// Removes an inbox added with [`add_inbox`](Self::add_inbox) (see
    /// [`delete_box`](Self::delete_box)).
    pub fn delete_inbox<T: Send + 'static>(&self, inbox: Inbox<T>) -> Result<(), BoxError> {
        self.delete_box(BoxKind::Inbox, inbox.name())
    }

    /// Removes an outbox added with [`add_outbox`](Self::add_outbox) (see
    /// [`delete_box`](Self::delete_box)).
    pub fn delete_outbox<T: Send + 'static>(&self, outbox: Outbox<T>) -> Result<(), BoxError> {
        self.delete_box(BoxKind::Outbox, outbox.name())
    }

    /// Makes a box like an existing one of another component (same message type), for chassis
    /// that expose a child's box as their own (Kamaelia's Graphline). Returns the name used.
    pub fn add_box_like(
        &self,
        other: &ComponentRef,
        other_kind: BoxKind,
        other_name: &str,
        kind: BoxKind,
        name: &str,
    ) -> Result<BoxName, LinkError> {
        let template = other.find_box(other_kind, other_name)?;
        Ok(self.me.0.boxes.add_unless_present(kind, name, || {
            template.new_like(&self.me.0.ident, Cow::Owned(name.to_owned()), kind, template.meta().description.clone())
        }))
    }
}
