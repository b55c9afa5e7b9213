//! The per-cycle pass of the memory system: logarithmic interconnect (LIC), HCI wide-vs-narrow
//! arbiter and bank accesses, evaluated together once per active cycle.
//!
//! RTL modelled (pulp-platform/hci at 2a5a508, the version pinned by pulp_cluster, and
//! 1bcd802+ for the v2.4 starvation guard; pulp-platform/cluster_interconnect and
//! common_cells for the LIC):
//!
//! * `hci_interconnect.sv`: the LIC branch (`cores`, `dma`, `ext` = our narrow ports) is
//!   `in_high`, the HWPE branch (our wide ports) is `in_low` of one `hci_arbiter` per bank.
//! * `tcdm_interconnect.sv` / `xbar.sv` (Topology LIC): one `rr_arb_tree` per bank with
//!   `LockIn = 1` and the default `FairArb = 1`, over all narrow initiators.
//! * `hci_router.sv` / `hci_router_reorder.sv`: a wide access drives `words` adjacent banks
//!   from `(addr >> 2) % banks`, wrapped banks at row + 1, granted only when every bank it
//!   requests grants (`in_gnt[0] = &(~out_req | out_gnt)`); the response follows one cycle
//!   later.
//! * `hci_arbiter.sv`: per bank, the high side passes when it requests and is not
//!   suppressed; the low side gets every other bank. `invert_prio` swaps the sides.
//!   Starvation guard: pinned (one counter of cycles where both sides request anything) or
//!   v2.4 (one counter of conflict cycles with a numerator/denominator window).
//! * `hci_arbiter_tree.sv`: several wide ports meet in a binary tree of `hci_arbiter`s
//!   (the lower index on the high side), each with its own guard counter and swapped by
//!   `invert_prio` like the HCI's (`Hci::wide_tree`).
//!
//! Departures from the RTL, all invisible in the data the initiators see:
//! * A wide access refused on some of its banks performs no bank access at all. In the RTL
//!   the banks it did win perform the access (and repeat it when the access is finally
//!   granted), which only matters for a write racing a narrow write to the same word.
//! * `rr_arb_tree` forbids withdrawing a request while the arbiter is locked on it; a port
//!   cannot withdraw one (a posted request stays until granted, the TCDM protocol's "hold
//!   req until gnt"), and a locked request vector is masked with the current requests all
//!   the same, so that a vanished requester could never be granted.
//!
//! The hot path keeps to plain arrays and 64-bit masks (banks and initiator indices are
//! bits), allocates nothing and skips every bank nobody requests.

use std::cell::Cell;
use std::rc::Rc;

use serde_json::{json, Map, Value};
use vp_kernel::clocked::{Clocked, Next, TickCtx};
use vp_kernel::port::{NarrowPort, NarrowReq, WidePort, WideReq, WIDE_MAX_WORDS};

use crate::tcdm::Tcdm;

/// Most narrow initiator ports (per-cycle masks are 64 bits).
pub const MAX_NARROW_PORTS: usize = 64;
/// Most wide initiator ports.
pub const MAX_WIDE_PORTS: usize = 8;

/// Bits of the cluster-control HCI register (0x10200018).
pub mod ctrl_bits {
    /// `low_prio_max_stall` \[7:0\].
    pub const MAX_STALL_MASK: u32 = 0xFF;
    /// `invert_prio` \[8\].
    pub const INVERT_PRIO: u32 = 1 << 8;
    /// `arb_policy` \[10:9\] (kept, not modelled).
    pub const ARB_POLICY_SHIFT: u32 = 9;
    /// `hwpe_en` \[11\] (kept; it gates the HWPE, not the interconnect).
    pub const HWPE_EN: u32 = 1 << 11;
}

/// Which starvation guard the HCI arbiter implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub enum HciVariant {
    /// hci 2a5a508 (pinned by pulp_cluster; the paper era): one cluster-wide stall counter.
    #[serde(rename = "pinned")]
    Pinned,
    /// hci v2.4+ (1bcd802 onward): per-bank conflict detection, numerator/denominator window.
    #[serde(rename = "v2_4", alias = "v2.4")]
    V2_4,
}

impl HciVariant {
    /// From its YAML spelling (`pinned`, `v2_4` or `v2.4`).
    pub fn parse(s: &str) -> Result<HciVariant, String> {
        match s {
            "pinned" => Ok(HciVariant::Pinned),
            "v2_4" | "v2.4" => Ok(HciVariant::V2_4),
            _ => Err(format!("expected 'pinned' or 'v2_4', got '{s}'")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            HciVariant::Pinned => "pinned",
            HciVariant::V2_4 => "v2_4",
        }
    }
}

/// Buckets of the wait histogram: cycles a request waited for its grant
/// (0, 1, 2, 3-4, 5-8, 9-16, 17-32, 33-64, 65+). Latency to the response is wait + 1.
pub const HIST_LABELS: [&str; 9] = ["0", "1", "2", "3-4", "5-8", "9-16", "17-32", "33-64", "65+"];

/// Bucket of each wait up to 65 (longer waits share the last bucket).
const HIST_LUT: [u8; 66] = {
    let mut t = [0u8; 66];
    let mut w = 1;
    while w < 66 {
        // 1 -> 1, 2 -> 2, 3..=4 -> 3, 5..=8 -> 4, ..., 33..=64 -> 7, 65 -> 8
        let b = (64 - (w as u64 - 1).leading_zeros()) as usize + 1;
        t[w] = if b > 8 { 8 } else { b as u8 };
        w += 1;
    }
    t
};

#[inline]
fn hist_bucket(wait: u64) -> usize {
    HIST_LUT[wait.min(65) as usize] as usize
}

/// Statistics of one initiator port.
#[derive(Clone, Debug, Default)]
pub struct PortStats {
    /// Requests seen (a request held over several cycles counts once).
    pub requests: u64,
    pub grants: u64,
    /// Cycles a posted request was refused.
    pub stall_cycles: u64,
    /// Grants by cycles waited, see [`HIST_LABELS`].
    pub wait_hist: [u64; 9],
    /// Longest wait of a granted request.
    pub max_wait: u64,
}

impl PortStats {
    /// As `--stats json` gives it.
    pub fn to_json(&self) -> Value {
        let mut h = Map::new();
        for (l, n) in HIST_LABELS.iter().zip(self.wait_hist.iter()) {
            h.insert((*l).to_string(), json!(n));
        }
        json!({
            "requests": self.requests,
            "grants": self.grants,
            "stall_cycles": self.stall_cycles,
            "max_wait": self.max_wait,
            "wait_hist": Value::Object(h),
        })
    }
}

/// Statistics of the memory system.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Cycles the interconnect evaluated (cycles with some request pending).
    pub active_cycles: u64,
    /// Accesses performed per bank (narrow accesses and the words of wide accesses).
    pub bank_accesses: Vec<u64>,
    /// Cycles in which a bank was requested by more than one initiator.
    pub bank_conflicts: Vec<u64>,
    pub narrow: Vec<PortStats>,
    pub wide: Vec<PortStats>,
    /// Cycles in which some wide request was refused.
    pub wide_wait_cycles: u64,
    /// Cycles in which the starvation guard suppressed a requesting high side.
    pub guard_firings: u64,
    /// Cycles in which the narrow and the wide side requested a common bank.
    pub side_conflict_cycles: u64,
}

/// Static settings of the arbiter (the register part lives in the shared control word).
#[derive(Clone, Copy, Debug)]
pub struct HciSettings {
    pub variant: HciVariant,
    /// v2.4 numerator/denominator when pinned by the scenario; otherwise derived from
    /// `low_prio_max_stall` M as (M, M + 1).
    pub prio: Option<(u16, u16)>,
    /// Width of the wide port(s) in words.
    pub wide_words: u8,
}

/// The clocked participant.
pub(crate) struct Hci {
    track: String,
    tcdm: Rc<Tcdm>,
    narrow: Vec<Rc<NarrowPort>>,
    wide: Vec<Rc<WidePort>>,
    ctrl: Rc<Cell<u32>>,
    set: HciSettings,
    banks: u32,
    bank_mask: u32,
    all_banks: u64,
    /// Levels of the narrow `rr_arb_tree` (ceil(log2(narrow ports))).
    levels: u32,
    // --- rr_arb_tree state per bank (fixed 64-entry arrays: indices are masked with 63,
    // so the hot path has no bounds checks)
    /// `rr_q`: the priority index.
    rr: [u8; 64],
    /// `lock_q` per bank (bit b).
    locked: u64,
    /// `req_q` per bank.
    lock_req: [u64; 64],
    // --- hci_arbiter state
    /// Pinned: `ls_stall_ctr_d`; v2.4: `priority_cnt_q` (8-bit counters).
    cnt: u16,
    /// The cycle of the last pass (`u64::MAX` before the first).
    last_pass: u64,
    /// hci_arbiter_tree.sv's arbiters between the wide ports (none for one), bottom-up:
    /// (high input, low input), each a wide port `j` or an arbiter `MAX_WIDE_PORTS + k`.
    tree: Vec<(usize, usize)>,
    /// The tree's output (a port or an arbiter, as above).
    tree_root: usize,
    /// The tree arbiters' guard counters (as `cnt`).
    tcnt: [u16; MAX_WIDE_PORTS],
    /// Per wide port, the banks the tree lets it have this cycle (see `wide_tree`).
    wide_path: [u64; MAX_WIDE_PORTS],
    /// The `rr_arb_tree` decision for up to 8 ports (3 levels): entry `req << 3 | rr_q`
    /// holds the granted index (low byte) and `rr_d` (high byte). Empty above 8 ports.
    arb_lut: Box<[u16]>,
    // --- per-cycle scratch
    /// Narrow ports requesting each bank; all zero between passes.
    bank_req: [u64; 64],
    wreq: [WideReq; MAX_WIDE_PORTS],
    /// Post count of the wide request copied in `wreq` (re-read only when re-posted).
    wposted: [u64; MAX_WIDE_PORTS],
    wmask: [u64; MAX_WIDE_PORTS],
    /// Ports whose request was refused last cycle (still the same request).
    held_n: u64,
    held_w: u64,
    /// Cycle at which each port's current request was first seen.
    seen_n: [u64; 64],
    seen_w: [u64; MAX_WIDE_PORTS],
    // --- statistics (per bank, per port), converted to [`Stats`] on demand
    acc: [u64; 64],
    /// Granted wide accesses by first bank and width (`first * 17 + words`): their bank
    /// accesses are added to `acc`'s when the statistics are read (one increment per
    /// grant instead of one per word).
    wide_acc: Box<[u64; 64 * (WIDE_MAX_WORDS + 1)]>,
    conf: [u64; 64],
    /// Requests seen per port (the grant statistics are in `wn` / `ww`).
    req_n: [u64; 64],
    wn: Box<[Waits; 64]>,
    ww: [Waits; MAX_WIDE_PORTS],
    req_w: [u64; MAX_WIDE_PORTS],
    nb: usize,
    stats: Stats,
    /// Last emitted timeline counters (waiting_narrow, waiting_wide, banks_busy).
    trace_last: [u64; 3],
    /// The last cycle whose pass was done ahead of the kernel's tick (see `tick`).
    done_through: Option<u64>,
    /// Passes may be done ahead (see `tick`; off only to compare with it off).
    pub(crate) ahead_on: bool,
    /// This pass delivered a grant otherwise than from a port's queue (a grant hook ran
    /// or an initiator was woken).
    woke: bool,
}

impl Hci {
    pub(crate) fn new(
        track: String,
        tcdm: Rc<Tcdm>,
        narrow: Vec<Rc<NarrowPort>>,
        wide: Vec<Rc<WidePort>>,
        ctrl: Rc<Cell<u32>>,
        set: HciSettings,
    ) -> Hci {
        let g = tcdm.geometry();
        let nb = g.banks as usize;
        let nn = narrow.len();
        debug_assert!(nn <= MAX_NARROW_PORTS && wide.len() <= MAX_WIDE_PORTS);
        // hci_arbiter_tree.sv: level by level, neighbours pair up (the lower index on the
        // high side); an odd one out passes to the next level.
        let mut tree = vec![];
        let mut level: Vec<usize> = (0..wide.len()).collect();
        while level.len() > 1 {
            let mut up = vec![];
            for pair in level.chunks(2) {
                if let [h, l] = *pair {
                    tree.push((h, l));
                    up.push(MAX_WIDE_PORTS + tree.len() - 1);
                } else {
                    up.push(pair[0]);
                }
            }
            level = up;
        }
        let tree_root = level.first().copied().unwrap_or(0);
        let levels = if nn <= 1 {
            0
        } else {
            usize::BITS - (nn - 1).leading_zeros()
        };
        Hci {
            track,
            tcdm,
            ctrl,
            set,
            banks: g.banks,
            bank_mask: g.banks - 1,
            all_banks: if g.banks >= 64 {
                u64::MAX
            } else {
                (1u64 << g.banks) - 1
            },
            levels,
            rr: [0; 64],
            locked: 0,
            lock_req: [0; 64],
            cnt: 0,
            last_pass: u64::MAX,
            tree,
            tree_root,
            tcnt: [0; MAX_WIDE_PORTS],
            wide_path: [0; MAX_WIDE_PORTS],
            arb_lut: arb_lut(levels),
            bank_req: [0; 64],
            wreq: [WideReq::read(0, 1); MAX_WIDE_PORTS],
            wposted: [0; MAX_WIDE_PORTS],
            wmask: [0; MAX_WIDE_PORTS],
            held_n: 0,
            held_w: 0,
            seen_n: [0; 64],
            seen_w: [0; MAX_WIDE_PORTS],
            acc: [0; 64],
            wide_acc: Box::new([0; 64 * (WIDE_MAX_WORDS + 1)]),
            conf: [0; 64],
            req_n: [0; 64],
            wn: Box::new([Waits::default(); 64]),
            ww: [Waits::default(); MAX_WIDE_PORTS],
            req_w: [0; MAX_WIDE_PORTS],
            nb,
            stats: Stats::default(),
            narrow,
            wide,
            trace_last: [0; 3],
            done_through: None,
            ahead_on: true,
            woke: false,
        }
    }

    /// Banks driven by a wide access at `addr` of `words` words (hci_router.sv: adjacent
    /// banks from `(addr >> 2) % banks`, wrapping around).
    #[inline]
    fn wide_mask(&self, addr: u32, words: u8) -> u64 {
        self.wide_mask_from((addr >> 2) & self.bank_mask, words)
    }

    /// Account the bank accesses of a granted (valid) wide request.
    #[inline]
    fn count_wide(&mut self, addr: u32, words: u8) {
        let b0 = ((addr >> 2) & self.bank_mask) as usize & 63;
        self.wide_acc[b0 * (WIDE_MAX_WORDS + 1) + (words as usize).min(WIDE_MAX_WORDS)] += 1;
    }

    /// [`Hci::wide_mask`] from the first bank `b0`.
    #[inline]
    fn wide_mask_from(&self, b0: u32, words: u8) -> u64 {
        wide_mask_from(b0, words, self.banks, self.all_banks)
    }

    #[inline]
    fn wide_valid(&self, r: &WideReq) -> bool {
        r.words >= 1 && r.words <= self.set.wide_words && self.tcdm.geometry().in_window(r.addr)
    }
}

/// Banks driven by a wide access of `words` words from bank `b0` among `banks` (mask
/// `all_banks`): hci_router.sv's adjacent banks, wrapping around.
#[inline(always)]
pub fn wide_mask_from(b0: u32, words: u8, banks: u32, all_banks: u64) -> u64 {
    let m = (1u64 << words) - 1;
    let hi = if b0 == 0 { 0 } else { m >> (banks - b0) };
    ((m << b0) | hi) & all_banks
}

/// One `hci_arbiter` (hci_arbiter.sv) with guard counter `cnt`, for the banks `hmask` the
/// high side and `lmask` the low side request this cycle: the banks the high side wins, and
/// whether the guard fired. Updates the counter.
#[inline(always)]
fn guard(set: HciSettings, ctrl: u32, cnt: &mut u16, hmask: u64, lmask: u64) -> (u64, bool) {
    match set.variant {
        HciVariant::Pinned => {
            // hci_arbiter.sv @2a5a508: hs_req_d forced to 0 when ls_stall_ctr_d >= max_stall.
            let m = (ctrl & ctrl_bits::MAX_STALL_MASK) as u16;
            let sup = m > 0 && *cnt >= m;
            let hs_req = hmask != 0 && !sup;
            // hci_arbiter.sv @2a5a508: the counter counts cycles with hs_req_d & ls_req_d, else 0.
            *cnt = if hs_req && lmask != 0 {
                (*cnt + 1) & 0xFF
            } else {
                0
            };
            (if hs_req { hmask } else { 0 }, sup && hmask != 0)
        }
        HciVariant::V2_4 => {
            let (num, den) = set.prio.unwrap_or_else(|| {
                let m = (ctrl & ctrl_bits::MAX_STALL_MASK) as u16;
                (m, m + 1)
            });
            // hci_arbiter.sv @1bcd802: bank_conflict = hs_req_in & ls_req_in.
            let conflict = hmask & lmask;
            // hci_arbiter.sv @1bcd802: suppress in num <= cnt < den, only on real conflicts.
            let sup = num > 0 && *cnt >= num && *cnt < den && conflict != 0;
            // hci_arbiter.sv @1bcd802: the counter advances only in conflict cycles, wraps at den-1.
            if conflict != 0 {
                *cnt = if *cnt == den.wrapping_sub(1) & 0xFF {
                    0
                } else {
                    (*cnt + 1) & 0xFF
                };
            }
            (if sup { 0 } else { hmask }, sup)
        }
    }
}

/// One `hci_arbiter` between its `in_high` input requesting the banks `a` and its
/// `in_low` input requesting `b`, with guard counter `cnt`: the banks each input may
/// have this cycle (`a`'s, `b`'s), and whether the guard fired. `invert_prio` in `ctrl`
/// swaps the sides (hs_pass = (hs_req_d & hs_req_in) ^ invert_prio).
#[inline(always)]
pub fn arbiter(set: HciSettings, ctrl: u32, cnt: &mut u16, a: u64, b: u64) -> (u64, u64, bool) {
    if ctrl & ctrl_bits::INVERT_PRIO != 0 {
        let (b_wins, fired) = guard(set, ctrl, cnt, b, a);
        (!b_wins, b_wins, fired)
    } else {
        let (a_wins, fired) = guard(set, ctrl, cnt, a, b);
        (a_wins, !a_wins, fired)
    }
}

impl Hci {
    /// A snapshot of the statistics.
    pub(crate) fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        let mut acc = self.acc;
        for (k, &n) in self.wide_acc.iter().enumerate() {
            if n != 0 {
                let (first, words) = (k / (WIDE_MAX_WORDS + 1), k % (WIDE_MAX_WORDS + 1));
                let mut mb = self.wide_mask_from(first as u32, words as u8);
                while mb != 0 {
                    let b = mb.trailing_zeros() as usize & 63;
                    mb &= mb - 1;
                    acc[b] += n;
                }
            }
        }
        s.bank_accesses = acc[..self.nb].to_vec();
        s.bank_conflicts = self.conf[..self.nb].to_vec();
        s.narrow = (0..self.narrow.len())
            .map(|i| self.wn[i].port_stats(self.req_n[i]))
            .collect();
        s.wide = (0..self.wide.len())
            .map(|j| self.ww[j].port_stats(self.req_w[j]))
            .collect();
        s
    }

    /// The bank accesses of a granted wide request: its read data.
    #[inline]
    fn wide_access(&self, r: &WideReq) -> [u32; WIDE_MAX_WORDS] {
        let mut rdata = [0u32; WIDE_MAX_WORDS];
        let idx0 = self.tcdm.word_index(r.addr);
        let n = (r.words as usize).min(WIDE_MAX_WORDS);
        // hci_router.sv: wrapped banks use row + 1, i.e. the next linear words.
        if r.write {
            self.tcdm.write_words(idx0, &r.wdata[..n], r.be);
        } else {
            self.tcdm.read_words(idx0, &mut rdata[..n]);
        }
        rdata
    }

    // --- alone grants (Port::request_alone): the pass of a cycle in which one request is
    // the only one, done at once. The initiator's horizon guarantees that no other port
    // holds a request for that cycle and that this participant has nothing pending (it
    // would be awake, which bounds the horizon), so `held_n` and `held_w` are zero.

    /// What the pass in `cycle` would do with narrow port `i`'s request `r` alone.
    #[inline(always)]
    pub(crate) fn narrow_alone(&mut self, i: usize, cycle: u64, r: &NarrowReq) -> Option<u32> {
        if tracing::enabled!(target: "vp", tracing::Level::TRACE)
            || !self.tcdm.geometry().in_window(r.addr)
        {
            return None;
        }
        debug_assert!(self.held_n | self.held_w == 0);
        let ctrl = self.ctrl.get();
        if self.set.variant == HciVariant::Pinned {
            // the arbiter with the narrow side alone: under default priority the LIC is
            // the high side and a saturated stall counter suppresses it for this cycle
            // (refused: let the pass do it); otherwise the counter clears (no low request).
            let m = (ctrl & ctrl_bits::MAX_STALL_MASK) as u16;
            if ctrl & ctrl_bits::INVERT_PRIO == 0 && m > 0 && self.pinned_cnt_at(cycle) >= m {
                return None;
            }
            // (and the wide-port tree's counters: nothing there requests)
            self.clear_pinned();
        }
        // v2.4: no conflict, so no suppression and the counter holds.
        let b = ((r.addr >> 2) & self.bank_mask) as usize & 63;
        let i = i & 63;
        self.stats.active_cycles += 1;
        self.req_n[i] += 1;
        self.seen_n[i] = cycle;
        // rr_arb_tree with one requester: granted, rr_d = its index, no lock left (the
        // pass also drops the locks of unrequested banks).
        self.rr[b] = i as u8;
        self.locked = 0;
        self.acc[b] += 1;
        self.wn[i].add(0);
        let idx = self.tcdm.word_index(r.addr);
        Some(if r.write {
            self.tcdm.write_at(idx, r.wdata, r.be);
            0
        } else {
            self.tcdm.word_at(idx)
        })
    }

    /// What the pass in `cycle` would do with wide port `j`'s request `r` alone.
    pub(crate) fn wide_alone(
        &mut self,
        j: usize,
        cycle: u64,
        r: &WideReq,
    ) -> Option<[u32; WIDE_MAX_WORDS]> {
        self.wide_alone_grant(j, cycle, r)
            .then(|| self.wide_access(r))
    }

    /// [`Hci::wide_alone`] for an initiator that does not want the read data: the same
    /// grant, bank writes and statistics; a read only reads nothing (reads have no effect
    /// on the banks). True if granted.
    pub(crate) fn wide_alone_discard(&mut self, j: usize, cycle: u64, r: &WideReq) -> bool {
        if !self.wide_alone_grant(j, cycle, r) {
            return false;
        }
        if r.write {
            self.wide_access(r);
        }
        true
    }

    /// [`Hci::wide_alone_discard`] for the requests `proto` at the addresses of `run`, one
    /// after the other (each alone in its cycle), up to the first refused; returns how many
    /// were granted. After a grant alone nothing the next one's decision reads has changed
    /// but what the grant itself set (the pinned counter is clear, no lock is held, tracing
    /// is as it was), so only the first can be refused for the guard and the rest only if
    /// outside the window; their statistics are summed.
    pub(crate) fn wide_alone_discard_run(
        &mut self,
        j: usize,
        proto: &WideReq,
        run: &[(u64, u32)],
    ) -> usize {
        let Some((&(c0, a0), rest)) = run.split_first() else {
            return 0;
        };
        if !self.wide_alone_discard(j, c0, &WideReq { addr: a0, ..*proto }) {
            return 0;
        }
        let mut last = c0;
        let mut n = 0u64;
        for &(c, addr) in rest {
            if !self.tcdm.geometry().in_window(addr) {
                break;
            }
            self.count_wide(addr, proto.words);
            if proto.write {
                self.wide_access(&WideReq { addr, ..*proto });
            }
            last = c;
            n += 1;
        }
        // (as wide_alone_grant, n more times; the pinned counter stays clear)
        let j = j % MAX_WIDE_PORTS;
        self.stats.active_cycles += n;
        self.req_w[j] += n;
        self.seen_w[j] = last;
        self.ww[j].short[0] += n;
        1 + n as usize
    }

    /// The decision and the accounting of [`Hci::wide_alone`], without the bank access.
    #[inline(always)]
    fn wide_alone_grant(&mut self, j: usize, cycle: u64, r: &WideReq) -> bool {
        if tracing::enabled!(target: "vp", tracing::Level::TRACE) || !self.wide_valid(r) {
            return false;
        }
        debug_assert!(self.held_n | self.held_w == 0);
        let ctrl = self.ctrl.get();
        if self.set.variant == HciVariant::Pinned {
            // the arbiter with the wide side alone: with invert_prio it is the high side
            // and a saturated counter suppresses it (refused); otherwise the counter clears.
            let m = (ctrl & ctrl_bits::MAX_STALL_MASK) as u16;
            if ctrl & ctrl_bits::INVERT_PRIO != 0 && m > 0 && self.pinned_cnt_at(cycle) >= m {
                return false;
            }
            // (its way through the wide-port tree: alone, suppressed only where its side
            // is the high one; every counter then clears)
            if self.tree_refuses_alone(j, cycle, ctrl) {
                return false;
            }
            self.clear_pinned();
        }
        let j = j % MAX_WIDE_PORTS;
        self.stats.active_cycles += 1;
        self.req_w[j] += 1;
        self.seen_w[j] = cycle;
        self.locked = 0;
        self.count_wide(r.addr, r.words);
        self.ww[j].add(0);
        true
    }

    /// hci_arbiter_tree.sv for the wide ports' requests this cycle (`pend_w`, masks in
    /// `wmask`): the banks whose requests reach the HCI arbiter; per port the banks it may
    /// have on its way there go to `wide_path`. Each arbiter decides as the HCI's
    /// (hci_arbiter.sv, with its own guard counter, `invert_prio` swapping its sides too);
    /// under the v2.4 guard
    /// with the window fixed at 1/2 (hci_interconnect.sv @1bcd802+ `ctrl_arbiter_tree`:
    /// "perfectly fair"), under the pinned one with the HCI's max_stall.
    #[inline(never)]
    fn wide_tree(&mut self, ctrl: u32, pend_w: u64) -> u64 {
        let set = match self.set.variant {
            HciVariant::Pinned => self.set,
            HciVariant::V2_4 => HciSettings {
                prio: Some((1, 2)),
                ..self.set
            },
        };
        let mut mask = [0u64; 2 * MAX_WIDE_PORTS];
        for (j, m) in mask.iter_mut().enumerate().take(self.wide.len()) {
            if pend_w >> j & 1 != 0 {
                *m = self.wmask[j];
            }
        }
        // bottom-up: each arbiter's decision and output; (high, low) side's banks
        let mut sides = [(0u64, 0u64); MAX_WIDE_PORTS];
        for (k, &(h, l)) in self.tree.iter().enumerate() {
            let (hm, lm) = (mask[h], mask[l]);
            let (h_ok, l_ok, _) = arbiter(set, ctrl, &mut self.tcnt[k], hm, lm);
            sides[k] = (h_ok, l_ok);
            mask[MAX_WIDE_PORTS + k] = (hm & h_ok) | (lm & l_ok);
        }
        // top-down: the banks each input may have
        let mut ok = [u64::MAX; 2 * MAX_WIDE_PORTS];
        for (k, &(h, l)) in self.tree.iter().enumerate().rev() {
            let o = ok[MAX_WIDE_PORTS + k];
            ok[h] = o & sides[k].0;
            ok[l] = o & sides[k].1;
        }
        self.wide_path.copy_from_slice(&ok[..MAX_WIDE_PORTS]);
        mask[self.tree_root]
    }

    /// Whether wide port `j` alone in `cycle` is suppressed on its way through the tree: on
    /// an arbiter where its side is the high one (after `invert_prio`) and the pinned
    /// counter is saturated.
    fn tree_refuses_alone(&self, j: usize, cycle: u64, ctrl: u32) -> bool {
        let m = (ctrl & ctrl_bits::MAX_STALL_MASK) as u16;
        if m == 0 || !self.counters_live(cycle) {
            return false;
        }
        let invert = ctrl & ctrl_bits::INVERT_PRIO != 0;
        let mut cur = j;
        for (k, &(h, l)) in self.tree.iter().enumerate() {
            if cur != h && cur != l {
                continue;
            }
            if (cur == h) != invert && self.tcnt[k] >= m {
                return true;
            }
            cur = MAX_WIDE_PORTS + k;
        }
        false
    }

    /// Whether the pinned counters hold their values in `cycle`: a pass ran in the cycle
    /// before it. After a cycle without a pass (nothing was requested) they are clear, as
    /// the RTL clears them in every cycle in which the two sides do not both request.
    #[inline]
    fn counters_live(&self, cycle: u64) -> bool {
        cycle == self.last_pass.wrapping_add(1)
    }

    /// The pinned stall counter as a pass in `cycle` sees it (see `counters_live`).
    #[inline]
    fn pinned_cnt_at(&self, cycle: u64) -> u16 {
        if self.counters_live(cycle) {
            self.cnt
        } else {
            0
        }
    }

    /// Clear the pinned counters, the HCI's and the wide-port tree's: a cycle in which
    /// no arbiter has both sides requesting.
    #[inline]
    fn clear_pinned(&mut self) {
        self.cnt = 0;
        self.tcnt = [0; MAX_WIDE_PORTS];
    }

    /// The `rr_arb_tree` of a bank: the index granted among `req` (not empty) with
    /// priority `rr`, and the next priority.
    #[inline(always)]
    fn arbitrate(&self, req: u64, rr: u8) -> (usize, u8) {
        // (the table is empty above 8 ports, where `req` may reach bit 63)
        if let Some(&e) = self.arb_lut.get((req as usize) << 3 | (rr as usize & 7)) {
            return ((e & 0xFF) as usize, (e >> 8) as u8);
        }
        let (g, rr) = arbitrate_tree(req, rr as u32, self.levels);
        (g as usize, rr as u8)
    }

    fn trace(&mut self, waiting_n: u64, waiting_w: u64, busy: u64, fired: bool) {
        let vals = [waiting_n, waiting_w, busy];
        const NAMES: [&str; 3] = ["waiting_narrow", "waiting_wide", "banks_busy"];
        for k in 0..3 {
            if vals[k] != self.trace_last[k] {
                self.trace_last[k] = vals[k];
                tracing::event!(target: "vp", tracing::Level::TRACE,
                    track = self.track.as_str(), ev = "counter", name = NAMES[k], value = vals[k]);
            }
        }
        if fired {
            tracing::event!(target: "vp", tracing::Level::TRACE,
                track = self.track.as_str(), ev = "instant", name = "starvation_guard",
                counter = self.cnt as u64);
        }
    }
}

/// `rr_arb_tree.sv` (FairArb): the index the tree grants for requests `req` and priority
/// `rr` with `levels` levels. At each node, when both halves request, the bit of `rr` for
/// that level picks the half; otherwise the half that requests wins.
#[inline]
pub(crate) fn tree_select(req: u64, rr: u32, levels: u32) -> u32 {
    // At most 64 inputs: 6 levels, halves of at most 32.
    debug_assert!(levels <= 6);
    let mut lo = 0u32;
    // the requests from `lo` on
    let mut r = req;
    for bit in (0..levels).rev() {
        let half = 1u32 << bit;
        let m = (1u64 << half) - 1;
        let left = r & m;
        let right = (r >> half) & m;
        if left == 0 || (right != 0 && (rr >> bit) & 1 == 1) {
            lo += half;
            r >>= half;
        }
    }
    lo
}

/// `rr_arb_tree.sv` (LockIn, FairArb) for one requested bank: the index granted among
/// `req` (not empty) with priority `rr_q` = `rr` and `levels` levels, and `rr_d`.
#[inline]
pub fn arbitrate_tree(req: u64, rr: u32, levels: u32) -> (u32, u32) {
    if req & (req - 1) == 0 {
        // one requester: granted, and rr_d = its index
        let g = req.trailing_zeros();
        return (g, g);
    }
    let rr = rr & 63;
    let g = if req & (1u64 << rr) != 0 {
        rr
    } else {
        tree_select(req, rr, levels)
    };
    // rr_arb_tree.sv (FairArb): rr_d = next requester after rr_q on a grant.
    (g, next_after(req, rr))
}

/// [`arbitrate_tree`] as a table for up to 8 ports (`levels` <= 3): entry `req << 3 | rr`
/// holds the grant (low byte) and the next `rr` (high byte); empty for more ports.
pub fn arb_lut(levels: u32) -> Box<[u16]> {
    if levels > 3 {
        return Box::new([]);
    }
    let mut t = vec![0u16; 256 * 8];
    for req in 1..256u64 {
        for rr in 0..8u32 {
            let (g, n) = arbitrate_tree(req, rr, levels);
            t[(req as usize) << 3 | rr as usize] = (g | n << 8) as u16;
        }
    }
    t.into_boxed_slice()
}

/// `rr_arb_tree.sv` (FairArb) priority update on a grant: the first requester after `rr`
/// in index order, else the lowest requester.
#[inline]
pub(crate) fn next_after(req: u64, rr: u32) -> u32 {
    // rr <= 63: the mask of indices above rr (empty for rr = 63) without a branch.
    let upper = req & (u64::MAX << (rr & 63) << 1);
    if upper != 0 {
        upper.trailing_zeros()
    } else {
        req.trailing_zeros()
    }
}

/// Grants of one port by cycles waited, one increment per grant; [`PortStats`] derives
/// from it (grants, stall cycles, histogram and maximum are sums over it).
#[derive(Clone, Copy, Debug)]
pub struct Waits {
    /// Grants that waited `w` cycles, for `w` up to 64 (the histogram's last bucket
    /// starts at 65).
    short: [u64; 65],
    /// Grants that waited 65 cycles or more: count, sum and maximum of their waits.
    long_n: u64,
    long_sum: u64,
    long_max: u64,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            short: [0; 65],
            long_n: 0,
            long_sum: 0,
            long_max: 0,
        }
    }
}

impl Waits {
    /// A grant that waited `w` cycles.
    #[inline]
    pub fn add(&mut self, w: u64) {
        if w < 65 {
            self.short[w as usize] += 1;
        } else {
            self.long_n += 1;
            self.long_sum += w;
            self.long_max = self.long_max.max(w);
        }
    }

    /// The statistics of a port that saw `requests` requests.
    pub fn port_stats(&self, requests: u64) -> PortStats {
        let mut s = PortStats {
            requests,
            grants: self.long_n,
            stall_cycles: self.long_sum,
            max_wait: self.long_max,
            ..PortStats::default()
        };
        s.wait_hist[hist_bucket(65)] += self.long_n;
        for (w, &n) in self.short.iter().enumerate() {
            if n > 0 {
                let w = w as u64;
                s.grants += n;
                s.stall_cycles += n * w;
                s.wait_hist[hist_bucket(w)] += n;
                s.max_wait = s.max_wait.max(w);
            }
        }
        s
    }
}

impl Hci {
    /// The pass of `cycle`: read every port, arbitrate, perform and deliver the grants.
    /// Returns the next cycle the interconnect must evaluate (`u64::MAX`: none until a
    /// port is posted to): the next cycle while a request is held, else the earliest
    /// request posted ahead (the grant hooks' next requests included).
    #[inline]
    fn pass(&mut self, cycle: u64, tracing_on: bool) -> u64 {
        let ctrl = self.ctrl.get();
        // hci_arbiter.sv @2a5a508: the stall counter clears in every cycle in which the
        // two sides do not both request, so after any cycle without a pass (nothing was
        // requested) too. (Found by the RTL comparison, hci/rtl_compare.rs.)
        if self.set.variant == HciVariant::Pinned && !self.counters_live(cycle) {
            self.clear_pinned();
        }
        self.last_pass = cycle;

        // --- gather narrow requests by bank (addr_dec_resp_mux.sv: bank = addr[..:2])
        let mut pend_n = 0u64;
        let mut nbanks = 0u64;
        let mut multi = 0u64;
        let bank_mask = self.bank_mask;
        // Requests posted ahead for a later cycle (an initiator running ahead, a grant
        // hook's next request): not seen before their cycle, which we must tick at.
        let mut ahead = u64::MAX;
        for (i, p) in self.narrow.iter().enumerate() {
            let due = p.due();
            if due > cycle {
                ahead = ahead.min(due);
                continue;
            }
            if let Some(r) = p.pending() {
                let i = i & 63;
                let b = ((r.addr >> 2) & bank_mask) as usize & 63;
                let bit = 1u64 << b;
                multi |= nbanks & bit;
                nbanks |= bit;
                // zero outside a pass (the LIC loop clears every bank it visits)
                self.bank_req[b] |= 1u64 << i;
                pend_n |= 1u64 << i;
            }
        }
        // --- gather wide requests
        let mut pend_w = 0u64;
        let mut wbanks = 0u64;
        let mut wmulti = 0u64;
        for j in 0..self.wide.len().min(MAX_WIDE_PORTS) {
            let p = &self.wide[j];
            let due = p.due();
            if due > cycle {
                ahead = ahead.min(due);
                continue;
            }
            // A request held since an earlier cycle is the one read then, unless the port
            // posted another since (its post count tells).
            let posted = p.posts();
            if self.held_w & (1 << j) == 0 || self.wposted[j] != posted {
                let Some(r) = p.pending() else { continue };
                self.wmask[j] = if self.wide_valid(&r) {
                    self.wide_mask(r.addr, r.words)
                } else {
                    0
                };
                self.wreq[j] = r;
                self.wposted[j] = posted;
            }
            let m = self.wmask[j];
            wmulti |= wbanks & m;
            wbanks |= m;
            pend_w |= 1 << j;
        }
        if pend_n | pend_w == 0 {
            // (a held request stays posted until granted, so nothing is held here either)
            debug_assert!(self.held_n | self.held_w == 0);
            self.held_n = 0;
            self.held_w = 0;
            if self.set.variant == HciVariant::Pinned {
                self.clear_pinned();
            }
            if tracing_on {
                self.trace(0, 0, 0, false);
            }
            return ahead;
        }
        self.stats.active_cycles += 1;
        // requests seen for the first time
        let mut fresh = pend_n & !self.held_n;
        while fresh != 0 {
            let i = fresh.trailing_zeros() as usize & 63;
            fresh &= fresh - 1;
            self.req_n[i] += 1;
            self.seen_n[i] = cycle;
        }
        let mut fresh = pend_w & !self.held_w;
        while fresh != 0 {
            let j = fresh.trailing_zeros() as usize % MAX_WIDE_PORTS;
            fresh &= fresh - 1;
            self.req_w[j] += 1;
            self.seen_w[j] = cycle;
        }

        // --- several wide ports: the tree picks per bank the request that reaches the HCI
        // arbiter, and which banks each port may have
        // (one request alone goes through unchanged, and leaves the counters as they are,
        // unless a pinned counter could suppress it)
        let tree = !self.tree.is_empty()
            && (pend_w & pend_w.wrapping_sub(1) != 0
                || self.set.variant == HciVariant::Pinned && self.tcnt != [0; MAX_WIDE_PORTS]);
        let wreach = if tree {
            self.wide_tree(ctrl, pend_w)
        } else {
            wbanks
        };

        // --- HCI: wide vs narrow per bank (hci_interconnect.sv: LIC = in_high, HWPE = in_low)
        if nbanks & wreach != 0 {
            self.stats.side_conflict_cycles += 1;
        }
        let (narrow_ok, wide_ok, fired) = arbiter(self.set, ctrl, &mut self.cnt, nbanks, wreach);
        if fired {
            self.stats.guard_firings += 1;
        }

        // --- wide grants: all banks or none (hci_router_reorder.sv: in_gnt = &(~out_req | out_gnt))
        let mut granted_w = 0u64;
        let mut busy = 0u64;
        if pend_w != 0 {
            let mut bits = pend_w;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize % MAX_WIDE_PORTS;
                bits &= bits - 1;
                let m = self.wmask[j];
                if m == 0 {
                    // a malformed request (bad word count or outside the TCDM window)
                    granted_w |= 1 << j;
                    self.ww[j].add(cycle - self.seen_w[j]);
                    let d = self.wide[j].deliver_quiet(cycle, [0; WIDE_MAX_WORDS], true);
                    self.woke |= !d.from_queue;
                    ahead = ahead.min(d.due);
                    continue;
                }
                let path = if tree { self.wide_path[j] } else { u64::MAX };
                if m & !(path & wide_ok) == 0 {
                    granted_w |= 1 << j;
                    busy |= m;
                    self.ww[j].add(cycle - self.seen_w[j]);
                    self.count_wide(self.wreq[j].addr, self.wreq[j].words);
                    let p = &self.wide[j];
                    let rdata = if self.wreq[j].write || !p.discards_read_data() {
                        self.wide_access(&self.wreq[j])
                    } else {
                        // (a read has no effect on the banks)
                        [0; WIDE_MAX_WORDS]
                    };
                    let d = p.deliver_quiet(cycle, rdata, false);
                    self.woke |= !d.from_queue;
                    ahead = ahead.min(d.due);
                }
            }
        }

        // --- LIC: one rr_arb_tree per requested bank
        let mut locked = self.locked & nbanks;
        let mut granted_n = 0u64;
        let mut bits = nbanks;
        let geom = self.tcdm.geometry();
        while bits != 0 {
            let b = bits.trailing_zeros() as usize & 63;
            bits &= bits - 1;
            let bit = 1u64 << b;
            let mut req = self.bank_req[b];
            self.bank_req[b] = 0;
            if locked & bit != 0 {
                // rr_arb_tree.sv (LockIn): req_d = req_q while the last decision is locked
                // (with one requester this changes nothing).
                let l = req & self.lock_req[b];
                if l != 0 {
                    req = l;
                }
            }
            if narrow_ok & bit == 0 {
                // rr_arb_tree.sv (LockIn): lock_d = req_o & ~gnt_i keeps the decision.
                locked |= bit;
                self.lock_req[b] = req;
                continue;
            }
            // rr_arb_tree.sv (FairArb): the grant, and rr_d = next requester after rr_q.
            let (g, rr) = self.arbitrate(req, self.rr[b]);
            self.rr[b] = rr;
            let g = g & 63;
            granted_n |= 1u64 << g;
            self.acc[b] += 1;
            self.wn[g].add(cycle - self.seen_n[g]);
            // Perform the access and grant it.
            let p = &self.narrow[g];
            let Some(r) = p.pending() else { continue };
            let (rdata, error) = if !geom.in_window(r.addr) {
                (0, true)
            } else {
                let idx = self.tcdm.word_index(r.addr);
                (self.tcdm.access_at(idx, r.write, r.wdata, r.be), false)
            };
            let d = p.deliver_quiet(cycle, rdata, error);
            self.woke |= !d.from_queue;
            ahead = ahead.min(d.due);
        }
        // the banks granted to narrow requests drop their locks
        self.locked = locked & !(nbanks & narrow_ok);

        // --- bank conflicts: more than one requester on a bank this cycle
        let mut conf = multi | (nbanks & wbanks) | wmulti;
        while conf != 0 {
            let b = conf.trailing_zeros() as usize & 63;
            conf &= conf - 1;
            self.conf[b] += 1;
        }
        let refused_n = pend_n & !granted_n;
        let refused_w = pend_w & !granted_w;
        if refused_w != 0 {
            self.stats.wide_wait_cycles += 1;
        }
        self.held_n = refused_n;
        self.held_w = refused_w;

        if tracing_on {
            busy |= nbanks & narrow_ok;
            self.trace(
                refused_n.count_ones() as u64,
                refused_w.count_ones() as u64,
                busy.count_ones() as u64,
                fired,
            );
            // one more cycle to draw the counters back to zero when idle
            if refused_n | refused_w == 0 && busy != 0 {
                return cycle + 1;
            }
        }
        if refused_n | refused_w != 0 {
            cycle + 1
        } else {
            ahead
        }
    }
}

impl Clocked for Hci {
    /// The pass of this cycle, then, while the next cycle with work lies before the
    /// horizon (nothing but this pass and the grant hooks it calls can act before then:
    /// the initiators all take their grants through hooks), the passes of the following
    /// cycles too, at once: the same passes in the same order as ticking each cycle.
    /// Not while tracing (the timeline's events carry the kernel's time).
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        if self.done_through.take().is_some_and(|d| cx.cycle <= d) {
            // The tick asked for below: this cycle's pass is done already.
            return Next::Sleep;
        }
        let tracing_on = tracing::enabled!(target: "vp", tracing::Level::TRACE);
        let mut cycle = cx.cycle;
        let mut horizon = 0;
        loop {
            self.woke = false;
            let next = self.pass(cycle, tracing_on);
            if next == u64::MAX {
                if cycle == cx.cycle {
                    return Next::Sleep;
                }
                // Asleep after passes done ahead: still tick in the last of them (doing
                // nothing), so that the simulation reaches that cycle as it would have.
                self.done_through = Some(cycle);
                return Next::At(cycle);
            }
            if tracing_on || !self.ahead_on {
                return Next::At(next);
            }
            // The horizon moves only when something else was woken: a pass that called
            // no grant hook and woke no initiator (every grant posted from a port's queue)
            // leaves it where it was.
            if self.woke || horizon == 0 {
                // (only whether it lies beyond `next` matters)
                horizon = cx.horizon_above(next);
            }
            if next >= horizon {
                return Next::At(next);
            }
            cycle = next;
        }
    }
}

impl Stats {
    /// As `--stats json` gives it, the ports under these names.
    pub fn to_json(&self, narrow_names: &[String], wide_names: &[String]) -> Value {
        let mut n = Map::new();
        for (name, s) in narrow_names.iter().zip(self.narrow.iter()) {
            n.insert(name.clone(), s.to_json());
        }
        let mut w = Map::new();
        for (name, s) in wide_names.iter().zip(self.wide.iter()) {
            w.insert(name.clone(), s.to_json());
        }
        json!({
            "active_cycles": self.active_cycles,
            "banks": {
                "accesses": self.bank_accesses,
                "conflicts": self.bank_conflicts,
            },
            "narrow": Value::Object(n),
            "wide": Value::Object(w),
            "hci": {
                "wide_wait_cycles": self.wide_wait_cycles,
                "guard_firings": self.guard_firings,
                "side_conflict_cycles": self.side_conflict_cycles,
            },
        })
    }
}

#[cfg(test)]
mod rtl_compare;

#[cfg(test)]
impl Hci {
    /// One pass, tracing off (for the tests).
    fn pass_for_test(&mut self, cycle: u64) -> u64 {
        self.pass(cycle, false)
    }
}

/// `nn` narrow and `nw` wide ports for a test (`n0`.., `w0`..).
#[cfg(test)]
fn test_ports(nn: usize, nw: usize) -> (Vec<Rc<NarrowPort>>, Vec<Rc<WidePort>>) {
    let narrow = (0..nn)
        .map(|i| Rc::new(NarrowPort::new(format!("n{i}"))))
        .collect();
    let wide = (0..nw)
        .map(|j| Rc::new(WidePort::new(format!("w{j}"))))
        .collect();
    (narrow, wide)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_select_follows_rr_bits() {
        // 4 inputs, 2 levels. rr_q = 0, requests {1, 2}: root sees both halves, rr[1] = 0
        // -> left half; left leaf pair has only 1 -> 1.
        assert_eq!(tree_select(0b0110, 0, 2), 1);
        // rr_q = 1 (01), requests {0, 3}: root picks left (rr[1] = 0), leaf pair {0} -> 0.
        assert_eq!(tree_select(0b1001, 1, 2), 0);
        // rr_q = 2 (10), requests {0, 3}: root right, leaf pair {3} -> 3.
        assert_eq!(tree_select(0b1001, 2, 2), 3);
        // rr_q requesting -> rr_q
        for rr in 0..8 {
            assert_eq!(tree_select(0xFF, rr, 3), rr);
        }
        // 3 inputs padded to 4
        assert_eq!(tree_select(0b101, 1, 2), 0);
        assert_eq!(tree_select(0b101, 3, 2), 2);
    }

    /// rr_arb_tree's tree by its definition, node by node: at each node over
    /// [lo, lo + 2 half), both halves requesting -> rr's bit for the level picks, else the
    /// requesting half.
    fn walk(req: u64, rr: u32, levels: u32) -> u32 {
        let any = |a: u32, n: u32| (a..a + n).any(|i| i < 64 && req >> i & 1 == 1);
        let mut lo = 0;
        for bit in (0..levels).rev() {
            let half = 1 << bit;
            let (l, r) = (any(lo, half), any(lo + half, half));
            if !l || (r && (rr >> bit) & 1 == 1) {
                lo += half;
            }
        }
        lo
    }

    #[test]
    fn tree_select_equals_the_node_by_node_walk() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for levels in 1..=6u32 {
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = 1u32 << levels;
                let req =
                    if n >= 64 { x } else { x & ((1u64 << n) - 1) } | 1 << ((x >> 58) % n as u64);
                let rr = (x >> 40) as u32 % n;
                assert_eq!(tree_select(req, rr, levels), walk(req, rr, levels));
            }
        }
    }

    #[test]
    fn the_table_is_the_tree() {
        // every request set and priority of up to 8 ports against arbitrate_tree
        for levels in 0..=3u32 {
            let lut = arb_lut(levels);
            let n = 1u64 << levels;
            for req in 1..1u64 << n {
                for rr in 0..n as u32 {
                    let e = lut[(req as usize) << 3 | rr as usize];
                    let (g, nx) = arbitrate_tree(req, rr, levels);
                    assert_eq!(((e & 0xFF) as u32, (e >> 8) as u32), (g, nx));
                }
            }
        }
        assert!(arb_lut(4).is_empty());
    }

    #[test]
    fn arbitrate_tree_follows_rr_arb_tree() {
        // rr_arb_tree.sv (FairArb) by its definition: the tree walk and rr_d = the first
        // requester after rr_q, wrapping around
        fn after(req: u64, rr: u32) -> u32 {
            (1..=64)
                .map(|k| (rr + k) % 64)
                .find(|&i| req >> i & 1 == 1)
                .unwrap()
        }
        let mut x = vp_kernel::testkit::XorShift(0x9e37_79b9_7f4a_7c15);
        for levels in 0..=6u32 {
            let n = 1u32 << levels;
            for _ in 0..3000 {
                let v = x.next_u64();
                let req = if n >= 64 { v } else { v & ((1u64 << n) - 1) } | 1 << x.below(n as u64);
                let rr = x.below(n as u64) as u32;
                assert_eq!(
                    arbitrate_tree(req, rr, levels),
                    (walk(req, rr, levels), after(req, rr)),
                    "req {req:#x} rr {rr} levels {levels}"
                );
            }
        }
    }

    /// What a run of [`random_run`] produced: every response (cycle, port, waited, error,
    /// read data), the statistics and the TCDM contents.
    type Run = (Vec<(u64, usize, u64, bool, Vec<u32>)>, String, Vec<u32>);

    /// A random configuration (narrow ports 1-8, 0-2 wide ports, bank count, guard variant,
    /// priorities, control word written during the run) and random traffic (hot banks,
    /// reads and writes with random byte enables, address errors, malformed wide
    /// requests), driven straight through one pass per cycle. With `lut` off the banks
    /// are arbitrated by `arbitrate_tree` (the computation the table is made of).
    fn random_run(seed: u64, lut: bool) -> Run {
        use crate::tcdm::TcdmGeometry;
        let mut x = vp_kernel::testkit::XorShift(seed);
        let banks = 1u32 << x.below(7);
        let geom = TcdmGeometry {
            base: 0x1000_0000,
            size: 0x4000,
            banks,
        };
        let tcdm = Rc::new(Tcdm::new(geom));
        let nn = 1 + x.below(8) as usize;
        let nw = x.below(3) as usize;
        let (narrow, wide) = super::test_ports(nn, nw);
        let ctrl_word = |x: &mut vp_kernel::testkit::XorShift| {
            x.below(9) as u32
                | if x.chance(30) {
                    ctrl_bits::INVERT_PRIO
                } else {
                    0
                }
        };
        let ctrl = Rc::new(Cell::new(ctrl_word(&mut x)));
        let set = HciSettings {
            variant: if x.chance(50) {
                HciVariant::Pinned
            } else {
                HciVariant::V2_4
            },
            prio: if x.chance(30) {
                let den = 1 + x.below(8) as u16;
                Some((x.below(den as u64 + 1) as u16, den))
            } else {
                None
            },
            wide_words: 1 + x.below(12) as u8,
        };
        let mut hci = Hci::new(
            "t".into(),
            tcdm.clone(),
            narrow.clone(),
            wide.clone(),
            ctrl.clone(),
            set,
        );
        if !lut {
            hci.arb_lut = Box::new([]);
        }
        // per port: intensity (%), write ratio (%), hot banks
        let all = u64::MAX >> (64 - banks);
        let hot = |x: &mut vp_kernel::testkit::XorShift| x.next_u64() & all | 1;
        let np: Vec<(u64, u64, u64)> = (0..nn)
            .map(|_| (20 + x.below(81), x.below(101), hot(&mut x)))
            .collect();
        let wp: Vec<(u64, u64)> = (0..nw).map(|_| (10 + x.below(91), x.below(60))).collect();
        let addr = |x: &mut vp_kernel::testkit::XorShift, hot: u64| {
            if x.chance(2) {
                return 0x2000_0000 + 4 * x.below(16) as u32; // outside the window
            }
            let mut b = x.below(banks as u64);
            while hot >> b & 1 == 0 {
                b = x.below(banks as u64);
            }
            let words = (geom.size / 4) as u64;
            // (some past the TCDM size: they alias into it)
            geom.base + 4 * ((x.below(2 * words) & !(banks as u64 - 1)) as u32 + b as u32)
        };
        let mut log = Vec::new();
        for c in 0..3000u64 {
            if x.chance(1) {
                ctrl.set(ctrl_word(&mut x));
            }
            for (p, &(int, wr, h)) in narrow.iter().zip(&np) {
                if !p.busy() && x.chance(int) {
                    let write = x.chance(wr);
                    let a = addr(&mut x, h);
                    let be = if x.chance(70) { 0xF } else { x.below(16) as u8 };
                    p.request(
                        c,
                        NarrowReq {
                            addr: a,
                            write,
                            be,
                            wdata: x.next_u64() as u32,
                        },
                    );
                }
            }
            for (p, &(int, wr)) in wide.iter().zip(&wp) {
                if !p.busy() && x.chance(int) {
                    let words = 1 + x.below(set.wide_words as u64 + 1) as u8;
                    let mut r = WideReq::read(addr(&mut x, u64::MAX), words);
                    if x.chance(wr) {
                        r.write = true;
                        r.be = x.next_u64();
                        for d in r.wdata.iter_mut() {
                            *d = x.next_u64() as u32;
                        }
                    }
                    p.request(c, r);
                }
            }
            hci.pass(c, false);
            for (i, p) in narrow.iter().enumerate() {
                if let Some(r) = p.take_response() {
                    log.push((r.granted, i, r.waited, r.error, vec![r.rdata]));
                }
            }
            for (j, p) in wide.iter().enumerate() {
                if let Some(r) = p.take_response() {
                    log.push((r.granted, 64 + j, r.waited, r.error, r.rdata.to_vec()));
                }
            }
        }
        let mem = (0..geom.size / 4)
            .map(|k| tcdm.read_word(geom.base + 4 * k))
            .collect();
        (log, format!("{:?}", hci.stats()), mem)
    }

    /// FNV-1a of a run's debug form.
    fn fingerprint(r: &Run) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in format!("{r:?}").bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h
    }

    /// [`fingerprint`]s of [`random_run`] with seeds 1 to 60, recorded from the pass as it
    /// was before the table and the branch-free bank access (commit c98c3a9: the same test
    /// code run on that pass; not derived by hand), and re-recorded when the pinned stall
    /// counter learned to clear in cycles without requests and when several wide ports
    /// met in hci_arbiter_tree.sv's tree instead of a fixed priority (both found by
    /// `rtl_compare`; the runs of the other seeds did not change).
    const RECORDED: [u64; 60] = [
        0x0e7236cbe807e7e6,
        0xbecc3296b9d90f07,
        0x775294788d3eef90,
        0xe3e0c8c124438bf0,
        0xbfafd92b342e0001,
        0x7aff8f3f355fc867,
        0x4afc1b89b002643c,
        0x98ec9fbe0c53ff38,
        0xb5288bbdced64a19,
        0xc7ae0a1c0f332ae1,
        0x1d8c96edff941918,
        0x562e74a325016130,
        0x7c6eccadf9505791,
        0x51d63f745123de30,
        0xf8dbe06b45fe1b3e,
        0xab358d436509e5a5,
        0x060f0cbc6d71cf71,
        0x7ac25ea449628ba8,
        0x13e000f1cc0ef285,
        0x80b9befa9d8c5825,
        0xc111dd6e3bf30fe6,
        0x3ba54806c31a88c7,
        0x15e32ab2a9ac12f2,
        0xc8995297c02194c2,
        0x1a416073611e1160,
        0xe27be891a6f2d345,
        0xc4674236fe71af99,
        0xddde27382c7b72fe,
        0x0d33b9ac8a384b5c,
        0x38ed022d6564ecee,
        0x294092e0447667df,
        0xe4be69cf22804b61,
        0xaff2bf5ed4969c41,
        0x18ae7ccf28a98c6e,
        0x2a4260730ba9b720,
        0x026722d95ba9514a,
        0xdc4ac8d59846c6be,
        0xbc6b327abeab365a,
        0x371ddabc5a15c2ff,
        0xe9e2b9c0164c0db2,
        0x5ddcf596a323f614,
        0x6f81b5d0f841202b,
        0xc0c76046b5e1d2b9,
        0xdf27d1c67ee34c8b,
        0x5152dbc95717fdea,
        0x1bbf2f55e772692c,
        0xcf4f6e35911f0217,
        0x154564f5f4a12720,
        0xc6e64f3a3cebe595,
        0xe17b131c52b51a32,
        0xc6e2464d313dbb0b,
        0x70534433fe5e80de,
        0xbffe178c4871abe8,
        0xbc4084aefe385bd4,
        0x187af609ff521a3c,
        0x1713ec68d3dabfab,
        0x72cad296697df2d2,
        0x7595ce6d47192b6e,
        0x2f53656a2a393f95,
        0x5a5d9f6010844047,
    ];

    #[test]
    fn the_pass_equals_the_pass_before_the_table() {
        let mut grants = 0;
        for seed in 1..=60u64 {
            let a = random_run(seed, true);
            let b = random_run(seed, false);
            assert!(a.0 == b.0, "seed {seed}: the grants differ");
            assert_eq!(a.1, b.1, "seed {seed}: the statistics differ");
            assert!(a.2 == b.2, "seed {seed}: the TCDM contents differ");
            let want = RECORDED[seed as usize - 1];
            assert_eq!(fingerprint(&a), want, "seed {seed}: not the recorded run");
            assert_eq!(fingerprint(&b), want, "seed {seed}: not the recorded run");
            grants += a.0.len();
        }
        // (the runs do something)
        assert!(grants > 60 * 1000, "{grants}");
    }

    #[test]
    fn next_after_wraps() {
        assert_eq!(next_after(0b0011, 0), 1);
        assert_eq!(next_after(0b0011, 1), 0);
        assert_eq!(next_after(0b1001, 1), 3);
        assert_eq!(next_after(0b0001, 0), 0);
        assert_eq!(next_after(1 << 63, 63), 63);
    }

    #[test]
    fn waits_give_the_port_statistics() {
        let waits = [0u64, 0, 1, 2, 7, 64, 65, 66, 1000, 3];
        let mut w = Waits::default();
        let mut want = PortStats {
            requests: 12,
            ..PortStats::default()
        };
        for &x in &waits {
            w.add(x);
            want.grants += 1;
            want.stall_cycles += x;
            want.wait_hist[hist_bucket(x)] += 1;
            want.max_wait = want.max_wait.max(x);
        }
        let got = w.port_stats(12);
        assert_eq!(
            (got.requests, got.grants, got.stall_cycles, got.max_wait),
            (want.requests, want.grants, want.stall_cycles, 1000)
        );
        assert_eq!(got.wait_hist, want.wait_hist);
        assert_eq!(got.wait_hist, [2, 1, 1, 1, 1, 0, 0, 1, 3]);
    }

    #[test]
    fn hist_buckets() {
        let b: Vec<usize> = [0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 64, 65, 1000]
            .iter()
            .map(|w| hist_bucket(*w))
            .collect();
        assert_eq!(b, vec![0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8]);
    }
}
