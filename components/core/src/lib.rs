//! vp-core: an instruction-set simulator of the CV32E40P (RV32IMCF + Zicsr) for the
//! PULP cluster virtual platform.
//!
//! # Execution model
//!
//! A [`Hart`] is a pure interpreter with no simulation-kernel dependency. It keeps a
//! *local* cycle counter ([`Hart::cycle`]: the cycle in which the next instruction
//! enters the EX stage) and runs ahead of the global simulation time for as long as
//! every instruction's timing is fixed: ALU, multiply/divide, branches and jumps,
//! CSRs, FPU operations and the pipeline hazards between them (CV32E40P
//! `docs/source/pipeline.rst`), and loads/stores to fixed-latency memory
//! ([`Route::Direct`], e.g. L2).
//!
//! It stops *before* any data transaction whose timing or side effects depend on
//! other initiators ([`Route::Timed`]: TCDM through the contended interconnect,
//! event unit, DMA, RedMulE registers, ...), returning [`Stop::Timed`] with the
//! transaction (word address, byte enables, data) and the exact local cycle at
//! which the core presents the request. The platform's clocked wrapper will:
//!
//! 1. call [`Hart::run`] with a cycle limit (its quantum, or the next cycle at which
//!    something external can affect the core);
//! 2. on `Stop::Timed(p)`, wait until the global time reaches `p.cycle`, present
//!    `p.req` to the interconnect, and when it is granted (after `k` lost
//!    arbitrations) call [`Hart::complete_access`]`(rdata, k)`; the access then
//!    costs `1 + k` cycles, as an LIC grant plus the one-cycle response;
//! 3. call `run` again (a misaligned access crossing a word issues its second
//!    transaction then, like the CV32E40P LSU).
//!
//! Instructions are atomic: `run` checks the limit before starting an instruction,
//! so the local cycle may overshoot the limit by the last instruction's cost, and a
//! timed access may be stamped later than the limit when its instruction started
//! before it and stalled (a load-use or FPU hazard). `route` must be free of side
//! effects: the core may ask it again for the same address.
//!
//! Exceptions, ecall and ebreak come back as [`Stop`] values (never panics); the
//! platform decides whether to vector them ([`Hart::take_trap`]) or stop.
//!
//! Instruction fetch hits in the instruction cache (no fetch stalls) unless an I-cache
//! model is hooked in ([`ifetch`]: consulted once per cache line entered, its stalls counted
//! as IMISS); decoded instructions are cached per pc ([`decode::DecodeCache`]); the platform
//! bumps [`DataBus::code_generation`] when code memory changes under the core.
//!
//! # Modules
//! - [`mod@decode`]: RV32IMCF + Zicsr decoder, RVC expansion, decode cache.
//! - [`hart`]: architectural state, timing, the interpreter loop.
//! - [`bus`]: the [`DataBus`] trait the platform implements.
//! - [`component`]: the `core` component kind of the platform (a hart as a clocked
//!   initiator: TCDM through the interconnect's narrow port, every other target at its
//!   exact cycle, sleeping event-unit waits, boot from the cluster control unit).
//! - [`ifetch`]: the instruction-fetch hook an I-cache model plugs into.
//! - [`perf`]: the PULP performance counters (PCER, PCMR, PCCR; `perf_start()` ...).
//! - [`fpu`]: binary32 numerics with all rounding modes and flags.
//! - [`elf`]: ELF32 RISC-V loader. [`mod@disasm`]: trace disassembler and trace lines.
//!
//! # Examples
//! - `examples/alu_rate.rs`: interpreter speed (M instructions per second).
//! - `examples/firmware_smoke.rs`: 8 harts on an ideal cluster running a firmware
//!   ELF, timed accesses served in global time order: a sketch of the platform loop.
//!
//! # Performance counters
//! The RI5CY / PULP-cluster counters (PCER 0xCC0, PCMR 0xCC1, PCCR 0x780..0x79F) count
//! the 17 events of pulp-runtime's `pcer_v2.h` ([`perf`]), so `perf_start()`,
//! `perf_stop()`, `perf_reset()` and `cpu_perf_get()` work unmodified. IMISS counts the
//! I-cache stalls of a hooked model (0 without one); ELW reads 0 (no `p.elw`). The
//! standard `mhpmcounter3..31` read 0. Counting costs nothing while it is off: the
//! interpreter has a second copy of its loop for it.
//!
//! # Speed
//! What a simulated instruction costs on the host is measured by `redmule-vp bench cores8`
//! (callgrind counts are the repeatable measure). The hot paths: a decoded instruction is
//! one direct-mapped cache probe; an aligned load/store to a timed target becomes its bus
//! transaction without the split-access machinery; completing it (the component's tick
//! after the grant) is an inline fast path; the hazard checks are inline, the FPU part out
//! of line. A core that sleeps on an event-unit wait is not ticked until woken. While
//! several cores are busy, a core takes its TCDM grants through a grant hook inside the
//! interconnect's pass and runs on from there (the interpreter loop inlined), instead of
//! being ticked once per access ([`component`]).
//!
//! # Not modelled yet
//! Interrupts (the event unit's IRQ lines, `mie`/`mip`), Xpulp instructions
//! (hardware loops, post-increment loads, SIMD, `p.elw`), debug mode, PMP, the APU
//! performance events of a cluster with a shared FPU.

#![warn(missing_docs)]

pub mod bus;
pub mod component;
pub mod decode;
pub mod disasm;
pub mod elf;
pub mod fpu;
pub mod hart;
pub mod ifetch;
pub mod perf;

pub use bus::{BusRequest, DataBus, PendingAccess, Route, TimedNow};
pub use component::kinds;
pub use decode::{decode, Instr, Op};
pub use disasm::disasm;
pub use elf::{Elf, ElfError, Segment};
pub use hart::{Fault, FaultKind, Hart, NoPendingAccess, Retired, Stop, Timing};
