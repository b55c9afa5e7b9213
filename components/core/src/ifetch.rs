//! Instruction-fetch timing hook: how a [`Hart`] consults an instruction-cache model.
//!
//! Without a hook (the default) fetches hit, as the CV32E40P timing tables assume, and the
//! interpreter pays nothing. With one, the hart asks the hook whenever an instruction starts
//! outside the block it last fetched from (a cache line, or a fetch word when the cache is
//! bypassed: the model says which), and the answer's stall cycles delay the instruction's
//! entry into EX. Asking per block, not per instruction, keeps a loop that stays in its lines
//! cheap. The instruction in the block that was being fetched when a flush happened still
//! counts as fetched (the core's prefetch buffer holds it).
//!
//! The stall cycles are counted by the IMISS performance counter: riscv_cs_registers.sv
//! counts `imiss_i & ~pc_set_i`, "cycles waiting for instruction fetches, excluding jumps and
//! branches" (`imiss_i` is the IF stage's fetch-not-valid), which are exactly these waits; the
//! refetch bubble of a taken jump or branch is part of its cost in the timing tables and, as
//! in the RTL, not counted. One wait overlaps another: a taken branch's target that must
//! wait in IF before it may enter ID (the branch flushed a CSR access held in ID, see the
//! hart's branch arm) was fetched with the branch, so its stall delays it only by what is
//! left after that wait; IMISS counts the stall whole, as the IF stage has no valid
//! instruction meanwhile.
//!
//! How the check costs nothing while no hook is installed: the hart's decode cache answers
//! every instruction it has seen without fetching, and the hook is consulted on the fetch path
//! only (one branch there). Installing a hook empties that cache and keeps it empty: the
//! decoded instructions live in the hook's own cache instead, so every instruction comes
//! through the fetch path, where the block check sits. The hook's cache is dropped when the
//! platform reports a new code generation ([`DataBus::code_generation`]: stores of the core
//! into the ELF's executable segments); a `fence.i` or a store elsewhere does not drop it
//! (with the model off, the hart's own cache also forgets the instructions it overwrites).

use std::rc::Rc;

use vp_kernel::port::FetchTiming;

use crate::bus::DataBus;
use crate::decode::{decode, DecodeCache, Instr};
use crate::hart::{Fault, FaultKind, Hart};
use crate::perf::event::IMISS;

/// A model of instruction-fetch timing, as the hart sees it.
pub trait LineFetch {
    /// A fetch enters the block holding `pc` at the hart's local `cycle`: the stall cycles
    /// beyond a hit, and log2 of the block size (bytes) the hart may fetch from freely.
    fn fetch(&mut self, pc: u32, cycle: u64) -> (u64, u8);
}

/// A [`LineFetch`] over the platform's `ifetch` port ([`vp_kernel::port::FetchTiming`]) for
/// core `core`.
pub struct PortFetch {
    /// Core index the model knows this core by.
    pub core: u32,
    /// The model.
    pub model: Rc<dyn FetchTiming>,
}

impl LineFetch for PortFetch {
    fn fetch(&mut self, pc: u32, cycle: u64) -> (u64, u8) {
        let g = self.model.fetch(self.core, pc, cycle);
        (g.stall as u64, g.block_log2)
    }
}

/// The hook a hart holds: the model and the block it is fetching from.
pub struct FetchHook {
    sink: Box<dyn LineFetch>,
    /// Address of the current block, masked by `mask` (none yet: `valid` false).
    block: u32,
    mask: u32,
    valid: bool,
    /// Decoded instructions (the hart's own cache stays empty while hooked).
    cache: DecodeCache,
    /// Code generation the cache holds.
    generation: u64,
    /// Stall cycles paid so far -- statistics.
    pub stall_cycles: u64,
}

impl FetchHook {
    /// A hook over `sink`, with no block fetched yet.
    pub fn new(sink: Box<dyn LineFetch>) -> Self {
        FetchHook {
            sink,
            block: 0,
            mask: 0,
            valid: false,
            cache: DecodeCache::new(),
            generation: 0,
            stall_cycles: 0,
        }
    }
}

impl Hart {
    /// Install (or remove, with `None`) the instruction-fetch hook.
    pub fn set_fetch_hook(&mut self, hook: Option<FetchHook>) {
        // Hooked, every instruction must come through the fetch path.
        self.flush_decode_cache();
        self.ifetch = hook.map(Box::new);
    }

    /// Take the hook out (to move it into a new hart at boot).
    pub fn take_fetch_hook(&mut self) -> Option<FetchHook> {
        self.ifetch.take().map(|b| *b)
    }

    /// The hook, if installed.
    pub fn fetch_hook(&self) -> Option<&FetchHook> {
        self.ifetch.as_deref()
    }

    /// The fetch path with a hook installed (taken out of the hart by the caller and put
    /// back here): the stall of entering a new block (added to the local cycle and counted as
    /// IMISS), then the instruction from the hook's cache, or fetched and decoded.
    #[inline]
    pub(crate) fn fetch_decode_hooked<B: DataBus + ?Sized>(
        &mut self,
        mut h: Box<FetchHook>,
        bus: &mut B,
    ) -> Result<Instr, Fault> {
        // The common case: inside the current block, decoded already.
        let pc = self.pc;
        if h.valid && pc & h.mask == h.block && h.generation == bus.code_generation() {
            if let Some(i) = h.cache.get(pc) {
                let i = *i;
                self.ifetch = Some(h);
                return Ok(i);
            }
        }
        let r = self.hooked(&mut h, bus);
        self.ifetch = Some(h);
        r
    }

    #[inline(never)]
    fn hooked<B: DataBus + ?Sized>(
        &mut self,
        h: &mut FetchHook,
        bus: &mut B,
    ) -> Result<Instr, Fault> {
        let pc = self.pc;
        let fault = |kind, cycle| Fault {
            kind,
            pc,
            raw: 0,
            cycle,
        };
        if pc & 1 != 0 {
            return Err(fault(FaultKind::FetchMisaligned, self.cycle));
        }
        let gen = bus.code_generation();
        if gen != h.generation {
            h.generation = gen;
            h.cache.flush();
        }
        if !h.valid || pc & h.mask != h.block {
            // A redirect's target that waited in IF before it could enter ID was fetched
            // that much earlier, and its stall overlaps the wait (IMISS counts it whole:
            // the IF stage has no valid instruction meanwhile).
            let held = if self.cycle == self.redirect_at {
                self.redirect_held
            } else {
                0
            };
            let (stall, log2) = h.sink.fetch(pc, self.cycle - held);
            h.mask = if log2 >= 32 { 0 } else { !((1u32 << log2) - 1) };
            h.block = pc & h.mask;
            h.valid = true;
            if stall != 0 {
                let paid = stall.saturating_sub(held);
                h.stall_cycles += paid;
                self.cycle += paid;
                self.perf.add(IMISS, stall);
            }
        }
        if let Some(i) = h.cache.get(pc) {
            return Ok(*i);
        }
        let word = bus
            .fetch(pc)
            .ok_or_else(|| fault(FaultKind::FetchUnmapped, self.cycle))?;
        let instr = decode(word);
        h.cache.insert(pc, instr);
        Ok(instr)
    }
}
