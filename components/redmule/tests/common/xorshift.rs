//! The refusal-pattern generator shared by the schedule tests and the `refusal_sweep` example
//! (xorshift64*): the recorded fingerprints and RTL replays depend on this exact stream.

/// A tiny deterministic generator (xorshift64*) for refusal patterns.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 10_000 < pct * 100
    }
}

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
