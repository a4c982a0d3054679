//! What a socket adapter writes: bytes, or a region of a file that the kernel copies to the socket
//! itself (`sendfile`).
//!
//! A [`ConnectedSocketAdapter`](crate::socket::ConnectedSocketAdapter) whose `inbox` carries
//! [`Bytes`] writes bytes only; one made with
//! [`carrying`](crate::socket::ConnectedSocketAdapter::carrying) a [`Payload`] also takes
//! [`FileRegion`]s. A region is a file, a starting offset and a length: the adapter sends it with
//! `sendfile(2)` on Linux and Android, so the file's bytes go from the page cache to the socket
//! without ever being read into the process (no buffer to fill, no copy in and out, one system
//! call for as much as the socket takes). Elsewhere, and for a file `sendfile` refuses, it reads
//! the region in pieces (`pread`) and writes them.
//!
//! A server chassis makes the adapter carry whatever its protocol's `outbox` sends (any
//! [`Outgoing`] type), so a protocol opts in by sending [`Payload`]s; the HTTP server does, and its
//! static-file handler sends large files as regions.
//!
//! ```
//! use kamaelia_chassis::socket::{Bytes, FileRegion, Payload};
//! # fn main() -> std::io::Result<()> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("f.txt"), "0123456789")?;
//! let region = FileRegion::new(std::fs::File::open(dir.path().join("f.txt"))?, 2, 5);
//! assert_eq!(region.read_to_bytes()?, Bytes::from_static(b"23456"));
//! let payload = Payload::from(region);
//! assert_eq!(payload.len(), 5);
//! # Ok(()) }
//! ```
//!
//! # A file that changes while it is sent
//!
//! The region's length is decided when it is made. If the file turns out shorter when its turn to
//! be sent comes (it was truncated), or reading it fails, the adapter cannot send what it promised:
//! it logs a warning naming the shortfall and drops the connection at once (the peer sees the
//! stream end early, and an HTTP client a body shorter than its `Content-Length`), rather than
//! carry on as if the data had been complete. If the file grows, only the region is sent.
//!
//! `sendfile` does not copy: the kernel keeps references to the file's pages and reads them when
//! it transmits. Bytes handed to the kernel but not yet sent when the file shrinks are sent as the
//! file then reads (past its new end, zeros), as from any server that uses `sendfile` (nginx's
//! documentation says the same). The peer still sees the stream end short of the region, so a
//! body is never taken for whole; for bodies that must be exact even then, read the file into
//! bytes instead (the HTTP server's `--sendfile off`). A file removed, or replaced by another
//! under its name, while it is sent is sent whole as it was: the open file is still the file.

use std::fmt;
use std::fs::File;
use std::io;
use std::sync::Arc;

use bytes::{Buf, Bytes};

use crate::receipt::Receipt;

/// The most bytes of a file region an adapter sends in one go: 2 MiB (nginx's
/// `sendfile_max_chunk`). Against a fast reader (on loopback, say) a socket never fills, and one
/// `sendfile` of a large file could keep the thread from the other connections on it for
/// milliseconds; after this many bytes the adapter lets them run first.
pub const SENDFILE_MAX_CHUNK: usize = 2 * 1024 * 1024;

/// A byte range of an open file, to be sent to a socket by the kernel (see the
/// [module docs](self)). Cloning shares the file; [`PartialEq`] compares the file by identity
/// (the same open file, not the same contents) and the range by value.
#[derive(Clone)]
pub struct FileRegion {
    file: Arc<File>,
    offset: u64,
    len: u64,
}

impl FileRegion {
    /// The `len` bytes of `file` starting at `offset` (from the start of the file, whatever the
    /// file's own position). Nothing is checked or read now: the file is read when the region is
    /// sent.
    pub fn new(file: impl Into<Arc<File>>, offset: u64, len: u64) -> Self {
        FileRegion { file: file.into(), offset, len }
    }

    /// The whole of `file`, as long as it is now.
    ///
    /// # Errors
    /// The file's metadata cannot be read.
    pub fn whole(file: impl Into<Arc<File>>) -> io::Result<Self> {
        let file = file.into();
        let len = file.metadata()?.len();
        Ok(FileRegion { file, offset: 0, len })
    }

    /// The file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Where the region starts in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many bytes the region holds.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if the region holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops the first `n` bytes from the region (it then starts `n` bytes later).
    ///
    /// # Panics
    /// If `n` is more than [`len`](Self::len).
    pub fn advance(&mut self, n: u64) {
        assert!(n <= self.len, "cannot advance a region of {} bytes by {n}", self.len);
        self.offset += n;
        self.len -= n;
    }

    /// Keeps only the first `len` bytes of the region (no change if it holds fewer).
    pub fn truncate(&mut self, len: u64) {
        self.len = self.len.min(len);
    }

    /// Reads the whole region into memory (blocking): for a consumer that needs the bytes
    /// themselves, such as a test, rather than a socket.
    ///
    /// # Errors
    /// Reading fails, or the file ends before the region does (`UnexpectedEof`).
    pub fn read_to_bytes(&self) -> io::Result<Bytes> {
        let len = usize::try_from(self.len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("a region of {} bytes cannot be held in memory", self.len),
            )
        })?;
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match read_at(&self.file, &mut buf[filled..], self.offset + filled as u64) {
                Ok(0) => return Err(self.ended_early(self.offset + filled as u64)),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Bytes::from(buf))
    }

    /// The error for a file found to end at byte `at`, inside the region.
    pub(crate) fn ended_early(&self, at: u64) -> io::Error {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the file ends at byte {at}, short of the region's end at byte {} (it shrank after the region was made)",
                self.offset + self.len
            ),
        )
    }

    /// Sends as much of the region as `socket` takes now, up to [`SENDFILE_MAX_CHUNK`] bytes,
    /// without waiting and without advancing the region: the bytes sent (0 if the file has
    /// ended), or `WouldBlock` when the socket is full (its readiness is then cleared, so waiting
    /// for it to be writable works).
    pub(crate) fn send_now(&self, socket: &tokio::net::TcpStream) -> io::Result<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::io::Errno;
            let count = usize::try_from(self.len).unwrap_or(usize::MAX).min(SENDFILE_MAX_CHUNK);
            let sent = socket.try_io(tokio::io::Interest::WRITABLE, || {
                let mut offset = self.offset;
                match rustix::fs::sendfile(socket, &*self.file, Some(&mut offset), count) {
                    Ok(n) => Ok(Some(n)),
                    // A file `sendfile` cannot read from: copy it instead.
                    Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => Ok(None),
                    Err(e) => Err(io::Error::from(e)),
                }
            });
            match sent {
                Ok(Some(n)) => return Ok(n),
                Ok(None) => {}
                Err(e) => return Err(e),
            }
        }
        self.copy_now(socket)
    }

    /// [`send_now`](Self::send_now) by reading a piece and writing it.
    fn copy_now(&self, socket: &tokio::net::TcpStream) -> io::Result<usize> {
        /// The most read at once when copying.
        const PIECE: u64 = 64 * 1024;
        let mut piece = vec![0; self.len.min(PIECE) as usize];
        let got = loop {
            match read_at(&self.file, &mut piece, self.offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        if got == 0 {
            return Ok(0);
        }
        // What the socket does not take now is read again next time.
        socket.try_write(&piece[..got])
    }
}

/// Reads into `buf` from `offset` of `file`, leaving the file's position alone where the platform
/// allows (`pread`).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// Reads into `buf` from `offset` of `file`, leaving the file's position alone where the platform
/// allows (`pread`).
#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Reads into `buf` from `offset` of `file` (moving the file's position: a region's file should not
/// be shared with readers of its position on such a platform).
#[cfg(not(any(unix, windows)))]
fn read_at(mut file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read(buf)
}

impl PartialEq for FileRegion {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file) && self.offset == other.offset && self.len == other.len
    }
}

impl Eq for FileRegion {}

impl fmt::Debug for FileRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRegion")
            .field("file", &self.file)
            .field("offset", &self.offset)
            .field("len", &self.len)
            .finish()
    }
}

/// One message for a socket adapter carrying payloads: bytes to write, or a region of a file to
/// send (see the [module docs](self)), or a receipt to sign once what came before is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Bytes, written as they are.
    Bytes(Bytes),
    /// A region of a file, sent by the kernel where it can.
    File(FileRegion),
    /// Nothing to write: the adapter signs it once every payload before it has been handed to
    /// the kernel (see [`receipt`](crate::receipt)).
    Receipt(Receipt),
}

impl Payload {
    /// How many bytes it puts on the wire.
    pub fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::File(r) => r.len(),
            Payload::Receipt(_) => 0,
        }
    }

    /// True if it puts nothing on the wire.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops its first `n` bytes.
    ///
    /// # Panics
    /// If `n` is more than [`len`](Self::len).
    pub fn advance(&mut self, n: u64) {
        match self {
            Payload::Bytes(b) => {
                let n = usize::try_from(n).ok().filter(|&n| n <= b.len());
                b.advance(n.unwrap_or_else(|| panic!("cannot advance {} bytes past their end", b.len())));
            }
            Payload::File(r) => r.advance(n),
            Payload::Receipt(_) => assert!(n == 0, "cannot advance a receipt (of no bytes) by {n}"),
        }
    }

    /// Keeps only its first `len` bytes (no change if it holds fewer).
    pub fn truncate(&mut self, len: u64) {
        match self {
            Payload::Bytes(b) => b.truncate(usize::try_from(len).unwrap_or(usize::MAX)),
            Payload::File(r) => r.truncate(len),
            Payload::Receipt(_) => {}
        }
    }

    /// The bytes, if it is bytes.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Payload::Bytes(b) => Some(b),
            Payload::File(_) | Payload::Receipt(_) => None,
        }
    }

    /// Its bytes, reading a file region into memory (blocking; see
    /// [`FileRegion::read_to_bytes`]); none for a receipt.
    ///
    /// # Errors
    /// A region's file cannot be read, or ends before the region does.
    pub fn into_bytes(self) -> io::Result<Bytes> {
        match self {
            Payload::Bytes(b) => Ok(b),
            Payload::File(r) => r.read_to_bytes(),
            Payload::Receipt(_) => Ok(Bytes::new()),
        }
    }
}

impl From<Bytes> for Payload {
    fn from(bytes: Bytes) -> Self {
        Payload::Bytes(bytes)
    }
}

impl From<FileRegion> for Payload {
    fn from(region: FileRegion) -> Self {
        Payload::File(region)
    }
}

impl From<Receipt> for Payload {
    fn from(receipt: Receipt) -> Self {
        Payload::Receipt(receipt)
    }
}

impl From<&'static [u8]> for Payload {
    fn from(bytes: &'static [u8]) -> Self {
        Payload::Bytes(Bytes::from_static(bytes))
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload::Bytes(Bytes::from(bytes))
    }
}

/// What a socket adapter's `inbox` may carry: any message type that becomes a [`Payload`]
/// ([`Bytes`] and [`Payload`] itself). A server chassis's protocol sends one of these out of its
/// `outbox`.
pub trait Outgoing: Into<Payload> + Send + 'static {}

impl<T: Into<Payload> + Send + 'static> Outgoing for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn file_with(content: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), content).unwrap();
        let file = File::open(dir.path().join("f")).unwrap();
        (dir, file)
    }

    #[test]
    fn a_region_advances_truncates_and_compares_by_file_identity() {
        let (_dir, file) = file_with(b"0123456789");
        let file = Arc::new(file);
        let mut region = FileRegion::new(file.clone(), 2, 6);
        assert_eq!(region.read_to_bytes().unwrap(), "234567");
        region.advance(2);
        assert_eq!((region.offset(), region.len()), (4, 4));
        region.truncate(10);
        assert_eq!(region.len(), 4);
        region.truncate(1);
        assert_eq!(region.read_to_bytes().unwrap(), "4");
        assert_eq!(region, FileRegion::new(file.clone(), 4, 1));
        let (_other_dir, other) = file_with(b"0123456789");
        assert_ne!(region, FileRegion::new(other, 4, 1), "another open file, same contents");
        let past_the_end = FileRegion::new(file, 8, 5);
        let error = past_the_end.read_to_bytes().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(error.to_string().contains("ends at byte 10, short of the region's end at byte 13"), "{error}");
    }

    #[test]
    #[should_panic(expected = "cannot advance a region of 3 bytes by 4")]
    fn advancing_past_the_end_panics() {
        let (_dir, file) = file_with(b"abc");
        FileRegion::whole(file).unwrap().advance(4);
    }

    #[test]
    fn payloads_measure_advance_and_cut_bytes_and_regions_alike() {
        let (_dir, file) = file_with(b"abcdef");
        let mut bytes = Payload::from(Bytes::from_static(b"xyz"));
        let mut region = Payload::from(FileRegion::whole(file).unwrap());
        assert_eq!((bytes.len(), region.len()), (3, 6));
        bytes.advance(1);
        region.advance(1);
        bytes.truncate(1);
        region.truncate(3);
        assert_eq!(bytes.as_bytes(), Some(&Bytes::from_static(b"y")));
        assert_eq!(region.as_bytes(), None);
        assert_eq!(region.clone().into_bytes().unwrap(), "bcd");
        region.advance(3);
        assert!(region.is_empty());
    }

    /// The way taken where `sendfile` is refused (or does not exist): read a piece at the
    /// region's offset, write what the socket takes.
    #[tokio::test]
    async fn copying_sends_a_region_as_sendfile_would() {
        let content: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let (_dir, file) = file_with(&content);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut peer = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (ours, _) = listener.accept().await.unwrap();
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            peer.read_to_end(&mut all).await.unwrap();
            all
        });
        let mut region = FileRegion::new(file, 7, 250_000);
        while !region.is_empty() {
            match region.copy_now(&ours) {
                Ok(0) => panic!("the file ended early"),
                Ok(n) => region.advance(n as u64),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ours.writable().await.unwrap(),
                Err(e) => panic!("{e}"),
            }
        }
        // At the end of the file there is nothing more to copy.
        assert_eq!(FileRegion::new(Arc::clone(&region.file), 300_000, 10).copy_now(&ours).unwrap(), 0);
        drop(ours);
        let all = reader.await.unwrap();
        assert!(all == content[7..250_007], "the copied region arrived changed ({} bytes)", all.len());
    }
}
