//! How each request's handler runs. A component handler ([`Handler`]'s first kind) is started
//! through the core's [`ChildHost`], the one entry point for short-lived children, over the
//! request handler's four `_handler*` boxes: in the connection's handler host if it can be
//! hosted, otherwise as a component of its own, a child of the request handler. The rest of the
//! request handler sees the [`Handlers`] and their four boxes, and does not know which. A
//! function or a service (the call kind) has no component: it is handed back to the exchange,
//! which runs it itself (`calling.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use axon_core::host::{ChildBoxes, ChildHost};
use axon_core::tuning::{InboxTuning, FIRST_BUFFER_ROOM};
use axon_core::Context;
use bytes::{Bytes, BytesMut};
use http::StatusCode;
use kamaelia_chassis::socket::Payload;

use crate::error_pages::ErrorPages;
use crate::function::Call;
use crate::handler::{Handler, Kind};
use crate::parser::Parsed;
use crate::request::Request;
use crate::resource::Resource;
use crate::settings::HttpSettings;

/// The connection's handlers, one request at a time, and the four boxes to and from the current
/// one: `to_inbox` (the request body), `to_control` (its end), `from_outbox` (the answer),
/// `from_signal` (its end).
pub(super) type Handlers = ChildHost<Bytes, Resource>;

/// The request handler's boxes to and from the current handler (see its box tables).
const HANDLER_BOXES: ChildBoxes = ChildBoxes {
    to_inbox: "_handleroutbox",
    to_control: "_handlersignal",
    from_outbox: "_handlerinbox",
    from_signal: "_handlercontrol",
};

/// The connection's handlers, over the request handler's four internal boxes, with a handler host
/// kept as `settings` says.
pub(super) fn handlers(
    ctx: &Context<Parsed, Payload>,
    settings: &HttpSettings,
) -> Result<Handlers, axon_core::BoxError> {
    Ok(ChildHost::new(ctx, HANDLER_BOXES)?.keep_host(settings.handler_host_idle).host_class("HandlerHost"))
}

/// Makes the handler for `request` with `create` (a 500 page if the factory panics) and starts
/// it: a component through the handlers' [`ChildHost`]; a function or a service is given back,
/// for the exchange to call (`calling.rs`).
pub(super) fn start_handler(
    ctx: &Context<Parsed, Payload>,
    handlers: &mut Handlers,
    create: &(dyn Fn(Request) -> Handler + Send + Sync),
    request: Box<Request>,
) -> Option<Call> {
    let handler = match catch_unwind(AssertUnwindSafe(|| create(*request))) {
        Ok(handler) => handler,
        Err(panic) => {
            let why = panic_text(&*panic);
            log::error!("{}: the request handler factory panicked: {why}", ctx.name());
            Handler::from(ErrorPages::website_error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not make a handler for this request.",
            ))
        }
    };
    match handler.into_kind() {
        Kind::Component(job) => {
            handlers.start(job);
            None
        }
        Kind::Call(call) => Some(call),
    }
}

/// Between requests, perhaps idle for long: the handlers' boxes are tidied
/// ([`ChildHost::tidy`]), and the request handler's `inbox` keeps as much buffer as they do: a
/// few messages' worth while requests follow each other (`busy`) or a host is kept (so that a
/// request allocates none), none once the connection is idle (and the write buffer `out` goes
/// too).
#[inline]
pub(super) fn tidy_between_requests(
    ctx: &mut Context<Parsed, Payload>,
    handlers: &mut Handlers,
    out: &mut BytesMut,
    busy: bool,
) {
    handlers.tidy();
    let keep = if busy || handlers.keeps_host() { FIRST_BUFFER_ROOM } else { 0 };
    if keep == 0 {
        *out = BytesMut::new();
    }
    ctx.inbox.shrink_to(keep);
}

pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".to_owned())
}
