#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use vp_traces::SimClock;

/// A fake simulated clock the test advances by hand.
#[derive(Clone, Default)]
pub struct FakeClock(Arc<AtomicU64>);

impl FakeClock {
    pub fn set(&self, ps: u64) {
        self.0.store(ps, Ordering::Relaxed);
    }
    pub fn clock(&self) -> SimClock {
        let t = self.0.clone();
        Arc::new(move || t.load(Ordering::Relaxed))
    }
}

/// A fresh output path in the target's test temp dir.
pub fn out_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("vp-traces-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}
