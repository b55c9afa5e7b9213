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
