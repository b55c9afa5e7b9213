//! The PULP performance counters of the cluster cores (RI5CY / CV32E40P as built for the
//! PULP cluster), so that pulp-runtime programs that call `perf_start()`, `perf_stop()`,
//! `perf_reset()` and `perf_read()` (`include/bench/bench.h`) run unmodified.
//!
//! # Registers
//! From RI5CY `rtl/riscv_cs_registers.sv` and `rtl/include/riscv_defines.sv`
//! (pulp-platform/riscv, before the switch to the standard mhpm counters) and pulp-runtime
//! `include/hal/riscv/riscv_v5.h` (the HAL of the `pulp_cluster` target without
//! `__cv32e40p__`):
//!
//! | CSR | name | access |
//! | --- | --- | --- |
//! | 0xCC0 (alias 0x7E0) | PCER: event enable mask, bit i enables counter i | read/write, reset 0 |
//! | 0xCC1 (alias 0x7E1) | PCMR: bit 0 global enable, bit 1 saturation | read/write, reset 3 |
//! | 0x780 + i, i < 31 | PCCR i: counter of event i | read/write |
//! | 0x79F | writes every PCCR at once; reads 0 | |
//!
//! Counter i counts when PCMR bit 0 and PCER bit i are set. With PCMR bit 1 a counter
//! stops at 0xFFFF_FFFF, otherwise it wraps. Counters 17..30 read 0 (the APU events of a
//! shared-FPU cluster are not modelled: the FPU here is the core's own).
//!
//! # Events
//! Indices of pulp-runtime `include/archi/riscv/pcer_v2.h`; 0..11 are the core's own
//! (`PCCR_in` in riscv_cs_registers.sv), 12..16 the cluster's `ext_perf_counters_i`
//! (cluster_interconnect `core_demux.sv`: loads/stores that do not go to the TCDM and the
//! cycles their requests are held; `tcdm req & ~gnt` for contention):
//!
//! | i | event | counted here |
//! | --- | --- | --- |
//! | 0 | CYCLES | every cycle |
//! | 1 | INSTR | retired instructions |
//! | 2 | LD_STALL | load-use hazards (one per stalled instruction) |
//! | 3 | JMP_STALL | `jalr` register hazards (`jr_stall_o`) |
//! | 4 | IMISS | I-cache stall cycles (`imiss_i & ~pc_set_i`: cycles waiting for fetches, not jumps' refetch): 0 unless the scenario selects an I-cache model ([`crate::ifetch`]) |
//! | 5 | LD | load transactions (a misaligned access that crosses a word counts twice) |
//! | 6 | ST | store transactions (likewise) |
//! | 7 | JUMP | `jal`, `jalr` (and their compressed forms) |
//! | 8 | BRANCH | conditional branches |
//! | 9 | TAKEN_BRANCH | taken conditional branches |
//! | 10 | RVC | compressed instructions |
//! | 11 | ELW | always 0: `p.elw` (Xpulp) is not modelled; event waits are plain loads |
//! | 12 | LD_EXT | load transactions to anything but the TCDM |
//! | 13 | ST_EXT | store transactions to anything but the TCDM |
//! | 14 | LD_EXT_CYC | cycles of those loads from request to grant (1 + stall cycles; a load that sleeps on an event-unit wait register holds its request the whole time) |
//! | 15 | ST_EXT_CYC | likewise for stores |
//! | 16 | TCDM_CONT | cycles TCDM requests wait for their grant (lost arbitrations) |
//!
//! # Timing of the counting
//! Each instruction's events, its cycles included (from its entry into EX to the next
//! instruction's), are counted when counting was enabled at the instruction's start, and are
//! added after its own CSR access: `csrw PCMR, 1` does not count itself, the `csrw PCMR, 0`
//! that stops counting does, and a read sees every event of the instructions before it.
//! The RTL registers each increment once more before it reaches PCCR, so a read that
//! directly follows the counted code sees one or two events less there; that delay is not
//! modelled. The CSR accesses cost one cycle (they are not among the 4-cycle CSRs of
//! pipeline.rst).

/// Number of counters with an event (PCCR 0..16).
pub const EVENTS: usize = 17;

/// Event indices (pcer_v2.h `CSR_PCER_*`).
#[allow(missing_docs)]
pub mod event {
    pub const CYCLES: usize = 0;
    pub const INSTR: usize = 1;
    pub const LD_STALL: usize = 2;
    pub const JMP_STALL: usize = 3;
    pub const IMISS: usize = 4;
    pub const LD: usize = 5;
    pub const ST: usize = 6;
    pub const JUMP: usize = 7;
    pub const BRANCH: usize = 8;
    pub const TAKEN_BRANCH: usize = 9;
    pub const RVC: usize = 10;
    pub const ELW: usize = 11;
    pub const LD_EXT: usize = 12;
    pub const ST_EXT: usize = 13;
    pub const LD_EXT_CYC: usize = 14;
    pub const ST_EXT_CYC: usize = 15;
    pub const TCDM_CONT: usize = 16;
}

/// CSR numbers (riscv_defines.sv).
#[allow(missing_docs)]
pub mod csr {
    pub const PCER: u16 = 0xCC0;
    pub const PCMR: u16 = 0xCC1;
    pub const PCER_MACHINE: u16 = 0x7E0;
    pub const PCMR_MACHINE: u16 = 0x7E1;
    pub const PCCR0: u16 = 0x780;
    pub const PCCR_ALL: u16 = 0x79F;
}

/// PCMR bit 0: counting enabled.
pub const PCMR_ACTIVE: u32 = 1;
/// PCMR bit 1: counters saturate.
pub const PCMR_SATURATE: u32 = 2;

/// Whether `num` is one of the performance-counter CSRs.
#[inline]
pub fn is_perf_csr(num: u16) -> bool {
    matches!(
        num,
        csr::PCER | csr::PCMR | csr::PCER_MACHINE | csr::PCMR_MACHINE | 0x780..=0x79F
    )
}

/// The counter state of one core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerfCounters {
    /// PCER: event enable mask (bits 0..16).
    pub pcer: u32,
    /// PCMR: bit 0 active, bit 1 saturate.
    pub pcmr: u32,
    /// PCCR 0..16. PCCR 0 (cycles) is brought up to date lazily, see `cycles_since`.
    pub pccr: [u32; EVENTS],
    /// While cycles are counted: the first cycle not yet added to PCCR 0.
    cycles_since: u64,
}

impl Default for PerfCounters {
    /// Reset state (riscv_cs_registers.sv: PCER 0, PCMR 3, counters 0).
    fn default() -> Self {
        PerfCounters {
            pcer: 0,
            pcmr: PCMR_ACTIVE | PCMR_SATURATE,
            pccr: [0; EVENTS],
            cycles_since: 0,
        }
    }
}

impl PerfCounters {
    /// Whether any event is being counted (the hart's hot path tests only this).
    #[inline]
    pub fn active(&self) -> bool {
        self.pcmr & PCMR_ACTIVE != 0 && self.pcer != 0
    }

    /// Whether event `e` is being counted.
    #[inline]
    pub fn counting(&self, e: usize) -> bool {
        self.pcmr & PCMR_ACTIVE != 0 && self.pcer & (1 << e) != 0
    }

    /// Add `n` to counter `e` if it counts (saturating or wrapping per PCMR).
    #[inline]
    pub fn add(&mut self, e: usize, n: u64) {
        if self.counting(e) {
            self.bump(e, n);
        }
    }

    fn bump(&mut self, e: usize, n: u64) {
        let v = &mut self.pccr[e];
        *v = if self.pcmr & PCMR_SATURATE != 0 {
            (*v as u64 + n).min(u32::MAX as u64) as u32
        } else {
            (*v as u64).wrapping_add(n) as u32
        };
    }

    /// Bring PCCR 0 up to `cycle` (exclusive).
    fn fold_cycles(&mut self, cycle: u64) {
        if self.counting(event::CYCLES) {
            let n = cycle.saturating_sub(self.cycles_since);
            self.bump(event::CYCLES, n);
        }
        self.cycles_since = cycle;
    }

    /// `n` cycles pass that the cycle counter does not count (the core's clock is gated).
    pub fn skip_cycles(&mut self, n: u64) {
        self.cycles_since = self.cycles_since.saturating_add(n);
    }

    /// The value of a performance CSR as read by an instruction that enters EX at `cycle`.
    pub fn read(&mut self, num: u16, cycle: u64) -> u32 {
        self.fold_cycles(cycle);
        match num {
            csr::PCER | csr::PCER_MACHINE => self.pcer,
            csr::PCMR | csr::PCMR_MACHINE => self.pcmr,
            csr::PCCR_ALL => 0,
            n => self
                .pccr
                .get((n - csr::PCCR0) as usize)
                .copied()
                .unwrap_or(0),
        }
    }

    /// A CSR access to a performance CSR by an instruction that enters EX at `cycle` and
    /// takes `cost` cycles: the counters are brought up to `cycle`, `write` (if any) is
    /// applied, then the instruction's own cycles are counted if cycles counted at its
    /// start. Returns the value read (before the write).
    pub fn access(&mut self, num: u16, write: Option<u32>, cycle: u64, cost: u64) -> u32 {
        let counted = self.counting(event::CYCLES);
        let old = self.read(num, cycle);
        if let Some(v) = write {
            match num {
                csr::PCER | csr::PCER_MACHINE => self.pcer = v & ((1 << EVENTS) - 1),
                csr::PCMR | csr::PCMR_MACHINE => self.pcmr = v & 3,
                csr::PCCR_ALL => self.pccr = [v; EVENTS],
                n => {
                    if let Some(c) = self.pccr.get_mut((n - csr::PCCR0) as usize) {
                        *c = v;
                    }
                }
            }
        }
        if counted {
            self.bump(event::CYCLES, cost);
        }
        self.cycles_since = cycle + cost;
        old
    }

    /// The counters as they stand at `cycle` (for statistics): PCCR 0 brought up to date.
    pub fn snapshot(&self, cycle: u64) -> [u32; EVENTS] {
        let mut p = self.clone();
        p.fold_cycles(cycle);
        p.pccr
    }
}
