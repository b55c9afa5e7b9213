//! The writer thread behind a bounded channel, and the guard that finishes it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::record::Rec;

/// Capacity of the channel between a layer and its writer thread, in records.
/// A full channel blocks the simulation thread (records are never dropped).
pub const CHANNEL_CAPACITY: usize = 1 << 16;

pub(crate) enum Msg {
    Rec(Rec),
    /// Finish the output; the optional value is a final simulated time (ps).
    Finish(Option<u64>),
}

/// The file-format side of a writer thread.
pub(crate) trait Sink: Send + 'static {
    fn write(&mut self, rec: Rec) -> io::Result<()>;
    /// Completes the output. `end_ps` is the caller's final time, if any.
    fn finish(self, end_ps: Option<u64>) -> io::Result<()>;
}

/// The sending side shared by a layer: a channel plus a "closed" flag so that
/// a layer stops formatting once its writer has been finished.
#[derive(Clone)]
pub(crate) struct Link {
    tx: Sender<Msg>,
    closed: Arc<AtomicBool>,
}

impl Link {
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Blocking send; a record sent after the writer finished is discarded.
    #[inline]
    pub(crate) fn send(&self, rec: Rec) {
        let _ = self.tx.send(Msg::Rec(rec));
    }
}

/// Starts the writer thread for `sink`; returns the layer's link and the guard.
pub(crate) fn spawn<S: Sink>(thread_name: &str, sink: S) -> io::Result<(Link, WriterGuard)> {
    let (tx, rx) = bounded::<Msg>(CHANNEL_CAPACITY);
    let closed = Arc::new(AtomicBool::new(false));
    let handle = std::thread::Builder::new()
        .name(thread_name.to_owned())
        .spawn(move || run(sink, rx))?;
    let link = Link {
        tx: tx.clone(),
        closed: closed.clone(),
    };
    let guard = WriterGuard {
        tx: Some(tx),
        handle: Some(handle),
        closed,
    };
    Ok((link, guard))
}

fn run<S: Sink>(mut sink: S, rx: Receiver<Msg>) -> io::Result<()> {
    let end = loop {
        match rx.recv() {
            Ok(Msg::Rec(rec)) => sink.write(rec)?,
            Ok(Msg::Finish(end)) => break end,
            // Every sender is gone (layer and guard dropped): finish anyway.
            Err(_) => break None,
        }
    };
    // Dropping `rx` (on return) wakes any sender still blocked on a full
    // channel; its record is discarded.
    drop(rx);
    sink.finish(end)
}

/// Owns a writer thread. [`WriterGuard::finish`] (or dropping the guard)
/// completes the file: the remaining records are written, open slices are
/// closed, the footer / header is written, the file is flushed and the thread
/// joined.
///
/// Keep the guard alive for the whole simulation: `let (layer, _) = ...`
/// drops it at once and finishes an empty file.
#[must_use = "dropping the guard finishes the trace file at once"]
pub struct WriterGuard {
    tx: Option<Sender<Msg>>,
    handle: Option<JoinHandle<io::Result<()>>>,
    closed: Arc<AtomicBool>,
}

impl WriterGuard {
    /// Finishes the file at the last simulated time seen in the stream and
    /// returns the first I/O error of the writer, if any.
    pub fn finish(mut self) -> io::Result<()> {
        self.close(None)
    }

    /// Like [`finish`](Self::finish), with the simulation's final time
    /// (picoseconds): open "begin" slices are closed at
    /// `max(end_ps, last time seen)`.
    pub fn finish_at(mut self, end_ps: u64) -> io::Result<()> {
        self.close(Some(end_ps))
    }

    fn close(&mut self, end: Option<u64>) -> io::Result<()> {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(tx) = self.tx.take() {
            // Fails only if the thread already stopped (I/O error); the join
            // below reports it.
            let _ = tx.send(Msg::Finish(end));
        }
        match self.handle.take() {
            Some(h) => match h.join() {
                Ok(r) => r,
                Err(_) => Err(io::Error::other("vp-traces writer thread panicked")),
            },
            None => Ok(()),
        }
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let _ = self.close(None);
    }
}

impl std::fmt::Debug for WriterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterGuard")
            .field("finished", &self.handle.is_none())
            .finish()
    }
}
