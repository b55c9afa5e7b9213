//! The core's view of the memory system: an initiator socket with two kinds of
//! targets.
//!
//! The core never knows the address map. For every data transaction it asks the
//! platform to [`DataBus::route`] the address:
//! - [`Route::Direct`]: fixed-latency memory (L2 behind the cluster bus, private
//!   memories). The core performs the access at once through [`DataBus::read`] /
//!   [`DataBus::write`] and charges the fixed wait states itself (DMI in TLM terms).
//! - [`Route::Timed`]: a target whose timing or side effects depend on other
//!   initiators (TCDM through the contended logarithmic interconnect, event unit,
//!   peripherals). The core stops *before* the access and hands the platform a
//!   [`PendingAccess`] stamped with the local cycle at which the request is
//!   presented; the platform completes it with [`crate::Hart::complete_access`].
//! - [`Route::Unmapped`]: the core reports an access fault.
//!
//! Every transaction is one 32-bit bus beat with byte enables, exactly as the
//! CV32E40P LSU drives `data_addr_o`/`data_be_o`/`data_wdata_o`
//! (cv32e40p_load_store_unit.sv): the address is word aligned, write data sits in
//! its byte lanes, and a misaligned access that crosses a word boundary is split
//! into two transactions (first the lower word, then the upper one).

/// Classification of an address by the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Route {
    /// Fixed-latency memory: access now, adding `wait_cycles` stall cycles.
    Direct {
        /// Stall cycles added to the 1-cycle access.
        wait_cycles: u32,
    },
    /// A target that needs a timed transaction through the platform.
    Timed,
    /// Nothing answers at this address.
    Unmapped,
}

/// One 32-bit data transaction (a TLM generic payload restricted to the core's bus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BusRequest {
    /// Word-aligned byte address.
    pub addr: u32,
    /// Byte enables, bit i for byte lane i (`data_be_o`).
    pub be: u8,
    /// Write (`true`) or read.
    pub write: bool,
    /// Write data in its byte lanes (`data_wdata_o`); 0 for reads.
    pub wdata: u32,
}

impl BusRequest {
    /// Bit mask of the enabled byte lanes.
    pub fn lane_mask(&self) -> u32 {
        let mut m = 0u32;
        for i in 0..4 {
            if self.be & (1 << i) != 0 {
                m |= 0xff << (8 * i);
            }
        }
        m
    }

    /// The request on the interconnect's narrow port.
    #[inline]
    pub fn narrow(&self) -> vp_kernel::port::NarrowReq {
        vp_kernel::port::NarrowReq {
            addr: self.addr,
            write: self.write,
            be: self.be,
            wdata: self.wdata,
        }
    }
}

/// A timed access the core is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PendingAccess {
    /// The transaction to present to the interconnect.
    pub req: BusRequest,
    /// Local core cycle at which the request is presented (`data_req_o` rises).
    pub cycle: u64,
    /// pc of the load/store instruction.
    pub pc: u32,
    /// 0 for the first (or only) transaction, 1 for the upper half of a split one.
    pub part: u8,
    /// Number of transactions of this instruction (1, or 2 when misaligned).
    pub parts: u8,
}

/// What [`DataBus::timed_now`] did with a [`Route::Timed`] transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedNow {
    /// Nothing: the run stops with [`crate::Stop::Timed`] as usual.
    No,
    /// Performed, with the outcome the platform would have given
    /// [`crate::Hart::complete_access`]: `rdata`, `stall_cycles`. The instruction retires
    /// and the run goes on, up to cycle `limit` from now on.
    Done {
        /// Read data word (as for [`crate::Hart::complete_access`]).
        rdata: u32,
        /// Stall cycles (as for [`crate::Hart::complete_access`]).
        stall_cycles: u64,
        /// The run's new cycle limit.
        limit: u64,
    },
    /// Performed, but the platform completes it later: the run stops with
    /// [`crate::Stop::Timed`] as usual (the platform knows the access was performed).
    Held,
}

/// The memory system as seen by one core. Implemented by the platform.
pub trait DataBus {
    /// Classify a data address (word aligned) for a read or a write.
    fn route(&mut self, addr: u32, write: bool) -> Route;
    /// Read a word from a [`Route::Direct`] target (only the `be` lanes matter).
    fn read(&mut self, addr: u32, be: u8) -> u32;
    /// Write the `be` lanes of `data` to a [`Route::Direct`] target.
    fn write(&mut self, addr: u32, be: u8, data: u32);
    /// Instruction fetch: the 32 bits at `pc` (2-byte aligned, little endian; the
    /// upper half may be anything when only a 16-bit instruction is present).
    /// `None` when nothing is mapped at `pc`. Fetches take no extra cycles (the
    /// timing table assumes I-cache hits).
    fn fetch(&mut self, pc: u32) -> Option<u32>;
    /// A counter that the platform bumps whenever memory holding code may have been
    /// written by someone other than this core (DMA, other cores, loaders). The core
    /// checks it at the start of each [`crate::Hart::run`] and drops its decoded
    /// instructions when it changed. The default never changes.
    fn code_generation(&self) -> u64 {
        0
    }
    /// Whether data address `addr` is in the cluster's TCDM. Only the performance counters
    /// ask ([`crate::perf`]: every other data access counts as external). The default: no.
    fn is_tcdm(&self, _addr: u32) -> bool {
        false
    }
    /// A naturally aligned, single-transaction [`Route::Timed`] access of cycle `cycle`
    /// that the platform may perform at once, inside the run, when it knows the outcome
    /// is the one the stop and [`crate::Hart::complete_access`] would give (an access
    /// nothing else can compete with). Asked only while the performance counters do not
    /// count and no trace hook is set. The default: [`TimedNow::No`].
    #[inline]
    fn timed_now(&mut self, _cycle: u64, _req: &BusRequest) -> TimedNow {
        TimedNow::No
    }
}
