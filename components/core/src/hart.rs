//! Architectural state of one CV32E40P hart and its run-ahead interpreter.
//!
//! Timing follows the CV32E40P user manual, `docs/source/pipeline.rst` ("Cycle
//! counts per instruction type" and "Hazards"), refined where the RTL says more
//! (`rtl/cv32e40p_alu_div.sv`, `rtl/cv32e40p_alu.sv`, `rtl/cv32e40p_controller.sv`).
//! "RTL run": not in the manual; found by running random RV32IMC programs (ALU, M,
//! aligned and misaligned loads and stores with and without grant delays, CSRs,
//! compressed forms, branches and jumps) on the CV32E40P RTL (openhwgroup/cv32e40p
//! 6033d2b, `cv32e40p_core` with FPU = 0, under Verilator 5.006) beside this model,
//! which now agrees with it cycle for cycle on 1,600 such programs.
//! The local cycle counter [`Hart::cycle`] is the cycle in which the next
//! instruction enters the EX stage; each instruction adds its cost, including the
//! hazard stalls it suffers.
//!
//! | rule | cycles | source |
//! | --- | --- | --- |
//! | ALU, `mul`, `lui`/`auipc`, not-taken branch, `fence`, `wfi` (NOP in the cluster) | 1 | pipeline.rst table |
//! | `mulh`, `mulhsu`, `mulhu` | 5 | pipeline.rst table |
//! | `div`/`rem`(`u`) | 3 + div_shift (35 for /0) | cv32e40p_alu.sv, cv32e40p_alu_div.sv ([`div_cycles`]) |
//! | load/store, per bus transaction | 1 (+ wait states or grant stalls) | pipeline.rst table |
//! | `jal`, `jalr`, `fence.i` / taken branch | 2 / 3, +1 if the target is a 32-bit instruction at pc % 4 = 2 | pipeline.rst table |
//! | `mret` | 5 | cv32e40p_controller.sv FSM (inferred) |
//! | CSR mstatus, mepc, mtvec, mcause, counters, mcountinhibit, mhpmevent, debug / others | 4 / 1 | pipeline.rst table ([`csr_cycles`]) |
//! | load-use: next instruction reads the loaded register, or writes it via the ALU (x0 included; not a jump's link) | +1 | controller `load_stall_o`, RTL run |
//! | `jalr` on the previous result / on a load in WB | +1 / +1 (+ the load-use stall) | controller `jr_stall_o` |
//! | `jalr` linking its own base register | +1 | RTL run |
//! | jump right after an instruction that held EX (mulh, div, split or stalled access), unless it waits on that result or links the loaded register | 1 instead of 2 | RTL run |
//! | FPU result usable after add/mul/fma, others, div/sqrt | lat + 1 = 3, 1, 19 ([`Timing`]) | pipeline.rst "Floating-Point" rows |
//! | FPU instruction while the FPU is busy | waits | pipeline.rst "as long as they are not FPU ones" |
//! | CSR instruction while a multicycle FPU result is outstanding | waits until 1 cycle after it is usable | id_stage `csr_apu_stall`, RTL run |
//! | instruction writing through the ALU port (a jump's link included) in EX in the last of its cycles when a multicycle FPU result takes that port | +1; the result itself waits while the instruction in EX writes the port as a data response arrives, during a split access, a mulh past its first cycle, or while the decoder holds a jalr that does not read the result (the jalr's own EX cycle included: taken in the bubble after it) | ex_stage `apu_valid` / `wb_contention`, RTL run (`fpu_wb_entry`, `fpu_wb_jump`) |
//! | jump right after a 1-cycle jump of the previous row that an FPU result held in EX, unless a 32-bit target at pc % 4 = 2 | 1 instead of 2 | RTL run |
//! | taken branch flushing a CSR instruction held in ID by an outstanding FPU result | +1 | RTL run |

use crate::bus::{BusRequest, DataBus, PendingAccess, Route, TimedNow};
use crate::decode::{decode, flags, DecodeCache, Instr, Op};
use crate::fpu::{self, Rounding};
use crate::perf::PerfCounters;

/// CSR numbers implemented by the hart.
pub mod csr {
    #![allow(missing_docs)]
    pub const FFLAGS: u16 = 0x001;
    pub const FRM: u16 = 0x002;
    pub const FCSR: u16 = 0x003;
    pub const MSTATUS: u16 = 0x300;
    pub const MISA: u16 = 0x301;
    pub const MIE: u16 = 0x304;
    pub const MTVEC: u16 = 0x305;
    pub const MCOUNTINHIBIT: u16 = 0x320;
    pub const MSCRATCH: u16 = 0x340;
    pub const MEPC: u16 = 0x341;
    pub const MCAUSE: u16 = 0x342;
    pub const MTVAL: u16 = 0x343;
    pub const MIP: u16 = 0x344;
    pub const MCYCLE: u16 = 0xB00;
    pub const MINSTRET: u16 = 0xB02;
    pub const MCYCLEH: u16 = 0xB80;
    pub const MINSTRETH: u16 = 0xB82;
    pub const CYCLE: u16 = 0xC00;
    pub const INSTRET: u16 = 0xC02;
    pub const CYCLEH: u16 = 0xC80;
    pub const INSTRETH: u16 = 0xC82;
    pub const MVENDORID: u16 = 0xF11;
    pub const MARCHID: u16 = 0xF12;
    pub const MIMPID: u16 = 0xF13;
    pub const MHARTID: u16 = 0xF14;
}

/// `misa` of the modelled core: RV32 (MXL = 1) with I, M, C, F.
pub const MISA_RV32IMCF: u32 = (1 << 30) | (1 << 12) | (1 << 8) | (1 << 5) | (1 << 2);

/// Latency parameters of the core configuration (the rest of the timing is fixed
/// by the CV32E40P micro-architecture). Deserializable from a scenario; missing
/// fields take the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timing {
    /// `FPU_ADDMUL_LAT`: pipeline registers of the FPU add/mul/fma lane. The result
    /// is usable `lat + 1` cycles after issue (pipeline.rst: "1..FPU_ADDMUL_LAT + 1").
    pub fpu_addmul_lat: u32,
    /// `FPU_OTHERS_LAT`: pipeline registers of the compare/convert/classify lanes.
    pub fpu_others_lat: u32,
    /// Cycles until an fdiv.s/fsqrt.s result is usable, for every operand; `None` (the
    /// default): the divide/square-root unit's own, which depends on the operands
    /// ([`fpu::divsqrt_cycles`], 3 to 19).
    pub fpu_divsqrt_cycles: Option<u32>,
}

impl Default for Timing {
    /// The PULP cluster configuration (reference sheet: C_LAT = 2, others 0).
    fn default() -> Self {
        Timing {
            fpu_addmul_lat: 2,
            fpu_others_lat: 0,
            fpu_divsqrt_cycles: None,
        }
    }
}

/// Machine-mode CSR state (the counters live in [`Hart`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csrs {
    /// `mhartid` = cluster_id << 5 | core_id.
    pub mhartid: u32,
    /// `mstatus` (MIE bit 3, MPIE bit 7, MPP bits 12:11, FS bits 14:13).
    pub mstatus: u32,
    /// `misa`.
    pub misa: u32,
    /// `mie`.
    pub mie: u32,
    /// `mtvec`.
    pub mtvec: u32,
    /// `mscratch`.
    pub mscratch: u32,
    /// `mepc`.
    pub mepc: u32,
    /// `mcause`.
    pub mcause: u32,
    /// `mtval`.
    pub mtval: u32,
    /// `mcountinhibit`: bit 0 stops mcycle, bit 2 stops minstret (reset: both
    /// stopped, cv32e40p_cs_registers.sv "default disable").
    pub mcountinhibit: u32,
}

/// Why [`Hart::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Stop {
    /// The local cycle reached the limit; the next instruction has not started.
    Limit,
    /// The next transaction goes to a timed target; complete it with
    /// [`Hart::complete_access`], then call [`Hart::run`] again.
    Timed(PendingAccess),
    /// An `ecall` at `pc` (not executed; see [`Hart::take_trap`] / [`Hart::skip`]).
    Ecall {
        /// pc of the ecall.
        pc: u32,
    },
    /// An `ebreak` / `c.ebreak` at `pc` (not executed).
    Ebreak {
        /// pc of the ebreak.
        pc: u32,
    },
    /// An exception; the faulting instruction did not retire and pc points at it.
    Fault(Fault),
}

/// A synchronous exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Fault {
    /// What went wrong.
    pub kind: FaultKind,
    /// pc of the faulting instruction (or the unfetchable target).
    pub pc: u32,
    /// Raw instruction bits (0 when the fetch itself failed).
    pub raw: u32,
    /// Local cycle at which the fault was detected.
    pub cycle: u64,
}

/// Kinds of [`Fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum FaultKind {
    /// Not a valid instruction (or an unimplemented / read-only CSR access).
    IllegalInstruction,
    /// Fetch from an odd address.
    FetchMisaligned,
    /// Nothing mapped at the fetch address.
    FetchUnmapped,
    /// A load from an unmapped address.
    LoadUnmapped {
        /// Word address of the failing transaction.
        addr: u32,
    },
    /// A store to an unmapped address.
    StoreUnmapped {
        /// Word address of the failing transaction.
        addr: u32,
    },
}

impl FaultKind {
    /// RISC-V `mcause` exception code.
    pub fn mcause(&self) -> u32 {
        match self {
            FaultKind::FetchMisaligned => 0,
            FaultKind::FetchUnmapped => 1,
            FaultKind::IllegalInstruction => 2,
            FaultKind::LoadUnmapped { .. } => 5,
            FaultKind::StoreUnmapped { .. } => 7,
        }
    }
}

/// One retired instruction, reported to the trace hook of [`Hart::run_traced`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retired {
    /// pc of the instruction.
    pub pc: u32,
    /// The decoded instruction (raw bits in `instr.raw`).
    pub instr: Instr,
    /// Local cycle at which it entered EX (before its own stalls).
    pub cycle: u64,
    /// Cycles it took, stalls included.
    pub cycles: u64,
}

/// Error of [`Hart::complete_access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPendingAccess;

impl std::fmt::Display for NoPendingAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("complete_access called without a pending timed access")
    }
}
impl std::error::Error for NoPendingAccess {}

/// A load/store in flight across a timed access.
#[derive(Debug, Clone, Copy)]
struct MemOp {
    instr: Instr,
    pc: u32,
    start_cycle: u64,
    /// Cycle it entered EX.
    ex: u64,
    addr: u32,
    size: u8,
    write: bool,
    data: u32,
    part: u8,
    parts: u8,
    acc: u32,
    /// The current part was handed to the platform and not completed yet.
    issued: bool,
    /// The current part goes to the TCDM (only known while performance counters count).
    tcdm: bool,
}

/// Register-file index of FP register `r` in the hazard scoreboard (x: 0..31, f: 32..63).
const F: usize = 32;
/// `load_reg` of a load into x0. It writes nothing, but cv32e40p_controller.sv's
/// load-use WAW term (`regfile_waddr_ex_i == regfile_alu_waddr_id_i`) has no x0
/// exclusion (the RAW terms have one): the next instruction stalls if it writes x0
/// through the ALU port (a `nop`, `c.li zero`, ...; not a jump, see [`uses_reg`]).
/// Seen on the RTL under Verilator.
const X0_LOAD: u8 = 64;

/// One CV32E40P hart: registers, CSRs, counters and the timing state of the pipeline.
pub struct Hart {
    /// Integer registers; `x[0]` is kept at 0.
    pub x: [u32; 32],
    /// FP registers (binary32 bits).
    pub f: [u32; 32],
    /// Program counter of the next instruction.
    pub pc: u32,
    /// Dynamic rounding mode `frm`.
    pub frm: u8,
    /// Accrued exceptions `fflags`.
    pub fflags: u8,
    /// Machine CSRs.
    pub csrs: Csrs,
    /// Local cycle: the cycle in which the next instruction enters EX.
    pub cycle: u64,
    /// Retired instructions.
    pub instret: u64,
    /// Configuration latencies.
    pub timing: Timing,
    /// Offsets applied to `cycle`/`instret` when software writes mcycle/minstret.
    mcycle_offset: u64,
    minstret_offset: u64,
    /// Counter values while inhibited.
    mcycle_frozen: u64,
    minstret_frozen: u64,
    cache: DecodeCache,
    code_generation: u64,
    /// Register written by the last load (scoreboard index: x 1..31, f 32..63; 0 = none).
    load_reg: u8,
    /// Cycle in which that load is in WB: the cycle the next instruction would
    /// enter EX without stalls.
    load_wb_at: u64,
    /// Integer register written by the previous instruction (0 = none).
    prev_rd: u8,
    /// Cycle in which the last instruction that held EX for more than one cycle
    /// (mulh*, div/rem, a misaligned access split in two, an access that waited for its
    /// grant or wait states, an FP op that waited for the FPU: `held_ex`; an instruction
    /// that lost the write port to an FPU result: `fpu_wb_entry`, a 1-cycle jump that did:
    /// the jump branch of `execute`) retired: a jump right after it waited in ID
    /// meanwhile, and its target fetch overlapped the wait.
    multi_retired_at: u64,
    /// Cycle at which the target of the last fetch redirect (jump, taken branch,
    /// mret, fence.i, trap) enters EX.
    pub(crate) redirect_at: u64,
    /// Cycles that target waited in IF, fetched, before it could enter ID (a taken branch
    /// over a held CSR access): an instruction-fetch stall of the target overlaps them.
    pub(crate) redirect_held: u64,
    /// Instructions starting at a cycle `<= hazard_until` take the slow path that
    /// checks hazards (load-use, redirect target, FPU scoreboard).
    hazard_until: u64,
    /// Cycle at which each register's pending FPU result becomes usable.
    ready: [u64; 64],
    /// Cycle at which the FPU accepts a new instruction.
    fpu_free: u64,
    /// Max of `ready` and `fpu_free`: when `cycle >= fp_quiet`, no FP hazard is possible.
    fp_quiet: u64,
    /// Cycle in which the last "multicycle" FPU result (apu_lat 3: add/mul/fma with two
    /// or more pipeline registers, div/sqrt) is next offered to the ALU write port, one
    /// cycle before it is usable (`u64::MAX`: none; a cycle before the next instruction's
    /// entry into EX: written then). See [`Hart::fpu_wb_entry`].
    fpu_wb_at: u64,
    /// Scoreboard register of that result.
    fpu_wb_reg: u8,
    /// Cycle in which the response of the last data access arrives (`data_rvalid`): the
    /// cycle after its grant, in which the next instruction enters EX if it follows
    /// without a bubble.
    mem_wb_at: u64,
    /// Earliest cycle a CSR instruction may enter EX: cv32e40p_id_stage.sv
    /// `csr_apu_stall` holds it in ID while such a result is outstanding.
    csr_after: u64,
    /// The FPU instruction about to execute waited in EX for the FPU (see `fpu_stalls`).
    fp_ex_wait: bool,
    mem: Option<MemOp>,
    /// PULP performance counters (PCER, PCMR, PCCR).
    pub perf: PerfCounters,
    /// `perf.active()`, cached: the only test the hot path makes.
    perf_on: bool,
    /// Cycles the pending access kept the clock gated ([`Hart::clock_gated`]).
    perf_slept: u64,
    /// Instruction-fetch timing hook ([`crate::ifetch`]); `None`: fetches hit.
    pub(crate) ifetch: Option<Box<crate::ifetch::FetchHook>>,
}

enum Flow {
    Next,
    /// A naturally aligned load/store issued as one timed transaction (`self.mem` holds
    /// it): the loop returns [`Stop::Timed`] built in place, not copied through `Flow`.
    Timed(BusRequest),
    /// A timed access the bus performed at once ([`DataBus::timed_now`]): retired, the
    /// run goes on up to this new cycle limit.
    Limit(u64),
    Stop(Stop),
}

impl Hart {
    /// A hart in reset state: pc = `boot_addr`, `mhartid = cluster << 5 | core`.
    pub fn new(cluster_id: u32, core_id: u32, boot_addr: u32) -> Self {
        Hart {
            x: [0; 32],
            f: [0; 32],
            pc: boot_addr,
            frm: 0,
            fflags: 0,
            csrs: Csrs {
                mhartid: (cluster_id << 5) | (core_id & 0x1f),
                mstatus: 0x1800,
                misa: MISA_RV32IMCF,
                mie: 0,
                // cv32e40p_cs_registers.sv: 256-byte aligned base, reset mode 01 (vectored).
                mtvec: (boot_addr & !0xff) | 1,
                mscratch: 0,
                mepc: 0,
                mcause: 0,
                mtval: 0,
                mcountinhibit: 0x5,
            },
            cycle: 0,
            instret: 0,
            timing: Timing::default(),
            mcycle_offset: 0,
            minstret_offset: 0,
            mcycle_frozen: 0,
            minstret_frozen: 0,
            cache: DecodeCache::new(),
            code_generation: 0,
            load_reg: 0,
            load_wb_at: 0,
            prev_rd: 0,
            multi_retired_at: u64::MAX,
            redirect_at: 0,
            redirect_held: 0,
            hazard_until: 0,
            ready: [0; 64],
            fpu_free: 0,
            fp_quiet: 0,
            fpu_wb_at: u64::MAX,
            fpu_wb_reg: 0,
            mem_wb_at: 0,
            csr_after: 0,
            fp_ex_wait: false,
            mem: None,
            perf: PerfCounters::default(),
            perf_on: false,
            perf_slept: 0,
            ifetch: None,
        }
    }

    /// The access the hart is waiting for, if any.
    pub fn pending_access(&self) -> Option<PendingAccess> {
        let m = self.mem.as_ref()?;
        if !m.issued {
            return None;
        }
        let (req, _) = part_request(m);
        Some(PendingAccess {
            req,
            cycle: self.cycle,
            pc: m.pc,
            part: m.part,
            parts: m.parts,
        })
    }

    /// Drop every decoded instruction (call after code memory changed behind the
    /// core's back if the bus does not report it through `code_generation`).
    pub fn flush_decode_cache(&mut self) {
        self.cache.flush();
    }

    /// Read integer register `r`.
    #[inline]
    pub fn xreg(&self, r: usize) -> u32 {
        self.x[r & 31]
    }

    /// Write integer register `r` (writes to x0 are ignored).
    #[inline]
    pub fn set_xreg(&mut self, r: usize, v: u32) {
        if r & 31 != 0 {
            self.x[r & 31] = v;
        }
    }

    /// Step over the instruction at pc (e.g. after the platform emulated an ecall).
    /// Costs one cycle and retires it.
    pub fn skip<B: DataBus + ?Sized>(&mut self, bus: &mut B) {
        let len = match self.fetch_decode(bus) {
            Ok(i) => i.len as u32,
            Err(_) => 4,
        };
        self.pc = self.pc.wrapping_add(len);
        self.cycle += 1;
        self.instret += 1;
        self.prev_rd = 0;
        if self.perf_on {
            self.perf.add(crate::perf::event::INSTR, 1);
        }
    }

    /// Enter the trap handler: mepc = pc, mcause = `cause`, mtval = `tval`,
    /// MPIE = MIE, MIE = 0, pc = mtvec base (direct mode; vectored mode only for
    /// interrupts, `cause` bit 31). Takes no cycles: the platform adds the entry
    /// latency it models (the controller's FLUSH_EX/FLUSH_WB path) to `cycle`.
    pub fn take_trap(&mut self, cause: u32, tval: u32) {
        self.csrs.mepc = self.pc;
        self.csrs.mcause = cause;
        self.csrs.mtval = tval;
        let mie = (self.csrs.mstatus >> 3) & 1;
        self.csrs.mstatus = (self.csrs.mstatus & !(1 << 7) & !(1 << 3)) | (mie << 7) | (3 << 11);
        let base = self.csrs.mtvec & !3;
        self.pc = if self.csrs.mtvec & 1 == 1 && cause & 0x8000_0000 != 0 {
            base.wrapping_add(4 * (cause & 0x1f))
        } else {
            base
        };
        self.redirect(self.cycle);
    }

    /// Record a fetch redirect (to `self.pc`, already the target) whose target enters EX
    /// at `at`. Only a 32-bit target at pc % 4 = 2 can cost the extra fetch cycle
    /// ([`Hart::entry_stalls`]): a word-aligned one, or one the decode cache holds as a
    /// compressed instruction (the one that will execute next: nothing is fetched before
    /// it), does not open the slow path.
    #[inline(always)]
    fn redirect(&mut self, at: u64) {
        self.redirect_at = at;
        self.redirect_held = 0;
        if self.pc & 2 != 0 && self.cache.get(self.pc).is_none_or(|i| i.len == 4) {
            self.hazard_until = self.hazard_until.max(at);
        }
    }

    /// Complete the pending timed access: `rdata` is the read data word as returned
    /// by the target (ignored for writes), `stall_cycles` the cycles beyond the ideal
    /// access: the cycles the request waited for its grant (lost arbitrations) plus
    /// any response delay beyond the interconnect's one cycle (a sleeping
    /// event-unit load, a slow peripheral). The access itself costs one cycle on top. When this was the last
    /// transaction of the instruction, the instruction retires; otherwise the next
    /// [`Hart::run`] issues the second half of the misaligned access.
    #[inline(always)]
    pub fn complete_access(
        &mut self,
        rdata: u32,
        stall_cycles: u64,
    ) -> Result<(), NoPendingAccess> {
        self.complete_access_as::<true>(rdata, stall_cycles)
    }

    /// [`Hart::complete_access`] for a caller whose next run is a [`Hart::run`] or
    /// [`Hart::run_inlined`] (no trace hook): a retired single-transaction access is
    /// forgotten at once instead of being kept for the next run to report it to a
    /// trace hook. The same run otherwise.
    #[inline(always)]
    pub fn complete_access_untraced(
        &mut self,
        rdata: u32,
        stall_cycles: u64,
    ) -> Result<(), NoPendingAccess> {
        self.complete_access_as::<false>(rdata, stall_cycles)
    }

    /// [`Hart::complete_access`]; `KEEP`: keep the retired access for a trace hook.
    #[inline(always)]
    fn complete_access_as<const KEEP: bool>(
        &mut self,
        rdata: u32,
        stall_cycles: u64,
    ) -> Result<(), NoPendingAccess> {
        // The common case: the only transaction of a load/store, no counters counting.
        let fast = match self.mem.as_mut() {
            Some(m) if m.issued && m.parts == 1 && !self.perf_on => {
                let f = (m.instr, m.pc, m.addr);
                if KEEP {
                    m.issued = false;
                    m.part = 1;
                } else {
                    self.mem = None;
                }
                Some(f)
            }
            _ => None,
        };
        let Some((instr, pc, addr)) = fast else {
            return self.complete_access_slow(rdata, stall_cycles);
        };
        // Retired; the MemOp stays (part == parts) until the next run reports it to a
        // trace hook.
        self.cycle = self.cycle.saturating_add(stall_cycles.saturating_add(1));
        self.instret += 1;
        self.pc = pc.wrapping_add(instr.len as u32);
        self.prev_rd = if instr.flags & flags::XW != 0 {
            instr.rd
        } else {
            0
        };
        self.held_ex(stall_cycles > 0);
        // (Nothing for a store.)
        self.write_back_load(&instr, rdata >> (8 * (addr & 3)));
        Ok(())
    }

    /// [`Hart::complete_access`] for split transactions and counted events.
    #[inline(never)]
    fn complete_access_slow(
        &mut self,
        rdata: u32,
        stall_cycles: u64,
    ) -> Result<(), NoPendingAccess> {
        let m = match self.mem.as_mut() {
            Some(m) if m.issued => m,
            _ => return Err(NoPendingAccess),
        };
        self.cycle = self.cycle.saturating_add(stall_cycles.saturating_add(1));
        m.issued = false;
        if self.perf_on {
            let (write, tcdm, slept) = (m.write, m.tcdm, self.perf_slept);
            self.perf_slept = 0;
            self.perf_transaction(write, tcdm, stall_cycles, slept);
        }
        let Some(m) = self.mem.as_mut() else {
            return Err(NoPendingAccess);
        };
        if m.parts == 1 {
            // The common case: one aligned transaction.
            if !m.write {
                m.acc = rdata >> (8 * (m.addr & 3));
            }
        } else {
            let (_, shift_in) = part_request(m);
            m.acc |= merge_part(m, rdata, shift_in);
        }
        m.part += 1;
        if m.part == m.parts {
            // Retired; the MemOp stays (part == parts) until the next run reports it to
            // a trace hook.
            let m = *m;
            self.finish_mem(&m);
            if m.parts > 1 {
                self.fpu_wb_split(m.ex);
            }
            // (a split access held EX for each of its parts)
            self.held_ex(m.parts > 1 || stall_cycles > 0);
            if self.perf_on {
                self.perf_retired(&m.instr, false);
            }
        }
        Ok(())
    }

    /// Run until the local cycle reaches `cycle_limit`, or until the next data
    /// transaction needs a timed access, or an exception / ecall / ebreak.
    pub fn run<B: DataBus + ?Sized>(&mut self, bus: &mut B, cycle_limit: u64) -> Stop {
        // Two copies of the loop: one that counts performance events, one that does not
        // pay for them; a CSR write that switches counting continues in the other one.
        if self.perf_on {
            self.run_counting(bus, cycle_limit)
        } else {
            self.run_inner::<B, false, false>(bus, cycle_limit, &mut |_| {})
        }
    }

    /// The counting copy of the loop, out of line so that the plain one stays lean.
    #[inline(never)]
    fn run_counting<B: DataBus + ?Sized>(&mut self, bus: &mut B, cycle_limit: u64) -> Stop {
        self.run_inner::<B, false, true>(bus, cycle_limit, &mut |_| {})
    }

    /// Continue [`Hart::run`] / [`Hart::run_traced`] after counting was switched.
    #[inline(never)]
    fn run_switched<B: DataBus + ?Sized, const TRACE: bool>(
        &mut self,
        bus: &mut B,
        cycle_limit: u64,
        hook: &mut dyn FnMut(&Retired),
    ) -> Stop {
        match (TRACE, self.perf_on) {
            (false, true) => self.run_counting(bus, cycle_limit),
            (false, false) => self.run_inner::<B, false, false>(bus, cycle_limit, hook),
            (true, true) => self.run_inner::<B, true, true>(bus, cycle_limit, hook),
            (true, false) => self.run_inner::<B, true, false>(bus, cycle_limit, hook),
        }
    }

    /// [`Hart::run`] calling `hook` for every retired instruction (for traces).
    pub fn run_traced<B: DataBus + ?Sized>(
        &mut self,
        bus: &mut B,
        cycle_limit: u64,
        hook: &mut dyn FnMut(&Retired),
    ) -> Stop {
        if self.perf_on {
            self.run_inner::<B, true, true>(bus, cycle_limit, hook)
        } else {
            self.run_inner::<B, true, false>(bus, cycle_limit, hook)
        }
    }

    /// [`Hart::run`] with the plain loop inlined into the caller: for the one hot caller
    /// that runs the hart once per memory access (a core going on from a grant inside the
    /// interconnect's pass), where the call's register save and frame setup are a
    /// noticeable part of a run of a few instructions. Unlike [`Hart::run`], it does not
    /// offer timed accesses to [`DataBus::timed_now`]: for a caller whose bus performs
    /// none at once (inside the pass, every access stops the run).
    #[inline(always)]
    pub fn run_inlined<B: DataBus + ?Sized>(&mut self, bus: &mut B, cycle_limit: u64) -> Stop {
        if self.perf_on {
            self.run_counting(bus, cycle_limit)
        } else {
            self.run_body::<B, false, false, false>(bus, cycle_limit, &mut |_| {})
        }
    }

    /// The interpreter loop; `PERF` = the performance counters count (`perf_on`).
    fn run_inner<B: DataBus + ?Sized, const TRACE: bool, const PERF: bool>(
        &mut self,
        bus: &mut B,
        cycle_limit: u64,
        hook: &mut dyn FnMut(&Retired),
    ) -> Stop {
        self.run_body::<B, TRACE, PERF, true>(bus, cycle_limit, hook)
    }

    /// The body of [`Hart::run_inner`] (see [`Hart::run_inlined`]).
    #[inline(always)]
    /// `NOW`: offer timed accesses to [`DataBus::timed_now`] (when neither counting nor
    /// tracing).
    fn run_body<B: DataBus + ?Sized, const TRACE: bool, const PERF: bool, const NOW: bool>(
        &mut self,
        bus: &mut B,
        mut cycle_limit: u64,
        hook: &mut dyn FnMut(&Retired),
    ) -> Stop {
        let gen = bus.code_generation();
        if gen != self.code_generation {
            self.code_generation = gen;
            self.cache.flush();
        }
        if let Some(m) = self.mem.as_ref() {
            if m.part == m.parts {
                // Completed by complete_access.
                if TRACE {
                    hook(&Retired {
                        pc: m.pc,
                        instr: m.instr,
                        cycle: m.start_cycle,
                        cycles: self.cycle - m.start_cycle,
                    });
                }
                self.mem = None;
            } else {
                let m = *m;
                if let Some(stop) = self.resume_mem(bus, m, None) {
                    return stop;
                }
                if self.perf_on {
                    self.perf_retired(&m.instr, false);
                }
                if TRACE {
                    hook(&Retired {
                        pc: m.pc,
                        instr: m.instr,
                        cycle: m.start_cycle,
                        cycles: self.cycle - m.start_cycle,
                    });
                }
            }
        }
        loop {
            if self.cycle >= cycle_limit {
                return Stop::Limit;
            }
            let pc = self.pc;
            let instr = match self.cache.get(pc) {
                Some(i) => *i,
                None => match self.fetch_decode(bus) {
                    Ok(i) => i,
                    Err(f) => return Stop::Fault(f),
                },
            };
            let start = self.cycle;
            // Stalls that depend on the previous instructions.
            if start <= self.hazard_until {
                self.cycle += self.entry_stalls(bus, &instr);
            }
            let ex = self.cycle;
            // Without counters and trace hook, the bus may perform timed accesses at once.
            match self.execute(bus, &instr, start, NOW && !TRACE && !PERF) {
                Flow::Limit(limit) => cycle_limit = limit,
                Flow::Next => {
                    if PERF {
                        // Taken branches cost 3 cycles, not-taken ones 1.
                        self.perf_retired(&instr, self.cycle - ex > 1);
                    }
                    if TRACE {
                        hook(&Retired {
                            pc,
                            instr,
                            cycle: start,
                            cycles: self.cycle - start,
                        });
                    }
                }
                Flow::Stop(Stop::Limit) => {
                    // A performance-counter CSR access retired (see exec_perf_csr).
                    if TRACE {
                        hook(&Retired {
                            pc,
                            instr,
                            cycle: start,
                            cycles: self.cycle - start,
                        });
                    }
                    if self.perf_on != PERF {
                        return self.run_switched::<B, TRACE>(bus, cycle_limit, hook);
                    }
                }
                Flow::Timed(req) => {
                    return Stop::Timed(PendingAccess {
                        req,
                        cycle: self.cycle,
                        pc: self.pc,
                        part: 0,
                        parts: 1,
                    })
                }
                Flow::Stop(s) => return s,
            }
        }
    }

    /// Fetch and decode the instruction at pc, filling the decode cache.
    fn fetch_decode<B: DataBus + ?Sized>(&mut self, bus: &mut B) -> Result<Instr, Fault> {
        if let Some(hook) = self.ifetch.take() {
            return self.fetch_decode_hooked(hook, bus);
        }
        let pc = self.pc;
        let fault = |kind| Fault {
            kind,
            pc,
            raw: 0,
            cycle: self.cycle,
        };
        if pc & 1 != 0 {
            return Err(fault(FaultKind::FetchMisaligned));
        }
        let word = bus
            .fetch(pc)
            .ok_or_else(|| fault(FaultKind::FetchUnmapped))?;
        let instr = decode(word);
        self.cache.insert(pc, instr);
        Ok(instr)
    }

    /// Stall cycles before `i` can enter EX, from the hazards of
    /// pipeline.rst "Hazards" and cv32e40p_controller.sv (load_stall_o, jr_stall_o,
    /// apu_stall_o), plus the fetch penalty after a redirect.
    #[inline(always)]
    fn entry_stalls<B: DataBus + ?Sized>(&mut self, bus: &mut B, i: &Instr) -> u64 {
        let mut stall = 0u64;
        // pipeline.rst, Jump/Branch rows: a target that is a non-word-aligned
        // 32-bit instruction costs one more cycle (two fetches for one instruction).
        if self.cycle == self.redirect_at && self.pc & 2 != 0 && i.len == 4 {
            stall += 1;
        }
        // cv32e40p_controller.sv load_stall_o: the instruction in ID reads (RAW) the
        // register the load in EX writes, or writes it through the ALU port (WAW;
        // `regfile_we_id_i` is the decoder's ALU write enable, so not for loads).
        if self.cycle == self.load_wb_at
            && self.load_reg != 0
            && uses_reg(i, self.load_reg as usize)
        {
            stall += 1;
            if self.perf_on {
                self.perf.add(crate::perf::event::LD_STALL, 1);
            }
        }
        // apu_stall_o: RAW/WAW on an outstanding FPU result, or a new FPU instruction
        // while the FPU is busy ("Following instructions can be executed ... as long
        // as they are not FPU ones", pipeline.rst).
        if self.cycle + stall < self.fp_quiet {
            stall += self.fpu_stalls(i, self.cycle + stall);
            stall += self.csr_stalls(i, self.cycle + stall);
            stall += self.fpu_wb_entry(bus, i, self.cycle + stall);
        }
        stall
    }

    /// A CSR instruction entering EX at `now` waits in ID until `csr_after`
    /// (cv32e40p_id_stage.sv `csr_apu_stall`, while a multicycle FPU result is outstanding).
    #[inline(never)]
    fn csr_stalls(&self, i: &Instr, now: u64) -> u64 {
        if is_csr(i) {
            return self.csr_after.saturating_sub(now);
        }
        0
    }

    /// The outstanding multicycle FPU result (`fpu_wb_at`) against `i` entering EX at
    /// `now`; returns the cycles `i` stays in EX longer. cv32e40p_ex_stage.sv: the result
    /// takes the ALU write port in the first cycle it is offered (`apu_valid`) in which
    /// the instruction in EX does not write through that port (`regfile_alu_we_i`) while a
    /// data response arrives (`data_rvalid_i`), is not a split access
    /// (`data_misaligned*`) and is not a mulh in its later cycles (`mulh_active`); until
    /// then it waits, and so do its readers and the FPU. If the instruction in EX writes
    /// through the port, that instruction stays in EX a cycle more (`wb_contention`) when
    /// the cycle was its last; unless a jalr that does not read the result is in ID: then
    /// the result waits instead (`BRANCH_JALR`), through the jalr's EX cycle
    /// (`fpu_wb_jump`). Here: a result offered before `now` was written in a bubble;
    /// one offered at `now` to a single-cycle instruction is decided here; mulh, div/rem
    /// and accesses decide it themselves (`fpu_wb_mulh`, `fpu_wb_div`, `fpu_wb_split`).
    #[inline(never)]
    fn fpu_wb_entry<B: DataBus + ?Sized>(&mut self, bus: &mut B, i: &Instr, now: u64) -> u64 {
        let w = self.fpu_wb_at;
        if w > now {
            return 0;
        }
        if w < now {
            self.fpu_wb_at = u64::MAX;
            return 0;
        }
        if is_access(i)
            || matches!(
                i.op,
                Op::Mulh
                    | Op::Mulhsu
                    | Op::Mulhu
                    | Op::Div
                    | Op::Divu
                    | Op::Rem
                    | Op::Remu
                    | Op::Jal
                    | Op::Jalr
            )
        {
            return 0;
        }
        if !alu_we(i) {
            self.fpu_wb_at = u64::MAX;
            return 0;
        }
        if self.mem_wb_at == now || self.jalr_next_waits(bus, i) {
            // (with the jalr: offered again in the next cycle, a bubble if the jalr
            // waits in ID, else the jalr's EX cycle, see fpu_wb_jump)
            self.fpu_wb_defer(now + 1);
            return 0;
        }
        self.fpu_wb_at = u64::MAX;
        // (held EX: a jump right after overlaps the extra cycle, as after a mulh)
        self.multi_retired_at = now + 2;
        1
    }

    /// Is the instruction after `i` (in ID while `i` is in EX) a jalr that does not read
    /// the outstanding FPU result? cv32e40p_ex_stage.sv `apu_valid`: the result is not
    /// written while `ctrl_transfer_insn_in_dec_i == BRANCH_JALR`, the instruction in EX
    /// writes the ALU port and `~apu_read_dep_for_jalr_o` (found by the RTL comparison,
    /// tests/rtl_compare.rs: a `ret` after an FP instruction).
    fn jalr_next_waits<B: DataBus + ?Sized>(&self, bus: &mut B, i: &Instr) -> bool {
        self.peek(bus, self.pc.wrapping_add(i.len as u32))
            .is_some_and(|n| n.op == Op::Jalr && (n.rs1 == 0 || n.rs1 != self.fpu_wb_reg))
    }

    /// The instruction at `pc` (the decode cache's, else fetched and decoded without
    /// filling the cache), to look ahead at what is in ID; `None` if not readable.
    fn peek<B: DataBus + ?Sized>(&self, bus: &mut B, pc: u32) -> Option<Instr> {
        match self.cache.get(pc) {
            Some(n) => Some(*n),
            None => bus.fetch(pc).map(decode),
        }
    }

    /// The outstanding result waits until `at` (see [`Hart::fpu_wb_entry`]): so do its
    /// readers, the FPU and CSR instructions.
    fn fpu_wb_defer(&mut self, at: u64) {
        self.fpu_wb_at = at;
        self.ready[self.fpu_wb_reg as usize & 63] = at + 1;
        self.fpu_free = self.fpu_free.max(at + 1);
        self.csr_after = at + 2;
        self.fp_quiet = self.fp_quiet.max(self.csr_after);
        self.hazard_until = self.hazard_until.max(self.fp_quiet);
    }

    /// A jump in EX in cycle `ex` (after its ID stalls) and the outstanding result: the
    /// cycle the jump stays in EX longer (it writes its link through the ALU port). A
    /// jalr is still what the decoder sees in its EX cycle (the ID register keeps it until
    /// the target arrives, and the jalr there reads nothing: `is_decoding` is low), so the
    /// result waits through it (`apu_valid`, BRANCH_JALR) and is written in the bubble
    /// after it.
    fn fpu_wb_jump(&mut self, ex: u64, jalr: bool) -> u64 {
        let w = self.fpu_wb_at;
        if w > ex {
            return 0;
        }
        if w == ex && (self.mem_wb_at == ex || jalr) {
            self.fpu_wb_defer(ex + 1);
            return 0;
        }
        self.fpu_wb_at = u64::MAX;
        (w == ex) as u64
    }

    /// Is the instruction at `pc` a 32-bit one at pc % 4 = 2 (fetched in two parts)?
    fn split_fetch<B: DataBus + ?Sized>(&self, bus: &mut B, pc: u32) -> bool {
        pc & 2 != 0 && self.peek(bus, pc).is_none_or(|n| n.len == 4)
    }

    /// Is the instruction at `pc` a CSR access (false if not readable)?
    #[inline(never)]
    fn csr_held_in_id<B: DataBus + ?Sized>(&self, bus: &mut B, pc: u32) -> bool {
        self.peek(bus, pc).is_some_and(|n| is_csr(&n))
    }

    /// A mulh in EX from `ex` (5 cycles) and the outstanding result: taken in the first
    /// cycle unless a data response arrives then; refused while `mulh_active`, so
    /// offered again after the mulh.
    fn fpu_wb_mulh(&mut self, ex: u64) {
        let w = self.fpu_wb_at;
        if w == ex && self.mem_wb_at != ex {
            self.fpu_wb_at = u64::MAX;
        } else if (ex..ex + 5).contains(&w) {
            self.fpu_wb_defer(ex + 5);
        }
    }

    /// A div/rem in EX from `ex` for `n` (>= 3) cycles and the outstanding result: the
    /// extra cycle when the result takes the port in the last one.
    fn fpu_wb_div(&mut self, ex: u64, n: u64) -> u64 {
        let w = self.fpu_wb_at;
        if !(ex..ex + n).contains(&w) {
            return 0;
        }
        self.fpu_wb_at = u64::MAX;
        (w == ex + n - 1) as u64
    }

    /// A split (misaligned) access that was in EX from `ex` and retired now: the result
    /// waits through it.
    fn fpu_wb_split(&mut self, ex: u64) {
        let w = self.fpu_wb_at;
        if w != u64::MAX && w >= ex && w < self.cycle {
            self.fpu_wb_defer(self.cycle);
        }
    }

    /// apu_stall_o part of [`Hart::entry_stalls`]: cycles from `now` until `i` may enter
    /// EX with respect to outstanding FPU results (out of line: integer code never gets here).
    #[inline(never)]
    fn fpu_stalls(&mut self, i: &Instr, now: u64) -> u64 {
        {
            let mut until = now;
            let f = i.flags;
            if f & flags::FR1 != 0 {
                until = until.max(self.ready[F + i.rs1 as usize]);
            }
            if f & flags::FR2 != 0 {
                until = until.max(self.ready[F + i.rs2 as usize]);
            }
            if f & flags::FR3 != 0 {
                until = until.max(self.ready[F + i.rs3 as usize]);
            }
            // (write dependencies hold only non-FPU instructions in ID:
            // cv32e40p_controller.sv apu_stall_o = read_dep | write_dep & ~apu_en; an FPU
            // instruction waits for the busy FPU in EX instead, below)
            let fpu = f & flags::FPU != 0;
            if f & flags::FW != 0 && !fpu {
                until = until.max(self.ready[F + i.rd as usize]);
            }
            if f & flags::XR1 != 0 {
                until = until.max(self.ready[i.rs1 as usize]);
            }
            // An operand these do not use is still checked against the outstanding
            // result: the rs2 field as an f register (cv32e40p_id_stage.sv
            // apu_read_regs[1] follows alu_op_b_mux_sel, left at REGB by the decoder;
            // seen on the RTL as a wait after a result to f0).
            if matches!(
                i.op,
                Op::FsqrtS | Op::FcvtWS | Op::FcvtWuS | Op::FcvtSW | Op::FcvtSWu | Op::FclassS
            ) {
                until = until.max(self.ready[F + ((i.raw >> 20) & 31) as usize]);
            }
            if f & flags::XR2 != 0 {
                until = until.max(self.ready[i.rs2 as usize]);
            }
            if f & flags::XW != 0 && !fpu {
                until = until.max(self.ready[i.rd as usize]);
            }
            // Operand dependencies hold the instruction in ID; a busy FPU holds it in EX
            // (cv32e40p_apu_disp.sv sits in EX), so a jump after it overlaps that wait.
            if fpu && self.fpu_free > until {
                until = self.fpu_free;
                self.fp_ex_wait = true;
            }
            until - now
        }
    }

    /// Retire a non-jump instruction that took `cycles` (after its entry stalls).
    #[inline(always)]
    fn retire(&mut self, i: &Instr, cycles: u64) {
        self.cycle += cycles;
        self.instret += 1;
        self.pc = self.pc.wrapping_add(i.len as u32);
        self.prev_rd = if i.flags & flags::XW != 0 { i.rd } else { 0 };
    }

    /// Note whether the instruction retiring now held EX for more than one cycle (see
    /// `multi_retired_at`; the FPU write-back's port contention sets it too).
    #[inline(always)]
    fn held_ex(&mut self, held: bool) {
        if held {
            self.multi_retired_at = self.cycle;
        }
    }

    /// Retire a control transfer to `target` that took `cycles`.
    #[inline(always)]
    fn retire_jump(&mut self, target: u32, cycles: u64, rd: u8) {
        self.cycle += cycles;
        self.instret += 1;
        self.pc = target;
        self.prev_rd = rd;
        self.redirect(self.cycle);
    }

    fn illegal(&self, i: &Instr) -> Flow {
        Flow::Stop(Stop::Fault(Fault {
            kind: FaultKind::IllegalInstruction,
            pc: self.pc,
            raw: i.raw,
            cycle: self.cycle,
        }))
    }

    #[inline(always)]
    fn execute<B: DataBus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Instr,
        start: u64,
        now_ok: bool,
    ) -> Flow {
        // The operands are read where an arm needs them (not all arms read both).
        macro_rules! xa {
            () => {
                self.x[(i.rs1 & 31) as usize]
            };
        }
        macro_rules! xb {
            () => {
                self.x[(i.rs2 & 31) as usize]
            };
        }
        let imm = i.imm as u32;
        let rd = (i.rd & 31) as usize;
        macro_rules! alu {
            ($v:expr) => {{
                self.x[rd] = $v;
                self.x[0] = 0;
                self.cycle += 1;
                self.instret += 1;
                self.pc = self.pc.wrapping_add(i.len as u32);
                self.prev_rd = rd as u8;
                return Flow::Next;
            }};
        }
        match i.op {
            Op::Addi => alu!(xa!().wrapping_add(imm)),
            Op::Add => alu!(xa!().wrapping_add(xb!())),
            Op::Sub => alu!(xa!().wrapping_sub(xb!())),
            Op::Lui => alu!(imm),
            Op::Auipc => alu!(self.pc.wrapping_add(imm)),
            Op::Slti => alu!(((xa!() as i32) < (imm as i32)) as u32),
            Op::Sltiu => alu!((xa!() < imm) as u32),
            Op::Xori => alu!(xa!() ^ imm),
            Op::Ori => alu!(xa!() | imm),
            Op::Andi => alu!(xa!() & imm),
            Op::Slli => alu!(xa!() << (imm & 31)),
            Op::Srli => alu!(xa!() >> (imm & 31)),
            Op::Srai => alu!(((xa!() as i32) >> (imm & 31)) as u32),
            Op::Sll => alu!(xa!() << (xb!() & 31)),
            Op::Slt => alu!(((xa!() as i32) < (xb!() as i32)) as u32),
            Op::Sltu => alu!((xa!() < xb!()) as u32),
            Op::Xor => alu!(xa!() ^ xb!()),
            Op::Srl => alu!(xa!() >> (xb!() & 31)),
            Op::Sra => alu!(((xa!() as i32) >> (xb!() & 31)) as u32),
            Op::Or => alu!(xa!() | xb!()),
            Op::And => alu!(xa!() & xb!()),
            // pipeline.rst: single-cycle 32x32 multiplier for mul.
            Op::Mul => alu!(xa!().wrapping_mul(xb!())),
            // Integer computational instructions: 1 cycle. fence is a NOP here;
            // wfi executes as a NOP in the cluster build (reference sheet, section 4).
            Op::Fence | Op::Wfi => alu!(self.x[0]),
            Op::Mulh | Op::Mulhsu | Op::Mulhu => {
                let v = match i.op {
                    Op::Mulh => ((xa!() as i32 as i64 * xb!() as i32 as i64) >> 32) as u32,
                    Op::Mulhsu => ((xa!() as i32 as i64 * xb!() as i64) >> 32) as u32,
                    _ => ((xa!() as u64 * xb!() as u64) >> 32) as u32,
                };
                self.set_xreg(rd, v);
                // pipeline.rst: "The multiplications with upper-word result take 5 cycles".
                let ex = self.cycle;
                if self.fpu_wb_at <= ex + 4 {
                    self.fpu_wb_mulh(ex);
                }
                self.retire(i, 5);
                self.held_ex(true);
                Flow::Next
            }
            Op::Div | Op::Divu | Op::Rem | Op::Remu => {
                let signed = matches!(i.op, Op::Div | Op::Rem);
                let (a, b) = (xa!(), xb!());
                let v = divide(i.op, a, b);
                self.set_xreg(rd, v);
                let n = div_cycles(b, signed);
                let ex = self.cycle;
                let contended = if self.fpu_wb_at < ex + n {
                    self.fpu_wb_div(ex, n)
                } else {
                    0
                };
                self.retire(i, n + contended);
                self.held_ex(true);
                Flow::Next
            }
            Op::Jal | Op::Jalr => {
                let target = if i.op == Op::Jal {
                    self.pc.wrapping_add(imm)
                } else {
                    xa!().wrapping_add(imm) & !1
                };
                let mut cost = 2; // pipeline.rst Jump: 2 (the +1 for a misaligned target is charged at the target)
                let mut id_stall = 0;
                if i.op == Op::Jalr && i.rs1 != 0 {
                    // cv32e40p_controller.sv jr_stall_o: rs1 is written by the
                    // instruction in EX (the previous one) or by a load in WB.
                    let r = i.rs1;
                    let load_hit = self.load_reg == r;
                    if load_hit && start == self.load_wb_at {
                        // load in EX (load-use stall, charged on entry), then in WB
                        id_stall = 1;
                    } else if self.prev_rd == r || (load_hit && start == self.load_wb_at + 1) {
                        // forwarded from EX, or a load two back still in WB because
                        // the instruction in between took a single cycle
                        id_stall = 1;
                    }
                    cost += id_stall;
                    if cost > 2 && self.perf_on {
                        self.perf.add(crate::perf::event::JMP_STALL, 1);
                    }
                }
                // Two rules measured on the RTL under Verilator (random programs and
                // directed pairs; not in pipeline.rst):
                // - a jump decided in ID while the previous instruction still held EX
                //   (mulh*, div/rem, a misaligned or stalled access; cv32e40p_controller.sv sets the
                //   pc in DECODE even while ID is stalled) had its target fetched during
                //   that wait: 1 cycle, unless it is a jalr waiting on that instruction's
                //   result (above);
                // - otherwise a jalr whose link register is its own base register
                //   (`jalr s9, 8(s9)`, `c.jalr ra`) takes 1 more cycle. (Consistent with
                //   the RTL: the ID register keeps the jalr while it is in EX, the
                //   decoder still reports BRANCH_JALR, and jr_stall_o sees its base
                //   register written through the ALU port, by the jalr itself.)
                // (Not after a load into the jump's own link register, x0 included:
                // the load-use WAW term of load_stall_o holds the jump instead.)
                let link = if rd == 0 { X0_LOAD } else { rd as u8 };
                let link_waw = start == self.load_wb_at && self.load_reg == link;
                let fetched_early = cost == 2 && start == self.multi_retired_at && !link_waw;
                if fetched_early {
                    cost = 1;
                } else if i.op == Op::Jalr && i.rs1 != 0 && i.rd == i.rs1 {
                    cost += 1;
                }
                let mut held = 0;
                if self.fpu_wb_at <= self.cycle + id_stall {
                    held = self.fpu_wb_jump(self.cycle + id_stall, i.op == Op::Jalr);
                    cost += held;
                }
                self.set_xreg(rd, self.pc.wrapping_add(i.len as u32));
                self.retire_jump(target, cost, rd as u8);
                if fetched_early && held > 0 && !self.split_fetch(bus, target) {
                    // Its target (in ID already) was decided while the FPU result held
                    // this jump in EX: a jump there has its own target fetched during
                    // that cycle, as after a mulh (RTL run: fadd; mulh; jal; jal). Not
                    // a 32-bit target at pc % 4 = 2: its second fetch takes that cycle.
                    self.multi_retired_at = self.cycle;
                }
                Flow::Next
            }
            Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu => {
                let taken = match i.op {
                    Op::Beq => xa!() == xb!(),
                    Op::Bne => xa!() != xb!(),
                    Op::Blt => (xa!() as i32) < (xb!() as i32),
                    Op::Bge => (xa!() as i32) >= (xb!() as i32),
                    Op::Bltu => xa!() < xb!(),
                    _ => xa!() >= xb!(),
                };
                if taken {
                    // pipeline.rst Branch (taken): 3, decided in EX, flushes IF and ID.
                    // The flush clears only the ID register's valid bit: the instruction
                    // stays in it, and if that is a CSR access held by an outstanding
                    // multicycle FPU result, the decoder's csr_access still raises
                    // `csr_apu_stall` and with it holds `id_ready` low
                    // (cv32e40p_id_stage.sv), so the target, fetched meanwhile, enters ID
                    // only when the CSR access would have entered EX (`csr_after`), and
                    // EX a cycle later. Found by the RTL comparison (fadd or fdiv, beq,
                    // csrrs) and seen in its waveform.
                    // The target's fetch was issued with the branch: a fetch stall
                    // overlaps the wait (`redirect_held`, see ifetch.rs).
                    let mut cost = 3;
                    if self.csr_after >= self.cycle + 3
                        && self.csr_held_in_id(bus, self.pc.wrapping_add(i.len as u32))
                    {
                        cost = self.csr_after + 1 - self.cycle;
                    }
                    self.retire_jump(self.pc.wrapping_add(imm), cost, 0);
                    self.redirect_held = cost - 3;
                } else {
                    // pipeline.rst Branch (not taken): 1.
                    self.retire(i, 1);
                }
                Flow::Next
            }
            Op::Flw | Op::Fsw if self.fs_off() => self.illegal(i),
            Op::Lb | Op::Lh | Op::Lw | Op::Lbu | Op::Lhu | Op::Flw => {
                let size: u8 = match i.op {
                    Op::Lb | Op::Lbu => 1,
                    Op::Lh | Op::Lhu => 2,
                    _ => 4,
                };
                let addr = xa!().wrapping_add(imm);
                let mut first = None;
                if addr & (size as u32 - 1) == 0 {
                    // Fast path: a naturally aligned access is one bus transaction.
                    let waddr = addr & !3;
                    let route = bus.route(waddr, false);
                    if let Route::Direct { wait_cycles } = route {
                        let off = addr & 3;
                        let be = (((1u32 << size) - 1) << off) as u8;
                        let v = bus.read(waddr, be) >> (8 * off);
                        if self.perf_on {
                            self.perf_transaction(false, bus.is_tcdm(waddr), wait_cycles as u64, 0);
                        }
                        // pipeline.rst Load/Store: 1 cycle.
                        self.retire(i, 1 + wait_cycles as u64);
                        self.held_ex(wait_cycles > 0);
                        self.write_back_load(i, v);
                        return Flow::Next;
                    }
                    if route == Route::Timed {
                        if now_ok {
                            if let Some(f) = self.timed_now(bus, i, addr, size, false, 0) {
                                return f;
                            }
                        }
                        let tcdm = self.perf_on && bus.is_tcdm(addr);
                        return self.issue_aligned(tcdm, i, start, addr, size, false, 0);
                    }
                    first = Some(route);
                }
                self.start_mem(bus, i, start, addr, size, false, 0, first)
            }
            Op::Sb | Op::Sh | Op::Sw | Op::Fsw => {
                let (size, data) = match i.op {
                    Op::Sb => (1, xb!()),
                    Op::Sh => (2, xb!()),
                    Op::Sw => (4, xb!()),
                    _ => (4, self.f[(i.rs2 & 31) as usize]),
                };
                let addr = xa!().wrapping_add(imm);
                let mut first = None;
                if addr & (size as u32 - 1) == 0 {
                    let waddr = addr & !3;
                    let route = bus.route(waddr, true);
                    if let Route::Direct { wait_cycles } = route {
                        let off = addr & 3;
                        let be = (((1u32 << size) - 1) << off) as u8;
                        bus.write(waddr, be, data << (8 * off));
                        self.cache.invalidate_range(waddr, 4);
                        if self.perf_on {
                            self.perf_transaction(true, bus.is_tcdm(waddr), wait_cycles as u64, 0);
                        }
                        self.retire(i, 1 + wait_cycles as u64);
                        self.mem_wb_at = self.cycle;
                        self.held_ex(wait_cycles > 0);
                        return Flow::Next;
                    }
                    if route == Route::Timed {
                        if now_ok {
                            if let Some(f) = self.timed_now(bus, i, addr, size, true, data) {
                                return f;
                            }
                        }
                        let tcdm = self.perf_on && bus.is_tcdm(addr);
                        return self.issue_aligned(tcdm, i, start, addr, size, true, data);
                    }
                    first = Some(route);
                }
                self.start_mem(bus, i, start, addr, size, true, data, first)
            }
            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
                self.exec_csr(i)
            }
            Op::Ecall => Flow::Stop(Stop::Ecall { pc: self.pc }),
            Op::Ebreak => Flow::Stop(Stop::Ebreak { pc: self.pc }),
            Op::Mret => {
                let mpie = (self.csrs.mstatus >> 7) & 1;
                self.csrs.mstatus = (self.csrs.mstatus & !(1 << 3)) | (mpie << 3) | (1 << 7);
                // Not in the manual's table; read from cv32e40p_controller.sv: mret in
                // DECODE, then FLUSH_EX, FLUSH_WB, XRET_JUMP (pc_set to mepc), plus the
                // fetch bubble every jump has: 5 cycles (inferred, not measured).
                self.retire_jump(self.csrs.mepc, 5, 0);
                Flow::Next
            }
            Op::FenceI => {
                // pipeline.rst Instruction Fence: 2, implemented as a jump to the next
                // instruction (3 if that is a non-word-aligned 32-bit instruction).
                self.cache.flush();
                self.retire_jump(self.pc.wrapping_add(i.len as u32), 2, 0);
                Flow::Next
            }
            Op::Illegal => self.illegal(i),
            // Every FP operation (listed, so that the dispatch needs no range check).
            Op::FmaddS
            | Op::FmsubS
            | Op::FnmsubS
            | Op::FnmaddS
            | Op::FaddS
            | Op::FsubS
            | Op::FmulS
            | Op::FdivS
            | Op::FsqrtS
            | Op::FsgnjS
            | Op::FsgnjnS
            | Op::FsgnjxS
            | Op::FminS
            | Op::FmaxS
            | Op::FcvtWS
            | Op::FcvtWuS
            | Op::FmvXW
            | Op::FeqS
            | Op::FltS
            | Op::FleS
            | Op::FclassS
            | Op::FcvtSW
            | Op::FcvtSWu
            | Op::FmvWX => self.exec_fp(i),
        }
    }

    /// A naturally aligned load/store to a [`Route::Timed`] target offered to
    /// [`DataBus::timed_now`]: `Some` when the bus performed it (retired as
    /// [`Hart::complete_access`]'s fast path retires it; the run goes on).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn timed_now<B: DataBus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Instr,
        addr: u32,
        size: u8,
        write: bool,
        data: u32,
    ) -> Option<Flow> {
        let off = addr & 3;
        let req = aligned_request(addr, size, write, data);
        let TimedNow::Done {
            rdata,
            stall_cycles,
            limit,
        } = bus.timed_now(self.cycle, &req)
        else {
            return None;
        };
        self.cycle = self.cycle.saturating_add(stall_cycles.saturating_add(1));
        self.instret += 1;
        self.pc = self.pc.wrapping_add(i.len as u32);
        self.prev_rd = if i.flags & flags::XW != 0 { i.rd } else { 0 };
        self.held_ex(stall_cycles > 0);
        self.write_back_load(i, rdata >> (8 * off));
        Some(Flow::Limit(limit))
    }

    /// A naturally aligned load/store to a [`Route::Timed`] target: one transaction,
    /// handed to the platform (the fast path of [`Hart::start_mem`]).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn issue_aligned(
        &mut self,
        tcdm: bool,
        i: &Instr,
        start: u64,
        addr: u32,
        size: u8,
        write: bool,
        data: u32,
    ) -> Flow {
        let req = aligned_request(addr, size, write, data);
        self.mem = Some(MemOp {
            instr: *i,
            pc: self.pc,
            start_cycle: start,
            ex: self.cycle,
            addr,
            size,
            write,
            data,
            part: 0,
            parts: 1,
            acc: 0,
            issued: true,
            tcdm,
        });
        Flow::Timed(req)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn start_mem<B: DataBus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Instr,
        start: u64,
        addr: u32,
        size: u8,
        write: bool,
        data: u32,
        first: Option<Route>,
    ) -> Flow {
        let parts = if (addr & 3) + size as u32 > 4 { 2 } else { 1 };
        let m = MemOp {
            instr: *i,
            pc: self.pc,
            start_cycle: start,
            ex: self.cycle,
            addr,
            size,
            write,
            data,
            part: 0,
            parts,
            acc: 0,
            issued: false,
            tcdm: false,
        };
        match self.resume_mem(bus, m, first) {
            Some(s) => Flow::Stop(s),
            None => Flow::Next,
        }
    }

    /// Issue the remaining transactions of a load/store; `None` when it retired.
    /// `first` is the already known route of the first transaction.
    fn resume_mem<B: DataBus + ?Sized>(
        &mut self,
        bus: &mut B,
        mut m: MemOp,
        mut first: Option<Route>,
    ) -> Option<Stop> {
        let mut waited = 0;
        while m.part < m.parts {
            let (req, shift) = part_request(&m);
            if m.issued {
                self.mem = Some(m);
                return Some(Stop::Timed(self.pending_of(&m, req)));
            }
            let route = match first.take() {
                Some(r) => r,
                None => bus.route(req.addr, req.write),
            };
            match route {
                Route::Direct { wait_cycles } => {
                    if req.write {
                        bus.write(req.addr, req.be, req.wdata);
                        self.cache.invalidate_range(req.addr, 4);
                    } else {
                        let v = bus.read(req.addr, req.be);
                        m.acc |= merge_part(&m, v, shift);
                    }
                    if self.perf_on {
                        self.perf_transaction(
                            req.write,
                            bus.is_tcdm(req.addr),
                            wait_cycles as u64,
                            0,
                        );
                    }
                    // pipeline.rst Load/Store: 1 cycle per bus transaction
                    // (2 for a misaligned access split in two).
                    self.cycle += 1 + wait_cycles as u64;
                    waited += wait_cycles as u64;
                    m.part += 1;
                }
                Route::Timed => {
                    m.issued = true;
                    m.tcdm = self.perf_on && bus.is_tcdm(req.addr);
                    self.mem = Some(m);
                    return Some(Stop::Timed(self.pending_of(&m, req)));
                }
                Route::Unmapped => {
                    self.mem = None;
                    let kind = if req.write {
                        FaultKind::StoreUnmapped { addr: req.addr }
                    } else {
                        FaultKind::LoadUnmapped { addr: req.addr }
                    };
                    // Undo nothing: a first half already written stays written, as in hardware.
                    return Some(Stop::Fault(Fault {
                        kind,
                        pc: m.pc,
                        raw: m.instr.raw,
                        cycle: self.cycle,
                    }));
                }
            }
        }
        self.mem = None;
        self.finish_mem(&m);
        if m.parts > 1 {
            self.fpu_wb_split(m.ex);
        }
        self.held_ex(m.parts > 1 || waited > 0);
        None
    }

    fn pending_of(&self, m: &MemOp, req: BusRequest) -> PendingAccess {
        PendingAccess {
            req,
            cycle: self.cycle,
            pc: m.pc,
            part: m.part,
            parts: m.parts,
        }
    }

    /// Write back a completed load and retire the load/store.
    fn finish_mem(&mut self, m: &MemOp) {
        let i = &m.instr;
        self.instret += 1;
        self.pc = m.pc.wrapping_add(i.len as u32);
        self.prev_rd = if i.flags & flags::XW != 0 { i.rd } else { 0 };
        self.write_back_load(i, m.acc);
    }

    /// Write the loaded bytes `v` (low bits) of a retired load to its destination
    /// and arm the load-use hazard; for stores too, note the cycle of the response.
    #[inline(always)]
    fn write_back_load(&mut self, i: &Instr, v: u32) {
        self.mem_wb_at = self.cycle;
        let rd = (i.rd & 31) as usize;
        let value = match i.op {
            Op::Lb => v as u8 as i8 as i32 as u32,
            Op::Lh => v as u16 as i16 as i32 as u32,
            Op::Lw => v,
            Op::Lbu => v & 0xff,
            Op::Lhu => v & 0xffff,
            Op::Flw => {
                self.f[rd] = v;
                self.fs_dirty();
                self.set_load_hazard(F as u8 + rd as u8);
                return;
            }
            _ => return,
        };
        if rd != 0 {
            self.x[rd] = value;
            self.set_load_hazard(rd as u8);
        } else {
            self.set_load_hazard(X0_LOAD);
        }
    }

    /// A load just retired (at `self.cycle`) writing scoreboard register `reg`.
    #[inline(always)]
    fn set_load_hazard(&mut self, reg: u8) {
        self.load_reg = reg;
        self.load_wb_at = self.cycle;
        // Only the next instruction (entering EX at `load_wb_at`) can stall on it; the
        // jalr check two instructions later reads load_reg / load_wb_at in execute,
        // outside the slow path.
        self.hazard_until = self.hazard_until.max(self.cycle);
    }

    fn exec_csr(&mut self, i: &Instr) -> Flow {
        let num = (i.imm as u32 & 0xfff) as u16;
        let src = match i.op {
            Op::Csrrw | Op::Csrrs | Op::Csrrc => self.x[i.rs1 as usize],
            _ => i.rs1 as u32,
        };
        let writes = match i.op {
            Op::Csrrw | Op::Csrrwi => true,
            _ => i.rs1 != 0,
        };
        let reads = !(matches!(i.op, Op::Csrrw | Op::Csrrwi) && i.rd == 0);
        if crate::perf::is_perf_csr(num) {
            return self.exec_perf_csr(i, num, src, writes);
        }
        // cv32e40p_decoder.sv: fflags/frm/fcsr are illegal while mstatus.FS is Off.
        if num <= csr::FCSR && self.fs_off() {
            return self.illegal(i);
        }
        let old = match self.csr_read(num) {
            Some(v) => v,
            None => return self.illegal(i),
        };
        if writes {
            let new = match i.op {
                Op::Csrrw | Op::Csrrwi => src,
                Op::Csrrs | Op::Csrrsi => old | src,
                _ => old & !src,
            };
            if !self.csr_write(num, new) {
                return self.illegal(i);
            }
        }
        if reads {
            self.set_xreg(i.rd as usize, old);
        }
        self.retire(i, csr_cycles(num));
        Flow::Next
    }

    /// A CSR instruction on a performance-counter CSR ([`crate::perf`]).
    #[cold]
    fn exec_perf_csr(&mut self, i: &Instr, num: u16, src: u32, writes: bool) -> Flow {
        let cost = csr_cycles(num);
        let (pcer, pcmr) = (self.perf.pcer, self.perf.pcmr);
        let old = self.perf.read(num, self.cycle);
        let new = writes.then_some(match i.op {
            Op::Csrrw | Op::Csrrwi => src,
            Op::Csrrs | Op::Csrrsi => old | src,
            _ => old & !src,
        });
        self.perf.access(num, new, self.cycle, cost);
        self.set_xreg(i.rd as usize, old);
        self.retire(i, cost);
        // The instruction's own events count under the configuration at its start.
        if self.perf_on {
            let (npcer, npcmr) = (self.perf.pcer, self.perf.pcmr);
            (self.perf.pcer, self.perf.pcmr) = (pcer, pcmr);
            self.perf_retired(i, false);
            (self.perf.pcer, self.perf.pcmr) = (npcer, npcmr);
        }
        self.perf_on = self.perf.active();
        // Retired and counted: the run loop restarts (in its counting or its plain copy).
        Flow::Stop(Stop::Limit)
    }

    /// Count the events of a retired instruction (counting was on at its start).
    #[cold]
    #[inline(never)]
    fn perf_retired(&mut self, i: &Instr, taken: bool) {
        use crate::perf::event::*;
        let p = &mut self.perf;
        p.add(INSTR, 1);
        if i.len == 2 {
            p.add(RVC, 1);
        }
        match i.op {
            Op::Jal | Op::Jalr => p.add(JUMP, 1),
            Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu => {
                p.add(BRANCH, 1);
                if taken {
                    p.add(TAKEN_BRANCH, 1);
                }
            }
            _ => {}
        }
    }

    /// Count one data transaction: `stall` cycles beyond its one cycle, of which `slept`
    /// with the clock gated.
    #[cold]
    #[inline(never)]
    fn perf_transaction(&mut self, write: bool, tcdm: bool, stall: u64, slept: u64) {
        use crate::perf::event::*;
        let p = &mut self.perf;
        p.add(if write { ST } else { LD }, 1);
        if tcdm {
            // core_demux / cluster: tcdm req & ~gnt.
            p.add(TCDM_CONT, stall);
        } else {
            // core_demux.sv perf_l2_*: every non-TCDM transaction, and the cycles its
            // request is held up to the grant.
            p.add(if write { ST_EXT } else { LD_EXT }, 1);
            p.add(
                if write { ST_EXT_CYC } else { LD_EXT_CYC },
                (1 + stall).saturating_sub(slept),
            );
        }
    }

    /// The platform reports that the pending access kept the core clock gated for `cycles`
    /// (a load from an event-unit wait register): the cycle counter (PCCR 0) and the
    /// external-access cycles do not count them. Call before [`Hart::complete_access`].
    pub fn clock_gated(&mut self, cycles: u64) {
        self.perf.skip_cycles(cycles);
        self.perf_slept += cycles;
    }

    /// Read a CSR (`None` if not implemented).
    pub fn csr_read(&self, num: u16) -> Option<u32> {
        use csr::*;
        let cyc = self.mcycle();
        let ins = self.minstret();
        Some(match num {
            FFLAGS => self.fflags as u32,
            FRM => self.frm as u32,
            FCSR => ((self.frm as u32) << 5) | self.fflags as u32,
            // SD (bit 31) summarises FS == Dirty.
            MSTATUS => self.csrs.mstatus | (((self.csrs.mstatus >> 13) & 3 == 3) as u32) << 31,
            MISA => self.csrs.misa,
            MIE => self.csrs.mie,
            MTVEC => self.csrs.mtvec,
            MCOUNTINHIBIT => self.csrs.mcountinhibit,
            MSCRATCH => self.csrs.mscratch,
            MEPC => self.csrs.mepc,
            MCAUSE => self.csrs.mcause,
            MTVAL => self.csrs.mtval,
            MIP => 0,
            MCYCLE | CYCLE => cyc as u32,
            MCYCLEH | CYCLEH => (cyc >> 32) as u32,
            MINSTRET | INSTRET => ins as u32,
            MINSTRETH | INSTRETH => (ins >> 32) as u32,
            // mhpmcounter3..31(h) and mhpmevent3..31: present, not counting.
            0xB03..=0xB1F | 0xB83..=0xB9F | 0x323..=0x33F | 0xC03..=0xC1F | 0xC83..=0xC9F => 0,
            MVENDORID => 0x602, // OpenHW Group JEDEC id
            MARCHID => 4,       // CV32E40P
            MIMPID => 0,
            MHARTID => self.csrs.mhartid,
            n if crate::perf::is_perf_csr(n) => self.perf.clone().read(n, self.cycle),
            _ => return None,
        })
    }

    /// Write a CSR; `false` if not implemented or read-only.
    pub fn csr_write(&mut self, num: u16, v: u32) -> bool {
        use csr::*;
        if num >> 10 == 3 {
            return false; // read-only space (cycle, mhartid, ...)
        }
        match num {
            FFLAGS => {
                self.fflags = (v & 0x1f) as u8;
                self.fs_dirty();
            }
            FRM => {
                self.frm = (v & 7) as u8;
                self.fs_dirty();
            }
            FCSR => {
                self.fs_dirty();
                self.fflags = (v & 0x1f) as u8;
                self.frm = ((v >> 5) & 7) as u8;
            }
            // MIE, MPIE, FS writable; MPP reads M (machine mode only).
            MSTATUS => self.csrs.mstatus = (v & 0x0000_6088) | 0x1800,
            MISA => {} // WARL, fixed
            MIE => self.csrs.mie = v,
            // Only direct (0) and vectored (1) modes; base[7:0] reads 0.
            MTVEC => self.csrs.mtvec = (v & !0xff) | (v & 1),
            MCOUNTINHIBIT => {
                let (cyc, ins) = (self.mcycle(), self.minstret());
                self.csrs.mcountinhibit = v & 0x5;
                self.set_mcycle(cyc);
                self.set_minstret(ins);
            }
            MSCRATCH => self.csrs.mscratch = v,
            MEPC => self.csrs.mepc = v & !1,
            MCAUSE => self.csrs.mcause = v,
            MTVAL => self.csrs.mtval = v,
            MIP => {}
            // The written value is what the next instruction reads (the write
            // instruction's own increment is not added).
            // A written counter holds the value at the start of the writing instruction.
            MCYCLE => self.set_mcycle((self.mcycle() & !0xffff_ffff) | v as u64),
            MCYCLEH => self.set_mcycle((self.mcycle() & 0xffff_ffff) | ((v as u64) << 32)),
            MINSTRET => self.set_minstret((self.minstret() & !0xffff_ffff) | v as u64),
            MINSTRETH => self.set_minstret((self.minstret() & 0xffff_ffff) | ((v as u64) << 32)),
            0xB03..=0xB1F | 0xB83..=0xB9F | 0x323..=0x33F => {}
            n if crate::perf::is_perf_csr(n) => {
                self.perf.access(n, Some(v), self.cycle, 0);
                self.perf_on = self.perf.active();
            }
            _ => return false,
        }
        true
    }

    /// Current mcycle (64 bit).
    pub fn mcycle(&self) -> u64 {
        if self.csrs.mcountinhibit & 1 != 0 {
            self.mcycle_frozen
        } else {
            self.cycle.wrapping_add(self.mcycle_offset)
        }
    }

    /// Current minstret (64 bit).
    pub fn minstret(&self) -> u64 {
        if self.csrs.mcountinhibit & 4 != 0 {
            self.minstret_frozen
        } else {
            self.instret.wrapping_add(self.minstret_offset)
        }
    }

    fn set_mcycle(&mut self, v: u64) {
        self.mcycle_frozen = v;
        self.mcycle_offset = v.wrapping_sub(self.cycle);
    }

    fn set_minstret(&mut self, v: u64) {
        self.minstret_frozen = v;
        self.minstret_offset = v.wrapping_sub(self.instret);
    }

    fn rounding(&self, rm: u8) -> Option<Rounding> {
        Rounding::from_bits(if rm == 7 { self.frm } else { rm })
    }

    /// mstatus.FS is Off: FP instructions and FP CSRs are illegal
    /// (cv32e40p_decoder.sv `fs_off_i`).
    #[inline]
    fn fs_off(&self) -> bool {
        self.csrs.mstatus & (3 << 13) == 0
    }

    /// An FP register or fflags was written: mstatus.FS = Dirty
    /// (cv32e40p_cs_registers.sv).
    #[inline]
    fn fs_dirty(&mut self) {
        self.csrs.mstatus |= 3 << 13;
    }

    fn exec_fp(&mut self, i: &Instr) -> Flow {
        use fpu::Cmp;
        if self.fs_off() {
            return self.illegal(i);
        }
        let fa = f32::from_bits(self.f[i.rs1 as usize]);
        let fb = f32::from_bits(self.f[i.rs2 as usize]);
        let fc = f32::from_bits(self.f[i.rs3 as usize]);
        let mode = match self.rounding(i.rm) {
            Some(m) => m,
            None => {
                // A reserved rounding mode (static or in frm) makes the instruction
                // illegal, but only for instructions that round.
                if rounds(i.op) {
                    return self.illegal(i);
                }
                Rounding::Rne
            }
        };
        enum Res {
            F(f32, u8),
            X(u32, u8),
        }
        let t = self.timing;
        // the divider's latency, unless the scenario fixes one
        let divsqrt = |sqrt| {
            t.fpu_divsqrt_cycles
                .unwrap_or_else(|| fpu::divsqrt_cycles(sqrt, fa.to_bits(), fb.to_bits()))
        };
        // pipeline.rst Floating-Point rows: results usable after lat + 1 cycles.
        let (res, lat) = match i.op {
            Op::FaddS => (fpu::add(fa, fb, mode), t.fpu_addmul_lat + 1),
            Op::FsubS => (fpu::sub(fa, fb, mode), t.fpu_addmul_lat + 1),
            Op::FmulS => (fpu::mul(fa, fb, mode), t.fpu_addmul_lat + 1),
            Op::FmaddS => (fpu::fma(fa, fb, fc, mode), t.fpu_addmul_lat + 1),
            Op::FmsubS => (fpu::fma(fa, fb, -fc, mode), t.fpu_addmul_lat + 1),
            Op::FnmsubS => (fpu::fma(-fa, fb, fc, mode), t.fpu_addmul_lat + 1),
            Op::FnmaddS => (fpu::fma(-fa, fb, -fc, mode), t.fpu_addmul_lat + 1),
            Op::FdivS => (fpu::div(fa, fb, mode), divsqrt(false)),
            Op::FsqrtS => (fpu::sqrt(fa, mode), divsqrt(true)),
            Op::FminS => (fpu::min_max(fa, fb, false), t.fpu_others_lat + 1),
            Op::FmaxS => (fpu::min_max(fa, fb, true), t.fpu_others_lat + 1),
            _ => (fpu::add(0.0, 0.0, Rounding::Rne), 0),
        };
        let others = t.fpu_others_lat + 1;
        let (out, lat) = match i.op {
            Op::FsgnjS | Op::FsgnjnS | Op::FsgnjxS => {
                let kind = match i.op {
                    Op::FsgnjS => 0,
                    Op::FsgnjnS => 1,
                    _ => 2,
                };
                let v = fpu::sign_inject(self.f[i.rs1 as usize], self.f[i.rs2 as usize], kind);
                (Res::F(f32::from_bits(v), 0), others)
            }
            Op::FeqS | Op::FltS | Op::FleS => {
                let k = match i.op {
                    Op::FeqS => Cmp::Eq,
                    Op::FltS => Cmp::Lt,
                    _ => Cmp::Le,
                };
                let (v, fl) = fpu::compare(fa, fb, k);
                (Res::X(v, fl), others)
            }
            Op::FclassS => (Res::X(fpu::classify(fa), 0), others),
            Op::FmvXW => (Res::X(self.f[i.rs1 as usize], 0), others),
            Op::FmvWX => (Res::F(f32::from_bits(self.x[i.rs1 as usize]), 0), others),
            Op::FcvtWS | Op::FcvtWuS => {
                let (v, fl) = fpu::to_int(fa, i.op == Op::FcvtWS, mode);
                (Res::X(v, fl), others)
            }
            Op::FcvtSW | Op::FcvtSWu => {
                let (v, fl) = fpu::from_int(self.x[i.rs1 as usize], i.op == Op::FcvtSW, mode);
                (Res::F(v, fl), others)
            }
            _ => (Res::F(res.0, res.1), lat),
        };
        // The divider takes a subnormal divisor a cycle late: the instruction waits for
        // the grant in EX, as for a busy FPU (cv32e40p_apu_disp.sv).
        let gnt_wait = match i.op {
            Op::FdivS if t.fpu_divsqrt_cycles.is_none() => {
                fpu::divsqrt_grant_wait(false, fa.to_bits(), fb.to_bits())
            }
            _ => 0,
        };
        self.cycle += gnt_wait as u64;
        let issue = self.cycle;
        let ready = issue + lat as u64;
        let out_reg = match out {
            Res::F(..) => (F + i.rd as usize) as u8,
            Res::X(..) => i.rd,
        };
        match out {
            Res::F(v, fl) => {
                self.f[i.rd as usize] = v.to_bits();
                self.fflags |= fl;
                self.fs_dirty();
                self.ready[F + i.rd as usize] = ready;
            }
            Res::X(v, fl) => {
                self.set_xreg(i.rd as usize, v);
                if fl != 0 {
                    self.fflags |= fl;
                    self.fs_dirty();
                }
                self.ready[i.rd as usize] = ready;
            }
        }
        self.fpu_free = ready;
        self.fp_quiet = self.fp_quiet.max(ready);
        // cv32e40p decoder apu_lat: 3 ("multicycle") for div/sqrt and for a lane with
        // two or more pipeline registers; such a result is written through the ALU port
        // when valid (cv32e40p_ex_stage.sv), and CSR instructions wait for it.
        let multicycle = match i.op {
            Op::FdivS | Op::FsqrtS => true,
            Op::FaddS
            | Op::FsubS
            | Op::FmulS
            | Op::FmaddS
            | Op::FmsubS
            | Op::FnmsubS
            | Op::FnmaddS => t.fpu_addmul_lat >= 2,
            _ => t.fpu_others_lat >= 2,
        };
        if multicycle && lat > 0 {
            self.fpu_wb_at = ready - 1;
            self.fpu_wb_reg = out_reg;
            self.csr_after = ready + 1;
            self.fp_quiet = self.fp_quiet.max(self.csr_after);
        }
        self.hazard_until = self.hazard_until.max(self.fp_quiet);
        // The FPU instruction itself occupies EX for one cycle (APU request).
        self.retire(i, 1);
        let waited = std::mem::take(&mut self.fp_ex_wait);
        self.held_ex(waited || gnt_wait > 0);
        Flow::Next
    }
}

/// Whether the FP instruction uses its rounding mode.
fn rounds(op: Op) -> bool {
    !matches!(
        op,
        Op::FsgnjS
            | Op::FsgnjnS
            | Op::FsgnjxS
            | Op::FminS
            | Op::FmaxS
            | Op::FeqS
            | Op::FltS
            | Op::FleS
            | Op::FclassS
            | Op::FmvXW
            | Op::FmvWX
    )
}

/// Whether a register `i` writes counts as written through the ALU port for the
/// load-use WAW stall: not for loads (LSU port), jumps' links and FPU results (measured
/// on the RTL: `lw a2; jal a2, ...`, `flw fs1; fadd.s fs1, ...` and
/// `lw a2; fcvt.w.s a2, ...` do not stall, `lw a2; addi a2, ...` does). The FPU
/// write-back's port contention asks [`alu_we`] instead, in which jumps do write through
/// the port.
#[inline]
fn writes_via_alu_port(i: &Instr) -> bool {
    i.flags & flags::FPU == 0
        && !matches!(
            i.op,
            Op::Lb | Op::Lh | Op::Lw | Op::Lbu | Op::Lhu | Op::Flw | Op::Jal | Op::Jalr
        )
}

/// Whether `i` is a CSR instruction.
#[inline]
fn is_csr(i: &Instr) -> bool {
    matches!(
        i.op,
        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci
    )
}

/// Whether `i` is a load or store.
#[inline]
fn is_access(i: &Instr) -> bool {
    matches!(
        i.op,
        Op::Lb | Op::Lh | Op::Lw | Op::Lbu | Op::Lhu | Op::Flw | Op::Sb | Op::Sh | Op::Sw | Op::Fsw
    )
}

/// Whether `i` writes through the ALU write port in EX, for the FPU write-back
/// (cv32e40p_decoder.sv `regfile_alu_we`: the OP, OP-IMM, LUI, AUIPC, M, CSR and jump
/// instructions, whatever their rd, x0 included; not loads, stores, branches, fences,
/// system instructions or FPU instructions, which write through the APU).
#[inline]
fn alu_we(i: &Instr) -> bool {
    i.flags & flags::FPU == 0
        && !is_access(i)
        && !matches!(
            i.op,
            Op::Beq
                | Op::Bne
                | Op::Blt
                | Op::Bge
                | Op::Bltu
                | Op::Bgeu
                | Op::Fence
                | Op::FenceI
                | Op::Ecall
                | Op::Ebreak
                | Op::Mret
                | Op::Wfi
        )
}

/// Whether `i` reads, or writes through the ALU port ([`writes_via_alu_port`]), hazard-scoreboard
/// register `reg` (x: 1..31, f: 32..63; [`X0_LOAD`]: writes x0 through the ALU port).
fn uses_reg(i: &Instr, reg: usize) -> bool {
    let mut f = i.flags;
    if !writes_via_alu_port(i) {
        f &= !(flags::XW | flags::FW);
    }
    if reg == X0_LOAD as usize {
        return f & flags::XW != 0 && i.rd == 0;
    }
    if reg < F {
        let r = reg as u8;
        (f & flags::XR1 != 0 && i.rs1 == r)
            || (f & flags::XR2 != 0 && i.rs2 == r)
            || (f & flags::XW != 0 && i.rd == r)
    } else {
        let r = (reg - F) as u8;
        (f & flags::FR1 != 0 && i.rs1 == r)
            || (f & flags::FR2 != 0 && i.rs2 == r)
            || (f & flags::FR3 != 0 && i.rs3 == r)
            || (f & flags::FW != 0 && i.rd == r)
    }
}

/// The bus transaction of the current part of `m`, and the byte offset at which
/// its read data lands in the assembled value.
fn part_request(m: &MemOp) -> (BusRequest, u32) {
    let off = m.addr & 3;
    let n0 = (4 - off).min(m.size as u32);
    let (addr, be, wdata, shift_in) = if m.part == 0 {
        let be = (((1u32 << n0) - 1) << off) as u8;
        (m.addr & !3, be, m.data << (8 * off), 0)
    } else {
        let n1 = m.size as u32 - n0;
        let be = ((1u32 << n1) - 1) as u8;
        ((m.addr & !3).wrapping_add(4), be, m.data >> (8 * n0), n0)
    };
    let req = BusRequest {
        addr,
        be,
        write: m.write,
        wdata: if m.write { wdata } else { 0 },
    };
    (req, shift_in)
}

/// The bytes of read word `rdata` that belong to the current part of `m`, placed
/// at their position in the loaded value.
fn merge_part(m: &MemOp, rdata: u32, shift_in: u32) -> u32 {
    if m.write {
        return 0;
    }
    if m.part == 0 {
        rdata >> (8 * (m.addr & 3))
    } else {
        let n1 = m.size as u32 - shift_in;
        let mask = if n1 >= 4 {
            u32::MAX
        } else {
            (1u32 << (8 * n1)) - 1
        };
        (rdata & mask) << (8 * shift_in)
    }
}

/// RISC-V M division semantics (division by zero and INT_MIN / -1 included).
pub fn divide(op: Op, a: u32, b: u32) -> u32 {
    match op {
        Op::Div => {
            if b == 0 {
                u32::MAX
            } else {
                (a as i32).wrapping_div(b as i32) as u32
            }
        }
        Op::Divu => a.checked_div(b).unwrap_or(u32::MAX),
        Op::Rem => {
            if b == 0 {
                a
            } else {
                (a as i32).wrapping_rem(b as i32) as u32
            }
        }
        _ => a.checked_rem(b).unwrap_or(a),
    }
}

/// Cycles of div/divu/rem/remu for divisor `b`.
///
/// cv32e40p_alu.sv: `div_shift = (ff_no_one ? 31 : clb_result) + (div_op_a_signed ? 0 : 1)`
/// where the count-leading-bits input is the divisor, bit-reversed, and for a negative
/// divisor of a signed operation its bitwise complement (`operand_a_neg = ~operand_a_i`,
/// not the two's complement); `clb = ff1 - 1` in 6 bits. cv32e40p_alu_div.sv then spends
/// 1 cycle loading, `div_shift + 1` cycles in DIVIDE and 1 in FINISH: `3 + div_shift`
/// cycles. For a non-negative divisor that is `3 + clz(b)` (35 for zero, 3 for 0x80000000
/// unsigned); for a negative signed one `3 + clz(!b) - 1`, and 34 for -1 (`!b` has no
/// ones). Checked against the RTL under Verilator for every pair of 17 edge-case operands
/// and each of the four operations.
pub fn div_cycles(b: u32, signed: bool) -> u64 {
    let neg = signed && (b as i32) < 0;
    let shift: u32 = if neg {
        // (the complement of a negative value has bit 31 clear: clz >= 1, no wrap)
        match !b {
            0 => 31,
            m => m.leading_zeros() - 1,
        }
    } else if b == 0 {
        32
    } else {
        b.leading_zeros()
    };
    3 + shift as u64
}

/// Cycles of a CSR access (pipeline.rst "CSR Access": 4 for mstatus, mepc, mtvec,
/// mcause, the counters, mcountinhibit, mhpmevent*, dcsr, dpc, dscratch*; 1 otherwise).
pub fn csr_cycles(num: u16) -> u64 {
    match num {
        csr::MSTATUS | csr::MEPC | csr::MTVEC | csr::MCAUSE | csr::MCOUNTINHIBIT => 4,
        0xB00..=0xB1F | 0xB80..=0xB9F | 0xC00..=0xC1F | 0xC80..=0xC9F => 4,
        0x323..=0x33F => 4,
        0x7B0..=0x7B3 => 4,
        _ => 1,
    }
}

/// The one bus transaction of a naturally aligned access of `size` bytes at `addr` (its
/// word, byte enables and write data in their lanes).
#[inline(always)]
fn aligned_request(addr: u32, size: u8, write: bool, data: u32) -> BusRequest {
    let off = addr & 3;
    BusRequest {
        addr: addr & !3,
        be: (((1u32 << size) - 1) << off) as u8,
        write,
        wdata: if write { data << (8 * off) } else { 0 },
    }
}
