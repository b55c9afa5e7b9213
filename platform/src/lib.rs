//! # redmule-vp
//!
//! A SystemC-style, transaction-level virtual platform of the PULP cluster with the
//! RedMulE matrix engine. This crate assembles platforms from YAML scenarios
//! ([`scenario`], [`assembly`]), and holds the command line ([`cli`]), the run summary
//! ([`stats`]) and the benchmarks ([`bench`](mod@bench)). The simulation kernel and TLM layer are in
//! `vp-kernel`; the hardware blocks are the crates under `components/`.

pub mod assembly;
pub mod bench;
pub mod cli;
pub mod floor;
pub mod gemm;
pub mod run_elf;
pub mod scenario;
pub mod stats;
pub mod sweep;

pub use assembly::{Outcome, Overrides, Platform};
pub use scenario::{Loaded, Scenario, ScenarioError};
pub use vp_kernel as kernel;

/// The registry of every built-in component kind.
pub fn builtin_registry() -> vp_kernel::Registry {
    let mut reg = vp_kernel::Registry::new();
    for k in vp_l2::kinds()
        .into_iter()
        .chain(vp_interconnect::kinds())
        .chain(vp_traffic::kinds())
        .chain(vp_event_unit::kinds())
        .chain(vp_cluster_ctrl::kinds())
        .chain(vp_timer::kinds())
        .chain(vp_stdout::kinds())
        .chain(vp_icache_ctrl::kinds())
        .chain(vp_soc::kinds())
        .chain(vp_redmule::kinds())
        .chain(vp_core::kinds())
    {
        reg.register(k);
    }
    reg
}
