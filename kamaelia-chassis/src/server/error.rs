//! [`ServerError`]: why a server could not start.

use std::io;
use std::net::SocketAddr;

use crate::socket::SettingError;

/// Why a server could not start. Callers may match on the variants and read their fields; the
/// wording of the messages may change.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound (typically in use, or not an address of this machine).
    #[error("cannot bind {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// The socket was bound but could not listen.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address bound.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A socket option could not be set.
    #[error("cannot set {option} on the socket for {address}: {source}")]
    SocketOption {
        /// The option, e.g. `SO_REUSEADDR`.
        option: &'static str,
        /// The address the socket was for.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A setting cannot work.
    #[error(transparent)]
    Setting(#[from] SettingError),
}
