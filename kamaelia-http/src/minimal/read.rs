//! Reading a file into pieces, and how that fails once a response has begun ([`MinimalError`]).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

/// Why a response failed after its head was sent: the server aborts the connection, since the
/// body can no longer match the length the head announced.
#[derive(Debug, thiserror::Error)]
pub enum MinimalError {
    /// The file ended before the length read when it was opened (it shrank while being sent).
    #[error("`{}` ended after {sent} of {expected} bytes: the file shrank while being sent", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The bytes of the response body read before the end.
        sent: u64,
        /// The bytes the head announced.
        expected: u64,
    },
    /// Reading the file failed.
    #[error("reading `{}` failed after {sent} of {expected} bytes: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The bytes of the response body read before the failure.
        sent: u64,
        /// The bytes the head announced.
        expected: u64,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

/// Why [`read_piece`] fell short: the bytes it did read, and the cause.
#[derive(Debug)]
pub(super) enum PieceError {
    /// The file ended first.
    Truncated(usize),
    /// A read failed.
    Read(usize, io::Error),
}

impl PieceError {
    /// The error for a response of `expected` bytes of `path` of which `sent` went before.
    pub(super) fn at(self, path: &Path, sent: u64, expected: u64) -> MinimalError {
        match self {
            PieceError::Truncated(got) => {
                MinimalError::Truncated { path: path.to_owned(), sent: sent + got as u64, expected }
            }
            PieceError::Read(got, source) => {
                MinimalError::Read { path: path.to_owned(), sent: sent + got as u64, expected, source }
            }
        }
    }
}

/// Reads exactly `want` bytes from `file` into a buffer of that size (blocking).
pub(super) fn read_piece(file: &mut File, want: usize) -> Result<Bytes, PieceError> {
    let mut piece = Vec::with_capacity(want);
    // `read_to_end` fills the spare capacity without zeroing it first, and retries on EINTR.
    match Read::take(&mut *file, want as u64).read_to_end(&mut piece) {
        Ok(_) if piece.len() == want => Ok(Bytes::from(piece)),
        Ok(_) => Err(PieceError::Truncated(piece.len())),
        Err(e) => Err(PieceError::Read(piece.len(), e)),
    }
}
