//! Simulated time and clocks.

use std::fmt;

/// Simulated time in picoseconds (SystemC's default resolution; 2^64 ps is about 213 days).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn ps(self) -> u64 {
        self.0
    }
    pub fn from_ns(ns: u64) -> SimTime {
        SimTime(ns.saturating_mul(1000))
    }
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl std::ops::Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        self.0 += rhs.0;
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ps = self.0;
        if ps.is_multiple_of(1_000_000) {
            write!(f, "{} us", ps / 1_000_000)
        } else if ps.is_multiple_of(1000) {
            write!(f, "{} ns", ps / 1000)
        } else {
            write!(f, "{} ps", ps)
        }
    }
}

/// A clock: a period in picoseconds. Cycle `c` has its rising edge at `c * period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    period_ps: u64,
}

impl Clock {
    /// A clock of `mhz` MHz; the period is rounded to the nearest picosecond
    /// (613 MHz gives 1631 ps). Returns `None` for a frequency that is not positive
    /// or faster than 1 THz.
    pub fn from_mhz(mhz: f64) -> Option<Clock> {
        if !(mhz.is_finite() && mhz > 0.0 && mhz <= 1_000_000.0) {
            return None;
        }
        let period = (1_000_000.0 / mhz).round() as u64;
        Some(Clock {
            period_ps: period.max(1),
        })
    }
    pub fn from_period_ps(period_ps: u64) -> Clock {
        Clock {
            period_ps: period_ps.max(1),
        }
    }
    pub fn period_ps(&self) -> u64 {
        self.period_ps
    }
    /// Frequency in MHz implied by the (rounded) period.
    pub fn mhz(&self) -> f64 {
        1_000_000.0 / self.period_ps as f64
    }
    /// Time of the rising edge of cycle `c`.
    pub fn time_of(&self, cycle: u64) -> SimTime {
        SimTime(cycle.saturating_mul(self.period_ps))
    }
    /// The first cycle whose edge is at or after `t`.
    pub fn cycle_at_or_after(&self, t: SimTime) -> u64 {
        t.0.div_ceil(self.period_ps)
    }
    /// The cycle whose edge is at or before `t` (the cycle in progress at `t`).
    pub fn cycle_at(&self, t: SimTime) -> u64 {
        t.0 / self.period_ps
    }
    pub fn cycles(&self, n: u64) -> SimTime {
        SimTime(n.saturating_mul(self.period_ps))
    }
}
