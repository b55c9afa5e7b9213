//! The refusal-pattern generator shared by the schedule tests and the `refusal_sweep` example
//! (xorshift64*): the recorded fingerprints and RTL replays depend on this exact stream.

/// The tests' xorshift64* (the stream the fingerprints were recorded with).
pub use vp_kernel::testkit::XorShift as Rng;

/// Grant decisions of a memory that refuses a share of the requests: independently with
/// probability `pct` percent, or (bursty) as a two-state chain, in runs of refusals and of
/// grants averaging 8 requests in the proportion pct : 100 - pct.
pub struct Refusals {
    rng: Rng,
    pct: u64,
    bursty: bool,
    refusing: bool,
}

impl Refusals {
    pub fn new(rng: Rng, pct: u64, bursty: bool) -> Refusals {
        Refusals {
            rng,
            pct,
            bursty,
            refusing: false,
        }
    }
    /// Is the next request granted? (one call per request presented)
    pub fn grant(&mut self) -> bool {
        if self.bursty {
            let leave = if self.refusing {
                100 - self.pct
            } else {
                self.pct
            } / 4;
            if self.rng.chance(leave.max(1)) {
                self.refusing = !self.refusing;
            }
            !self.refusing
        } else {
            !self.rng.chance(self.pct)
        }
    }
}
