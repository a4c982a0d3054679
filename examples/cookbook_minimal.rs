//! The first program of Kamaelia's HTTPServer cookbook page: a static web server, `Minimal`
//! serving files from a home directory, as a server's protocol `HTTPProtocol`.
//!
//! Run it, then poke it:
//!
//! ```text
//! cargo run --example cookbook_minimal                        # the bundled site on 127.0.0.1:8082
//! cargo run --example cookbook_minimal -- --port 8090 --root /srv/www/htdocs
//! curl -i http://127.0.0.1:8082/
//! ```
//!
//! The Python it ports, line for line (comments are the cookbook's):
//!
//! ```python
//! # Import the server framework, the HTTP protocol handling, the minimal request handler, and error handlers
//! from Kamaelia.Chassis.ConnectedServer import SimpleServer
//! from Kamaelia.Protocol.HTTP.HTTPServer import HTTPServer
//! from Kamaelia.Protocol.HTTP.Handlers.Minimal import Minimal
//! import Kamaelia.Protocol.HTTP.ErrorPages as ErrorPages
//!
//! # Our configuration
//! homedirectory = "/srv/www/htdocs"
//! indexfilename = "index.html"
//!
//! def requestHandlers(URLHandlers): ...   # now kamaelia::http::request_handlers
//!
//! # This factory allows us to configure the minimal request handler.
//! def servePage(request):
//!     return Minimal(request=request, homedirectory=homedirectory, indexfilename=indexfilename)
//!
//! # A factory to create configured HTTPServer components - ie HTTP Protocol handling components
//! def HTTPProtocol():
//!     return HTTPServer(requestHandlers([ ["/", servePage ], ]))
//!
//! # Finally we create the actual server and run it.
//! SimpleServer(protocol=HTTPProtocol, port=8082,
//!              socketOptions=(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)).run()
//! ```
//!
//! One thing differs on purpose: Kamaelia's `SimpleServer` called `HTTPProtocol()` with no
//! arguments, so its requests said `'peer': '*** UNDEFINED ***'`; here `http_protocol` takes the
//! connection's addresses (as Kamaelia's own `ServerCore` passed them as keyword arguments), and
//! `HTTPServer::for_connection` puts them on every request. `SimpleServer` takes either kind of
//! factory, so `|| HTTPServer::new(..)` works too, one to one, without the addresses.

mod cookbook;

use std::path::PathBuf;
use std::sync::OnceLock;

// Import the server framework, the HTTP protocol handling, the minimal request handler, and
// the router (the cookbook's `requestHandlers`, which its page calls a "candidate for merging
// into the mainline code": it has been).
use clap::Parser;
use kamaelia::axon::Instance;
use kamaelia::chassis::{ConnectionInfo, Graphline, SimpleServer, SocketOptions};
use kamaelia::http::{factory, request_handlers, Bytes, HTTPServer, Minimal, Payload, Request};
use kamaelia::site::bundled_site;

// Our configuration (from `--root`; by default, none: the bundled site, compiled into the program).
static HOMEDIRECTORY: OnceLock<Option<PathBuf>> = OnceLock::new();
const INDEXFILENAME: &str = "index.html";

// This factory allows us to configure the minimal request handler.
fn serve_page(request: Request) -> Minimal {
    match HOMEDIRECTORY.get().expect("set in main") {
        Some(homedirectory) => Minimal::new(request, homedirectory, INDEXFILENAME),
        None => Minimal::embedded(request, bundled_site(), INDEXFILENAME),
    }
}

// A factory to create configured HTTPServer components - ie HTTP Protocol handling components
// (told its connection's addresses, which every request then carries)
fn http_protocol(connection: &ConnectionInfo) -> Instance<Graphline<Bytes, Payload>> {
    HTTPServer::for_connection(
        connection,
        request_handlers([
            ("/", factory(serve_page)), //
        ]),
    )
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = cookbook::Options::parse();
    HOMEDIRECTORY.set(options.root).expect("set once");

    // Finally we create the actual server and run it. (`http_protocol` takes the connection's
    // addresses, so every request carries them.)
    let server = SimpleServer {
        socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
        ..SimpleServer::new(http_protocol, options.port)
    };
    if let Err(e) = Instance::new(server).run() {
        log::error!("{e}");
        std::process::exit(1);
    }
}
