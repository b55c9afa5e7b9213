//! Timeline counters go through `tracing` (target "vp", the vp-traces field convention)
//! only when a subscriber wants them.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records (track, name, value) of counter events.
#[derive(Clone, Default)]
struct Counters(Arc<Mutex<Vec<(String, String, u64)>>>);

#[derive(Default)]
struct Fields {
    track: String,
    ev: String,
    name: String,
    value: u64,
}
impl Visit for Fields {
    fn record_str(&mut self, f: &Field, v: &str) {
        match f.name() {
            "track" => self.track = v.into(),
            "ev" => self.ev = v.into(),
            "name" => self.name = v.into(),
            _ => {}
        }
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        if f.name() == "value" {
            self.value = v;
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Subscriber for Counters {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target() == "vp"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut f = Fields::default();
        e.record(&mut f);
        if f.ev == "counter" {
            self.0.lock().unwrap().push((f.track, f.name, f.value));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn occupancy_counters_are_emitted_on_change_when_tracing_is_on() {
    // Two initiators on bank 0 for 2 requests each: c0 grants 0 (1 waits), c1 grants 1
    // (0 waits), c2 grants 0 (1 waits), c3 grants 1 (none waits), c4: idle -> counters back
    // to 0. waiting_narrow: 1 at c0, unchanged until 0 at c3; banks_busy: 1 at c0, 0 at c4.
    let c = Counters::default();
    tracing::subscriber::with_default(c.clone(), || {
        let mut b = Bench::default_cfg();
        b.narrow(burst(0, (0..2).map(|r| rd(at(0, r)))));
        b.narrow(burst(0, (0..2).map(|r| rd(at(0, 8 + r)))));
        b.run();
    });
    let got = c.0.lock().unwrap().clone();
    let of = |n: &str| -> Vec<u64> {
        got.iter()
            .filter(|(t, m, _)| t == "cluster.tcdm" && m == n)
            .map(|x| x.2)
            .collect()
    };
    assert_eq!(of("waiting_narrow"), vec![1, 0]);
    assert_eq!(of("banks_busy"), vec![1, 0]);
    assert!(of("waiting_wide").is_empty());
}
