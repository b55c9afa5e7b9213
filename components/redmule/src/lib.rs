//! # RedMulE
//!
//! The RedMulE matrix engine of the PULP cluster (pulp-platform/redmule): Z = (X op1 W) op2 Y
//! on a 12 x 4 array of FP16 FMA units with 3 pipeline stages, in FP16 and FP8.
//!
//! * [`schedule`]: the cycle-exact model of the scheduler, streamer and engine: which 288-bit
//!   access the port presents in each cycle and when the array stalls, derived from the RTL.
//! * [`regs`]: the register map and job decoding.
//! * [`driver`]: a firmware-free job driver and matrix loader; [`npy`]: `.npy` files.
//! * [`component`]: the platform component: registers, job queue, the clocked engine that
//!   drives the schedule on the HCI wide port, bit-exact data through `redmule-numerics`.

pub mod component;
pub mod driver;
pub mod npy;
pub mod regs;
pub mod schedule;

pub use component::{kind, Redmule};

/// The kinds this crate provides.
pub fn kinds() -> Vec<vp_kernel::ComponentKind> {
    vec![component::kind(), driver::kind()]
}
