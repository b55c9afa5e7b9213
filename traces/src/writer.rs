//! The writer thread behind a bounded channel, the simulation-side batching,
//! and the guard that finishes a file.
//!
//! On the simulation thread a layer turns an event into an [`Item`] (no
//! allocation in the common case) and appends it to a pending batch; a full
//! batch goes through a bounded crossbeam channel with a blocking send, so a
//! slow writer slows the simulation down but never loses a record. Batching
//! keeps the channel's wake-ups (futex calls) and cross-thread frees to one
//! per [`BATCH_LEN`] records.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};
use tracing::Event;

use crate::record::{peek_kind, Interner, Item, Kind, RecVisitor};
use crate::SimClock;

/// Records per batch sent to a writer thread.
pub const BATCH_LEN: usize = 1024;

/// Bound of the records in flight between a layer and its writer thread
/// (`CHANNEL_CAPACITY / BATCH_LEN` batches in the channel, plus the batch
/// being filled). When the bound is reached the simulation thread blocks:
/// records are never dropped.
pub const CHANNEL_CAPACITY: usize = 1 << 16;

pub(crate) enum Msg {
    Batch(Vec<Item>),
    /// Finish the output; the optional value is a final simulated time (ps).
    Finish(Option<u64>),
}

/// The file-format side of a writer thread.
pub(crate) trait Sink: Send + 'static {
    fn write(&mut self, item: Item) -> io::Result<()>;
    /// Completes the output. `end_ps` is the caller's final time, if any.
    fn finish(self, end_ps: Option<u64>) -> io::Result<()>;
}

/// Simulation-side state of one layer.
struct Pending {
    interner: Interner,
    items: Vec<Item>,
}

struct Shared {
    pending: Mutex<Pending>,
    closed: AtomicBool,
    tx: Sender<Msg>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sending side used by a layer.
pub(crate) struct Link {
    shared: Arc<Shared>,
    clock: SimClock,
    /// Keep the extra fields (`args`); the VCD does not need them.
    keep_args: bool,
    /// Which kinds this layer writes.
    accept: fn(Kind) -> bool,
}

impl Link {
    /// Turns a `vp` event into a record stamped with the clock and queues it.
    pub(crate) fn on_event(&self, event: &Event<'_>) {
        if self.shared.closed.load(Ordering::Relaxed) || !(self.accept)(peek_kind(event)) {
            return;
        }
        let mut guard = self.shared.lock();
        let p = &mut *guard;
        let mut v = RecVisitor::new(&mut p.interner, &mut p.items, self.keep_args);
        event.record(&mut v);
        if !(self.accept)(v.kind()) {
            return;
        }
        let Some(mut rec) = v.into_rec() else { return };
        rec.time_ps = (self.clock)();
        p.items.push(Item::Rec(rec));
        if p.items.len() >= BATCH_LEN {
            let batch = std::mem::replace(&mut p.items, Vec::with_capacity(BATCH_LEN));
            // Sent under the lock so batches keep their order even if several
            // threads share the layer. Fails only once the writer has stopped.
            let _ = self.shared.tx.send(Msg::Batch(batch));
        }
    }
}

/// Starts the writer thread for `sink`; returns the layer's link and the guard.
pub(crate) fn spawn<S: Sink>(
    thread_name: &str,
    sink: S,
    clock: SimClock,
    keep_args: bool,
    accept: fn(Kind) -> bool,
) -> io::Result<(Link, WriterGuard)> {
    let (tx, rx) = bounded::<Msg>((CHANNEL_CAPACITY / BATCH_LEN).max(1));
    let handle = std::thread::Builder::new()
        .name(thread_name.to_owned())
        .spawn(move || run(sink, rx))?;
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending {
            interner: Interner::default(),
            items: Vec::with_capacity(BATCH_LEN),
        }),
        closed: AtomicBool::new(false),
        tx,
    });
    let link = Link {
        shared: shared.clone(),
        clock,
        keep_args,
        accept,
    };
    let guard = WriterGuard {
        shared,
        handle: Some(handle),
    };
    Ok((link, guard))
}

fn run<S: Sink>(mut sink: S, rx: Receiver<Msg>) -> io::Result<()> {
    let end = loop {
        match rx.recv() {
            Ok(Msg::Batch(items)) => {
                for item in items {
                    sink.write(item)?;
                }
            }
            Ok(Msg::Finish(end)) => break end,
            // Cannot happen while the guard lives (it holds a sender).
            Err(_) => break None,
        }
    };
    // Dropping `rx` (on return) wakes any sender still blocked on a full
    // channel; its batch is discarded.
    drop(rx);
    sink.finish(end)
}

/// Owns a writer thread. [`WriterGuard::finish`] (or dropping the guard)
/// completes the file: the pending records are written, open slices are
/// closed, the footer / header is written, the file is flushed and the thread
/// joined. Events emitted after that are discarded.
///
/// Keep the guard alive for the whole simulation: `let (layer, _) = ...`
/// drops it at once and finishes an empty file.
#[must_use = "dropping the guard finishes the trace file at once"]
pub struct WriterGuard {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<io::Result<()>>>,
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
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        self.shared.closed.store(true, Ordering::Relaxed);
        {
            let mut p = self.shared.lock();
            let batch = std::mem::take(&mut p.items);
            // The sends fail only if the thread already stopped on an I/O
            // error; the join below reports it.
            if !batch.is_empty() {
                let _ = self.shared.tx.send(Msg::Batch(batch));
            }
            let _ = self.shared.tx.send(Msg::Finish(end));
        }
        match handle.join() {
            Ok(r) => r,
            Err(_) => Err(io::Error::other("vp-traces writer thread panicked")),
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
