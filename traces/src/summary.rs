//! Run-summary collector: event counts per track and per level, and the first
//! error and warning.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::record::{Fields, TARGET};
use crate::SimClock;

/// Event counts per level (events of any target).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    pub error: u64,
    pub warn: u64,
    pub info: u64,
    pub debug: u64,
    pub trace: u64,
}

/// The first event of a level (error or warning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstMessage {
    /// Simulated time (ps) when the summary layer has a clock.
    pub time_ps: Option<u64>,
    /// The event's target (module path by default, `"vp"` for components).
    pub target: String,
    /// The `track` field, if any.
    pub track: Option<String>,
    /// The message (or `name`) followed by the other fields as `key=value`.
    pub text: String,
}

/// A snapshot of the counts, for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Events seen, any target.
    pub total: u64,
    /// Per level, any target.
    pub levels: LevelCounts,
    /// `vp` events with a `track`, per track (sorted by track).
    pub per_track: BTreeMap<String, u64>,
    pub first_error: Option<FirstMessage>,
    pub first_warning: Option<FirstMessage>,
}

/// Counts events in memory (no thread); read it with [`SummaryHandle`].
pub struct SummaryLayer {
    state: Arc<Mutex<Summary>>,
    clock: Option<SimClock>,
}

/// Reads the counts of a [`SummaryLayer`], during or after the run.
#[derive(Clone)]
pub struct SummaryHandle {
    state: Arc<Mutex<Summary>>,
}

/// Creates a summary layer and its handle. With a clock, the first error and
/// warning carry their simulated time.
pub fn summary_layer(clock: Option<SimClock>) -> (SummaryLayer, SummaryHandle) {
    let state = Arc::new(Mutex::new(Summary::default()));
    (
        SummaryLayer {
            state: state.clone(),
            clock,
        },
        SummaryHandle { state },
    )
}

fn lock(m: &Mutex<Summary>) -> MutexGuard<'_, Summary> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SummaryHandle {
    /// A copy of the counts so far.
    pub fn snapshot(&self) -> Summary {
        lock(&self.state).clone()
    }
}

impl std::fmt::Debug for SummaryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SummaryHandle")
            .field(&self.snapshot())
            .finish()
    }
}

impl std::fmt::Debug for SummaryLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SummaryLayer").finish_non_exhaustive()
    }
}

impl<S: Subscriber> Layer<S> for SummaryLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = *meta.level();
        let mut s = lock(&self.state);
        s.total += 1;
        let c = &mut s.levels;
        match level {
            Level::ERROR => c.error += 1,
            Level::WARN => c.warn += 1,
            Level::INFO => c.info += 1,
            Level::DEBUG => c.debug += 1,
            _ => c.trace += 1,
        }
        if meta.target() == TARGET {
            // Counts the track without allocating (except for a new track).
            event.record(&mut TrackCounter(&mut s.per_track));
        }
        let slot_empty = match level {
            Level::ERROR => s.first_error.is_none(),
            Level::WARN => s.first_warning.is_none(),
            _ => false,
        };
        if slot_empty {
            let fields = Fields::from_event(event);
            let msg = FirstMessage {
                time_ps: self.clock.as_ref().map(|c| c()),
                target: meta.target().to_owned(),
                track: fields.track.clone(),
                text: fields.summary_text(),
            };
            if level == Level::ERROR {
                s.first_error = Some(msg);
            } else {
                s.first_warning = Some(msg);
            }
        }
    }
}

struct TrackCounter<'a>(&'a mut BTreeMap<String, u64>);

impl TrackCounter<'_> {
    fn count(&mut self, track: &str) {
        match self.0.get_mut(track) {
            Some(n) => *n += 1,
            None => {
                self.0.insert(track.to_owned(), 1);
            }
        }
    }
}

impl Visit for TrackCounter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "track" {
            self.count(value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "track" {
            self.count(&format!("{value:?}"));
        }
    }
}
