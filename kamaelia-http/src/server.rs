//! [`HTTPServer`]: the HTTP protocol for one connection, a Graphline (Kamaelia's
//! `Kamaelia.Protocol.HTTP.HTTPServer`).
//!
//! Despite its name, and as in Kamaelia, `HTTPServer` is a *protocol handler*: a server chassis
//! ([`SimpleServer`](kamaelia_chassis::SimpleServer) or [`ServerCore`](kamaelia_chassis::ServerCore))
//! makes one per connection. It is this Graphline:
//!
//! ```text
//!            ┌──────────────────────────── HTTPServer (Graphline) ─────────────────────────────┐
//! bytes in ─▶│ inbox ─▶ PARSER ─(Parsed)─▶ HANDLER ─▶ outbox                                    │─▶ Payload out
//!            │            ▲ │signal          ▲ │signal        HANDLER makes a handler component  │
//!            │     Psignal│ ▼Pcontrol  Hsignal│ ▼Hcontrol      per request and links it to itself │
//! control ──▶│ control ─▶ CORELOGIC ─────────────────▶ signal                                    │─▶ signal
//!            └──────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! `PARSER` is an [`HTTPParser`], `HANDLER` an [`HTTPRequestHandler`], `CORELOGIC` an
//! [`HTTPShutdownLogicHandling`]; their docs say what each does. What leaves its `outbox` is
//! [`Payload`]: bytes, and the regions of files that handlers send as [`Resource::File`](crate::Resource::File),
//! which the connection's socket adapter sends with `sendfile`.

use std::sync::Arc;

use axon_core::Instance;
use kamaelia_chassis::socket::Payload;
use kamaelia_chassis::{graphline, ConnectionInfo, Graphline};

use crate::parser::HTTPParser;
use crate::request::Request;
use crate::request_handler::{CreateRequestHandler, HTTPRequestHandler};
use crate::resource::{Bytes, Handler};
use crate::settings::HttpSettings;
use crate::shutdown::HTTPShutdownLogicHandling;

/// Makes the protocol component for one HTTP connection: see the [module docs](self).
///
/// `HTTPServer` is used like Kamaelia's: `HTTPServer::new(create_request_handler)` returns the
/// Graphline, ready for a server chassis to wire to a socket. Under a
/// [`ServerCore`](kamaelia_chassis::ServerCore), whose factory is given each connection's
/// addresses, [`HTTPServer::for_connection`] puts them on every request.
#[derive(Debug, Clone, Copy)]
pub struct HTTPServer;

impl HTTPServer {
    /// The protocol for one connection, making each request's handler with
    /// `create_request_handler` (Kamaelia's `HTTPServer(createRequestHandler)`), with default
    /// [`HttpSettings`].
    ///
    /// Its requests carry no peer or local address ([`Request::peer`] and [`Request::local`] are
    /// `None`), as under Kamaelia's `SimpleServer`: use [`for_connection`](Self::for_connection)
    /// for them.
    #[allow(clippy::new_ret_no_self)] // Kamaelia's HTTPServer(...) returns a Graphline too
    pub fn new<F, H>(create_request_handler: F) -> Instance<Graphline<Bytes, Payload>>
    where
        F: Fn(Request) -> H + Send + Sync + 'static,
        H: Into<Handler>,
    {
        HTTPServer::graphline(None, shared_factory(create_request_handler), Arc::new(HttpSettings::default()))
    }

    /// The protocol for `connection`, as [`new`](Self::new), with the connection's peer and local
    /// addresses on every request (Kamaelia's `HTTPServer(createRequestHandler, **argd)`, called
    /// by `ServerCore` with `peer`, `peerport`, `localip` and `localport`).
    ///
    /// ```no_run
    /// use kamaelia_chassis::ServerCore;
    /// use kamaelia_http::{factory, request_handlers, HTTPServer, HelloHandler};
    ///
    /// let server = ServerCore::new(
    ///     |connection| {
    ///         HTTPServer::for_connection(connection, request_handlers([("/hello", factory(HelloHandler::new))]))
    ///     },
    ///     8082,
    /// );
    /// axon_core::Instance::new(server).run().unwrap();
    /// ```
    pub fn for_connection<F, H>(
        connection: &ConnectionInfo,
        create_request_handler: F,
    ) -> Instance<Graphline<Bytes, Payload>>
    where
        F: Fn(Request) -> H + Send + Sync + 'static,
        H: Into<Handler>,
    {
        HTTPServer::with_settings(connection, shared_factory(create_request_handler), Arc::new(HttpSettings::default()))
    }

    /// As [`for_connection`](Self::for_connection), with a factory already shared (made once,
    /// used by every connection) and `settings`.
    pub fn with_settings(
        connection: &ConnectionInfo,
        create: CreateRequestHandler,
        settings: Arc<HttpSettings>,
    ) -> Instance<Graphline<Bytes, Payload>> {
        HTTPServer::graphline(Some(connection), create, settings)
    }

    /// The Graphline itself, with `connection`'s addresses on every request if it is known.
    fn graphline(
        connection: Option<&ConnectionInfo>,
        create: CreateRequestHandler,
        settings: Arc<HttpSettings>,
    ) -> Instance<Graphline<Bytes, Payload>> {
        let parser =
            HTTPParser::with_shared_settings(settings.clone(), connection.map(|c| c.peer), connection.map(|c| c.local));
        let built = graphline! {
            PARSER = parser,
            HANDLER = HTTPRequestHandler::new(create, settings),
            CORELOGIC = HTTPShutdownLogicHandling,
            linkages = {
                // data
                ("self", "inbox"): ("PARSER", "inbox"),
                ("PARSER", "outbox"): ("HANDLER", "inbox"),
                ("HANDLER", "outbox"): ("self", "outbox"),
                // signalling
                ("self", "control"): ("CORELOGIC", "control"),
                ("CORELOGIC", "Psignal"): ("PARSER", "control"),
                ("CORELOGIC", "Hsignal"): ("HANDLER", "control"),
                ("CORELOGIC", "signal"): ("self", "signal"),
                ("PARSER", "signal"): ("CORELOGIC", "Pcontrol"),
                ("HANDLER", "signal"): ("CORELOGIC", "Hcontrol"),
            }
        };
        // The declaration is fixed and checked by this crate's tests; it cannot fail.
        built.unwrap_or_else(|e| panic!("HTTPServer's Graphline is miswired: {e}"))
    }
}

/// Shares a factory between connections: the [`CreateRequestHandler`] that
/// [`HTTPServer::with_settings`] takes.
pub fn shared_factory<F, H>(create_request_handler: F) -> CreateRequestHandler
where
    F: Fn(Request) -> H + Send + Sync + 'static,
    H: Into<Handler>,
{
    Arc::new(move |request| create_request_handler(request).into())
}
