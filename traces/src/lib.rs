//! vp-traces: timelines of the virtual platform, stamped with **simulated** time.
//!
//! Components emit ordinary [`tracing`] events; `tracing-subscriber` layers of
//! this crate turn them into
//! - a Chrome trace-event JSON file that ui.perfetto.dev loads
//!   ([`chrome_layer`]),
//! - a VCD waveform, timescale 1 ps ([`vcd_layer`]),
//! - an in-memory run summary ([`summary_layer`]).
//!
//! Timestamps come from a caller-provided [`SimClock`] (picoseconds); nothing
//! here reads the wall clock. The writers run on their own threads behind a
//! bounded channel with blocking sends: no event is ever dropped, and the
//! same event stream gives byte-identical files.
//!
//! # Field convention (the contract for the whole project)
//!
//! Events for the timelines have target `"vp"` (level `TRACE` by convention)
//! and these fields:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `track` | str, **required** | component path, e.g. `"cluster.redmule"`, `"cluster.core3"`: one Perfetto track (tid) per distinct track, in first-appearance order, named with `thread_name` metadata; in the VCD, the scope (split on `.`) |
//! | `ev` | str | `"begin"`, `"end"`, `"slice"`, `"instant"` (the default when absent or unknown), `"counter"`, `"signal"` |
//! | `name` | str | slice / instant / counter / signal name (default: the event's message) |
//! | `dur_ps` | u64 | `ev="slice"`: duration in ps |
//! | `start_ps` | u64 | `ev="slice"`, optional: start time in ps (default: now) |
//! | `value` | f64, i64 or u64 | `ev="counter"`: the counter's value; `ev="signal"`: the signal's value (integer or bool) |
//! | `width` | u64 | `ev="signal"`, optional: bit width, default 1; the first event of a signal fixes it (1..=64) |
//! | anything else | any | kept, in declaration order, in the event's `args` (e.g. `bank`, `addr`, `cause`); a message next to a `name` becomes `args.message` |
//!
//! Events with another target, or without `track`, are passed over by the
//! timeline layers; the summary layer counts events of every target per level
//! and keeps the first error and the first warning.
//!
//! How the kinds appear in the Chrome trace (one pid, `"cluster"`; one tid per
//! track):
//! - `begin`/`end` -> `B`/`E` on the track; an `end` closes the latest open
//!   `begin` of its track (an `end` with none open is skipped); slices still
//!   open at finish get an `E` at the final time with
//!   `args.closed_at_finish = true`.
//! - `slice` -> `X` with `dur`; `instant` -> `i` with thread scope.
//! - `counter` -> `C` named `"<track>.<name>"` with `args.value` (counters are
//!   per process in this format, hence the track in the name).
//! - `signal` -> only in the VCD (per-cycle signals would flood the timeline).
//!
//! `track` and `name` values given as strings are interned (each distinct
//! string is sent to the writer once): draw them from a bounded set, and put
//! per-event data (addresses, ids) in extra fields. Names formatted with
//! `%`/`?` or taken from the message are sent with each event instead.
//!
//! Slices on one track must nest properly (Perfetto drops overlapping ones):
//! put concurrent activity on separate tracks, e.g. `"cluster.redmule.load"`.
//! Perfetto shows nanoseconds; the file keeps exact picoseconds.
//!
//! One example per `ev` kind, with plain `tracing` and with the helper macros
//! of this crate (which expand to exactly these calls):
//!
//! ```
//! use tracing::{event, Level};
//!
//! // nested slices on a track: begin ... end (the end closes the latest begin)
//! event!(target: "vp", Level::TRACE, track = "cluster.redmule", ev = "begin", name = "job", id = 7u64);
//! event!(target: "vp", Level::TRACE, track = "cluster.redmule", ev = "end", name = "job");
//! vp_traces::begin!("cluster.redmule", "job", id = 7u64);
//! vp_traces::end!("cluster.redmule", "job");
//!
//! // a complete slice: starts now (or at start_ps), lasts dur_ps
//! event!(target: "vp", Level::TRACE, track = "cluster.core3", ev = "slice", name = "stall",
//!        dur_ps = 3000u64, start_ps = 1000u64, bank = 5u64, cause = "conflict");
//! vp_traces::slice!("cluster.core3", "stall", 3000u64, bank = 5u64, cause = "conflict");
//!
//! // an instant (ev may be omitted; the message is then the name)
//! event!(target: "vp", Level::TRACE, track = "cluster.core3", ev = "instant", name = "irq", line = 3u64);
//! event!(target: "vp", Level::TRACE, track = "cluster.core3", "wfi");
//! vp_traces::instant!("cluster.core3", "irq", line = 3u64);
//!
//! // a counter: value f64 or integer
//! event!(target: "vp", Level::TRACE, track = "cluster.tcdm", ev = "counter", name = "occupancy", value = 0.75);
//! vp_traces::counter!("cluster.tcdm", "occupancy", 0.75);
//!
//! // a VCD signal: value u64 (or bool), width defaults to 1
//! event!(target: "vp", Level::TRACE, track = "cluster.redmule", ev = "signal", name = "busy", value = 1u64);
//! event!(target: "vp", Level::TRACE, track = "cluster.redmule", ev = "signal", name = "state",
//!        value = 5u64, width = 4u64);
//! vp_traces::signal!("cluster.redmule", "state", 5u64, 4u64);
//! vp_traces::signal!("cluster.redmule", "busy", true);
//! ```
//!
//! # Installing the layers
//!
//! ```no_run
//! use std::sync::Arc;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! # fn main() -> std::io::Result<()> {
//! let clock: vp_traces::SimClock = Arc::new(|| 0); // the kernel's now(), in ps
//! let (chrome, chrome_guard) = vp_traces::chrome_layer("run.json".as_ref(), clock.clone())?;
//! let (vcd, vcd_guard) = vp_traces::vcd_layer("run.vcd".as_ref(), clock.clone())?;
//! let (summary, handle) = vp_traces::summary_layer(Some(clock));
//! let subscriber = tracing_subscriber::registry().with(chrome).with(vcd).with(summary);
//! tracing::subscriber::with_default(subscriber, || {
//!     // run one simulation on this thread
//! });
//! chrome_guard.finish()?; // or finish_at(end_ps); dropping the guard also finishes
//! vcd_guard.finish()?;
//! println!("{:?}", handle.snapshot());
//! # Ok(()) }
//! ```
//!
//! `with_default` is thread-local, so simulations on different threads trace
//! independently. Keep the guards alive until the simulation has ended:
//! finishing closes the file, and later events are discarded. If the
//! simulation stops on a fault (an error return or a panic that unwinds), the
//! guard's `Drop` still finishes the file: the JSON is a valid document, with
//! the open "begin" slices closed at the last time seen.
//!
//! The layers do not filter callsites (a layer returning "disabled" would
//! disable the event for the whole subscriber, including the summary); they
//! pass over foreign events in `on_event`. Add a `tracing_subscriber::filter`
//! to the subscriber if other crates log heavily at `TRACE`.
//!
//! # Cost with tracing off
//!
//! With no subscriber installed anywhere, `tracing`'s global max level is
//! `OFF` and each `event!` is one relaxed atomic load and a compare: the field
//! expressions are not evaluated. When some other thread has a subscriber, the
//! per-callsite interest cache adds a thread-local dispatcher look-up, still a
//! few ns. Guard only *expensive* field computations with [`enabled()`]:
//!
//! ```
//! if vp_traces::enabled() {
//!     let occupancy = 0.5; // something costly to compute
//!     vp_traces::counter!("cluster.tcdm", "occupancy", occupancy);
//! }
//! ```
//!
//! # Determinism
//!
//! Records keep their emission order through a FIFO channel to one writer
//! thread per file (in batches of [`BATCH_LEN`], at most [`CHANNEL_CAPACITY`]
//! records in flight; beyond that the simulation thread blocks). Tracks and
//! signals get ids in first-appearance order. Times are written in exact
//! decimal (`ts` in µs = ps / 10^6 by integer division and remainder, e.g.
//! `1.234567`), never through float rounding. So two identical event streams
//! give identical bytes. (Readers parse `ts` as a double, which holds every
//! picosecond up to about 2.5 hours of simulated time; Perfetto itself keeps
//! nanoseconds.)
//!
//! # Run summary
//!
//! [`SummaryHandle::snapshot`] returns a [`Summary`] (`serde::Serialize`):
//! events per level (any target), `vp` events per track (sorted), and the
//! first error and warning with their text, target, track and simulated time.
//!

mod chrome;
mod record;
mod summary;
mod vcd;
mod writer;

use std::sync::Arc;

pub use chrome::{chrome_layer, ChromeTraceLayer};
pub use summary::{summary_layer, FirstMessage, LevelCounts, Summary, SummaryHandle, SummaryLayer};
pub use vcd::{vcd_layer, VcdLayer};
pub use writer::{WriterGuard, BATCH_LEN, CHANNEL_CAPACITY};

/// The simulated-time source: returns the current simulated time in
/// picoseconds. The kernel provides it (e.g. from a thread-local set by the
/// executor). Called on the thread that emits the event.
pub type SimClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The `tracing` target of timeline events.
pub const TARGET: &str = "vp";

/// Whether a timeline event emitted here now would be recorded by some layer
/// (target `"vp"`, level `TRACE`). Use it to skip costly field computations;
/// plain `event!`s need no guard.
///
/// It is exact when no subscriber exists in the process (false) or when this
/// thread's subscriber has the layers (true). While another thread has a
/// subscriber, `tracing`'s callsite cache can make it true on a thread
/// without one: it is a hint to skip work, never a correctness condition.
#[inline]
pub fn enabled() -> bool {
    tracing::enabled!(target: "vp", tracing::Level::TRACE)
}

#[doc(hidden)]
pub use tracing as __tracing;

#[doc(hidden)]
#[inline]
pub fn __str<T: AsRef<str> + ?Sized>(s: &T) -> &str {
    s.as_ref()
}

/// Opens a nested slice on a track: `begin!(track, name, extra fields...)`.
#[macro_export]
macro_rules! begin {
    ($track:expr, $name:expr $(, $($field:tt)+)?) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "begin", name = $crate::__str(&$name)
            $(, $($field)+)?)
    };
}

/// Closes the latest open slice on a track: `end!(track, name, extra fields...)`.
#[macro_export]
macro_rules! end {
    ($track:expr, $name:expr $(, $($field:tt)+)?) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "end", name = $crate::__str(&$name)
            $(, $($field)+)?)
    };
}

/// A complete slice starting now: `slice!(track, name, dur_ps, extra fields...)`.
/// Add `start_ps = t` among the extra fields to start it elsewhere.
#[macro_export]
macro_rules! slice {
    ($track:expr, $name:expr, $dur_ps:expr $(, $($field:tt)+)?) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "slice", name = $crate::__str(&$name),
            dur_ps = ($dur_ps) as u64 $(, $($field)+)?)
    };
}

/// An instant: `instant!(track, name, extra fields...)`.
#[macro_export]
macro_rules! instant {
    ($track:expr, $name:expr $(, $($field:tt)+)?) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "instant", name = $crate::__str(&$name)
            $(, $($field)+)?)
    };
}

/// A counter sample: `counter!(track, name, value)` (value f64 or integer).
#[macro_export]
macro_rules! counter {
    ($track:expr, $name:expr, $value:expr $(, $($field:tt)+)?) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "counter", name = $crate::__str(&$name),
            value = $value $(, $($field)+)?)
    };
}

/// A VCD value change: `signal!(track, name, value)` (1 bit) or
/// `signal!(track, name, value, width)`.
#[macro_export]
macro_rules! signal {
    ($track:expr, $name:expr, $value:expr) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "signal", name = $crate::__str(&$name),
            value = $value)
    };
    ($track:expr, $name:expr, $value:expr, $width:expr) => {
        $crate::__tracing::event!(target: "vp", $crate::__tracing::Level::TRACE,
            track = $crate::__str(&$track), ev = "signal", name = $crate::__str(&$name),
            value = $value, width = ($width) as u64)
    };
}
