//! # vp-kernel: the deterministic simulation kernel and the TLM layer of redmule-vp
//!
//! Everything a component needs and nothing about any particular hardware block:
//!
//! * [`time`]: simulated time ([`SimTime`], picoseconds) and clock periods.
//! * [`sim`]: a single-threaded discrete-event executor of our own. Processes are
//!   `async` tasks (`wait_cycles`, `wait_until`, `wait(event)`); events are notified
//!   immediately, at the next delta cycle or at a time; ties are broken by scheduling
//!   order only (the queue is ordered by `(time, delta, sequence)`).
//! * [`clocked`]: the per-cycle process style for arbiters and initiators: plain state
//!   with a `tick` function, called only on cycles where something is pending.
//! * [`sync`]: kernel events and simulation-aware FIFO channels.
//! * [`tlm`]: the generic payload, blocking transport with annotated delay, debug
//!   transport and the address map ([`tlm::AddressMap`]).
//! * [`port`]: the cycle-level request / grant / response path of the contention-accurate
//!   memory system (narrow 32-bit and wide 288-bit ports).
//! * [`component`]: the component trait, the registry of kinds and port binding.
//!
//! The kernel is deliberately not `Send`: one simulation lives on one thread, which is
//! what makes it deterministic. Run many simulations in parallel, one per thread.

pub mod clocked;
pub mod component;
pub mod port;
pub mod rng;
pub mod sim;
pub mod sync;
pub mod testkit;
pub mod time;
pub mod tlm;

pub use clocked::{Clocked, Next, TickCtx, Wake};
pub use component::{BuildCtx, Component, ComponentKind, PortRef, Registry};
pub use sim::{RunEnd, RunReport, Sim, TaskId, WeakSim};
pub use sync::{Event, Fifo};
pub use time::{Clock, SimTime};
