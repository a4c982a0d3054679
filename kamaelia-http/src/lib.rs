//! Kamaelia's HTTP server, on components: [`HTTPServer`] is the protocol for one connection, a
//! Graphline of a parser, a request handler and the shutdown logic; request handlers are
//! components made per request.
//!
//! (Crate docs are completed with the server.)

pub mod error_pages;
pub mod request;
pub mod resource;
pub mod settings;

pub use error_pages::ErrorPages;
pub use request::{BadRequest, BodyLength, Request};
pub use resource::{Handler, Resource, ResponseHead};
pub use settings::HttpSettings;
