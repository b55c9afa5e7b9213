//! Steady-state replay: the schedule's outputs of a period repeated instead of evaluated.
//!
//! In the interior of a job RedMulE repeats itself: every X chunk (one restart of the X source,
//! `redmule_memory_scheduler.sv`) the streams issue the same requests in the same cycles, only
//! at other addresses, and the CE array stalls in the same cycles. This module detects such a
//! stretch at a period boundary and returns the recorded outputs of an earlier period in the
//! same class (a template), with the addresses moved on, instead of evaluating every register
//! of [`Model`]; it stops at the first refused grant and hands over to the full model in the
//! exact state it would have had. The outputs are those of the full evaluation in every cycle
//! (the argument below; `tests/schedule_replay.rs` runs both side by side).
//!
//! # State: control and progress
//!
//! The model's registers split into
//! - progress registers: the iteration counters of `redmule_scheduler.sv` (`x_cols_iter`,
//!   `x_w_iters`, `x_rows_iter`, `w_rows_iter`, `w_cols_iter`, `w_mat_iters`, `y_cols_iter`,
//!   `y_rows_iter`), those of `redmule_memory_scheduler.sv` (`x_cols_iters`, `w_iters`,
//!   `x_rows_iters`, `tot_x_read` and the two offsets), the address generators of W, Y and the Z
//!   sink (indices `i0..i2`, counters `c0`, `c1`, `overall`) with their stream counters, the
//!   round-robin counters of the two multiplexers, the cycle number, and the address metadata
//!   ([`Meta`]) queued in the address and request FIFOs of X, W, Y and Z (list: `progress!` and
//!   [`specs`]);
//! - control registers: everything else (FSM states, FIFO occupancies, the X source's address
//!   generator and stream counter, which never exceed one X chunk's 12 rows, the small phase
//!   counters `x_shift_cnt`, `waits_cnt`, `z_*_cnt`, the X, W and Z buffers' counters, flags).
//!
//! Every decision the model takes reads control registers and compares progress registers
//! with constants of the job: `== limit - 1` (last chunk, last W row, last tile...), `== 0`,
//! `< limit` (address generator dimensions, `tot_x_read < TOT_X_READ`), and the 16-bit wrap of
//! the counters masked with `0xffff`. No comparison involves two progress registers, and a
//! progress register is only ever stepped by a constant (+1, +stride), set to a constant
//! (wrap, clear, presample, reset) or, for FIFO metadata, loaded with the output of an address
//! generator, which is a linear function (`meta_of`) of progress registers.
//!
//! # The replay condition
//!
//! Period boundaries are the cycles that start the X source. Every period evaluated in full
//! with every request granted becomes a template: the model at its start A and at its end A'
//! (after the register update, before the evaluation), the outputs of its P cycles, and which
//! progress registers were set to a constant during it (the model marks every such update,
//! `Model::resets`). At a boundary with the model in state B, a template is replayed if, with
//! d = B - A field by field (wrapping):
//! 1. the controller computes in B (no event can fall in the period: it needs the Z sink's
//!    last address, a comparison excluded by 3);
//! 2. the control registers of A and B are equal (FIFOs compared by content in queue order; a
//!    multiplexer's `winner_q` only where it is read: after a cycle with a request and no
//!    handshake);
//! 3. every progress register with d != 0 was not set to a constant during the template's
//!    period, did not decrease (A' >= A), and none of its comparisons changes value over the
//!    template's window [A, A'] nor over the window [B, B + (A' - A)]: no `== c` with c in
//!    either, and every value of both on the same side of each `< c` (the register is in the
//!    same class all along both; computed once per template as the range the model's value
//!    must lie in, `ranges`). Comparisons the model provably does not make in either
//!    period are not checked (`unread_tests`: an address generator that does not step, `c1`
//!    while `c0` stays below `d0_len`, the `== 0` of `y_cols_iter` and `y_rows_iter` when the
//!    period never reads `z_first_load` (recorded per cycle, `Comb::z_first_load_read`), or
//!    else one of them while the other stays above 0, and a scheduler counter's `== limit - 1`
//!    while the counter does not change, it being compared only in cycles that step it unless
//!    a leftover or a done flag says otherwise);
//! 4. a multiplexer's round-robin counter with d != 0 (mod its channel count) decided no
//!    arbitration during the template's period (two or more requests, not forced:
//!    `Mux::winner`);
//! 5. per stream, every queued FIFO entry of B is the one of A moved by the same d as the
//!    stream's address generator output (`meta_of`).
//!
//! Claim: the trajectory from B is then the template's trajectory with every progress register
//! (and queued metadata) moved by d, cycle by cycle, as long as every request is granted. By
//! induction over the cycles of the period: at cycle j both have the same control registers and
//! every progress register differs by its d. A register with d = 0 has the same value in both,
//! so its comparisons agree. A register with d != 0 was only stepped in the template (3; a
//! 16-bit masked counter cannot wrap either: that needs 65,536 steps and a period has at most
//! 1024 cycles), so its values stayed in [A, A'], and from B they are those plus d, in
//! [B, B + (A' - A)]: the comparisons agree (3). The round-robin counter is read only when two
//! or more channels request at a re-arbitration, which the template never did (4), and the
//! request pattern is the same from B. So every comparison and every multiplexer decision
//! agrees, the control registers take the same next values, the updates that set a register to
//! a constant happen in both at the same cycle (only to registers with d = 0: 3), the steps are
//! the same constants, and a loaded FIFO entry is `meta_of` of registers that differ by d, i.e.
//! it moves by the stream's d (5, `meta_of` is linear). The outputs of cycle j are read from
//! control registers and FIFO heads: the template's, with the addresses moved by the stream's
//! d. After P cycles the model is A' + d, at the next boundary (the X start falls in the same
//! cycle), where the next template is looked for.
//!
//! The classes of the sketch (first / interior / last chunk...) are these windows:
//! a template recorded in one tile is replayed in every later tile whose counters are in the
//! same class, e.g. chunk 3 of every interior tile column of every row block.
//!
//! Finding the template: templates are kept (64, the least recently used replaced) with a key
//! (a digest of the control registers) and the set of registers the template pins (those
//! condition 3 cannot move for it: set to a constant, or crossing a limit in its own window),
//! with a digest of their values. At a boundary the candidates are the templates that followed
//! the period's own template before (the one just replayed, or the one just recorded; its 4
//! most recent successors), then the others most recently used first, those whose key and
//! pinned values match the model's; at most 8 are checked in full. The index only selects
//! candidates: the conditions above decide.
//!
//! Where one replay ends and the next may start, the model is the template's end moved as a
//! whole, so the successors are tried without making its digest (`Schedule::chain`): the key
//! and conditions 2 and 5 do not depend on the move (5 compares differences of entries that all
//! move with their stream) and are kept per pair of templates (`Template::fits`); conditions 3
//! and 4 are checked on the moved progress registers and counters (`moved_plan`), as for any
//! other boundary. The digest is made only if none fits (or, for a refusal, when the full model
//! takes over from that boundary).
//!
//! # Refusals
//!
//! The memory's grant for cycle j's request is known at cycle j + 1. When a replayed request
//! turns out refused, the model is restored to B, evaluated again for the cycles before the
//! refused one with every grant given (exactly what happened), and the refusal is applied to
//! the full model, which takes over: the outputs so far were those of the full model (above),
//! and from the refusal on they are the full model's.

use super::{
    meta_of, src_ctrl, AddrGen, Comb, CountFifo, CtrlState, CycleOut, Fifo, Meta, Model, Mux,
    Params, SState, Sched, Stall, Stream, WideAccess, XBuf, ZBuf, W, X, Y,
};

// Bits of `Model::resets`: the progress registers (index in `progress!`) set to a constant
// (wrapped, cleared) instead of stepped during a period.
const fn bit(i: u32) -> u64 {
    1 << i
}
pub(super) const SCH_XC: u64 = bit(0);
pub(super) const SCH_XW: u64 = bit(1);
pub(super) const SCH_WR: u64 = bit(3);
pub(super) const SCH_WC: u64 = bit(4);
pub(super) const SCH_YC: u64 = bit(6);
pub(super) const SCH_YR: u64 = bit(7);
pub(super) const MS_COLS: u64 = bit(8) | bit(9);
pub(super) const MS_W: u64 = bit(10);
pub(super) const MS_ROWS: u64 = bit(11) | bit(12);
/// First index of the address generator registers of X (none: control), W, Y and the Z sink.
const AG_AT: [u32; 4] = [0, 14, 21, 28];
/// Stream counters (X: control) and the Z sink's address counter.
pub(super) const CNT: [u64; 3] = [0, bit(20), bit(27)];
pub(super) const CNT_SINK: u64 = bit(34);
/// A multiplexer's round-robin counter decided an arbitration (condition 4).
pub(super) const RR_YZ: u64 = bit(40);
pub(super) const RR_LD: u64 = bit(41);
/// The scheduler was reset (FINISHED).
pub(super) const ALL: u64 = u64::MAX;

/// `Model::resets` bits of an address generator's `set` mask (`AddrGen::clock`) for the load
/// stream `s` (3: the Z sink).
pub(super) fn ag_resets(s: usize, set: u32) -> u64 {
    if s == X {
        0
    } else {
        u64::from(set) << AG_AT[s]
    }
}

/// Longest period replayed, in cycles (bounds the steps of a 16-bit counter in one period, and
/// the templates' memory: 64 of at most 1024 cycles).
const MAX_PERIOD: usize = 1024;

/// A comparison of a progress register with a constant of the job.
#[derive(Clone, Copy, Debug)]
enum Test {
    None,
    Eq(u32),
    Lt(u32),
}

/// How a progress register is compared.
type Spec = [Test; 2];

/// Number of progress registers in `progress!`.
const NP: usize = 35;

/// The progress registers of a model, as an array of references (`&` or `&mut`), in the order
/// of [`specs`].
macro_rules! progress {
    ($m:expr, $($r:tt)+) => {{
        let m = $m;
        let [_, sw, sy] = $($r)+ m.src;
        let s = $($r)+ m.sched;
        let ms = $($r)+ m.ms;
        let sk = $($r)+ m.sink_ag;
        [
            $($r)+ s.x_cols_iter,
            $($r)+ s.x_w_iters,
            $($r)+ s.x_rows_iter,
            $($r)+ s.w_rows_iter,
            $($r)+ s.w_cols_iter,
            $($r)+ s.w_mat_iters,
            $($r)+ s.y_cols_iter,
            $($r)+ s.y_rows_iter,
            $($r)+ ms.x_cols_iters,
            $($r)+ ms.x_cols_offs,
            $($r)+ ms.w_iters,
            $($r)+ ms.x_rows_iters,
            $($r)+ ms.x_rows_offs,
            $($r)+ ms.tot_x_read,
            $($r)+ sw.ag.i0,
            $($r)+ sw.ag.i1,
            $($r)+ sw.ag.i2,
            $($r)+ sw.ag.c0,
            $($r)+ sw.ag.c1,
            $($r)+ sw.ag.overall,
            $($r)+ sw.stream_cnt,
            $($r)+ sy.ag.i0,
            $($r)+ sy.ag.i1,
            $($r)+ sy.ag.i2,
            $($r)+ sy.ag.c0,
            $($r)+ sy.ag.c1,
            $($r)+ sy.ag.overall,
            $($r)+ sy.stream_cnt,
            $($r)+ sk.i0,
            $($r)+ sk.i1,
            $($r)+ sk.i2,
            $($r)+ sk.c0,
            $($r)+ sk.c1,
            $($r)+ sk.overall,
            $($r)+ m.sink_addr_cnt,
        ]
    }};
}

/// The comparisons each progress register takes part in (every use in `eval` and `commit`).
fn specs(p: &Params) -> [Spec; NP] {
    use Test::{Eq, Lt, None as No};
    // Address generator of a stream: `c0 < d0_len`, `c1 < d1_len`, `overall < tot_len` (and
    // `overall >= tot_len` for `done`); the indices only make addresses. The stream counter:
    // `== tot_len` ends the stream; 16 bits.
    let ag = |c: &super::AddrGenCtrl| {
        [
            [No, No],
            [No, No],
            [No, No],
            [Lt(c.d0_len), No],
            [Lt(c.d1_len), No],
            [Lt(c.tot_len), No],
            [Eq(c.tot_len), Eq(0xffff)],
        ]
    };
    let aw = ag(&p.w_ctrl);
    let ay = ag(&p.yz_ctrl);
    let xc = p.x_cols_iter - 1;
    let wc = p.w_cols_iter - 1;
    let xr = p.x_rows_iter - 1;
    let wr = p.w_rows_iter.wrapping_sub(1);
    let mut s = [[No, No]; NP];
    s[..14].copy_from_slice(&[
        [Eq(xc), No],
        [Eq(wc), No],
        [Eq(xr), Eq(0xffff)],
        [Eq(wr), No],
        [Eq(wc), No],
        [Eq(xr), Eq(0xffff)],
        [Eq(wc), Eq(0)],
        [Eq(wr), Eq(0)],
        [Eq(xc), No],
        [No, No],
        [Eq(wc), No],
        [Eq(xr), No],
        [No, No],
        [Lt(p.tot_x_read), Eq(0xffff)],
    ]);
    s[14..21].copy_from_slice(&aw);
    s[21..28].copy_from_slice(&ay);
    s[28..35].copy_from_slice(&ay);
    s
}

/// The FIFOs holding address metadata of stream `s` (0 X, 1 W, 2 Y, 3 Z).
fn meta_fifos_ref(m: &Model, s: usize) -> [&Fifo; 2] {
    if s < 3 {
        [&m.src[s].addr_fifo, &m.src[s].req_fifo]
    } else {
        [&m.sink_addr_fifo, &m.store_fifo]
    }
}

/// As [`meta_fifos_ref`].
fn meta_fifos(m: &mut Model, s: usize) -> [&mut Fifo; 2] {
    if s < 3 {
        let src = &mut m.src[s];
        [&mut src.addr_fifo, &mut src.req_fifo]
    } else {
        [&mut m.sink_addr_fifo, &mut m.store_fifo]
    }
}

/// What the address generator of stream `s` presents (the metadata its next entry will carry).
fn stream_meta(m: &Model, s: usize) -> Meta {
    let p = &m.prm;
    match s {
        0 => meta_of(p, &m.ms, X, &m.src[X].ag, &src_ctrl(p, &m.ms, X)),
        1 => meta_of(p, &m.ms, W, &m.src[W].ag, &p.w_ctrl),
        2 => meta_of(p, &m.ms, Y, &m.src[Y].ag, &p.yz_ctrl),
        _ => Meta {
            bytes: 0,
            ..meta_of(p, &m.ms, Y, &m.sink_ag, &p.yz_ctrl)
        },
    }
}

fn meta_sub(a: Meta, b: Meta) -> Meta {
    Meta {
        addr: a.addr.wrapping_sub(b.addr),
        row: a.row.wrapping_sub(b.row),
        tile_m: a.tile_m.wrapping_sub(b.tile_m),
        tile_k: a.tile_k.wrapping_sub(b.tile_k),
        chunk: a.chunk.wrapping_sub(b.chunk),
        bytes: a.bytes.wrapping_sub(b.bytes),
    }
}

fn meta_add(a: Meta, b: Meta) -> Meta {
    Meta {
        addr: a.addr.wrapping_add(b.addr),
        row: a.row.wrapping_add(b.row),
        tile_m: a.tile_m.wrapping_add(b.tile_m),
        tile_k: a.tile_k.wrapping_add(b.tile_k),
        chunk: a.chunk.wrapping_add(b.chunk),
        bytes: a.bytes.wrapping_add(b.bytes),
    }
}

/// Rotate a FIFO so that its head is slot 0 and clear the free slots (invisible to the model:
/// it only reads entries in queue order).
fn canon_fifo(f: &mut Fifo) {
    let mut buf = [Meta::default(); 4];
    for (i, e) in buf.iter_mut().enumerate().take(f.len) {
        *e = f.buf[(f.head + i) & (f.depth - 1)];
    }
    f.buf = buf;
    f.head = 0;
}

fn canon(m: &mut Model) {
    for s in 0..4 {
        for f in meta_fifos(m, s) {
            canon_fifo(f);
        }
    }
    canon_fifo(&mut m.top_z);
}

/// A multiplexer as far as its future depends on it: `winner_q` is only read after a cycle with
/// a request and without handshake (`Mux::winner`); the round-robin counter is compared apart.
fn mux_key(x: &Mux) -> Mux {
    Mux {
        rr_counter: 0,
        winner_q: if !x.rr_en_q && x.any_req_q {
            x.winner_q
        } else {
            0
        },
        ..*x
    }
}

/// The control registers of a model (condition 2 of the module docs), canonical ([`canon`]):
/// the sources' and the Z sink's progress registers cleared, FIFOs of metadata by occupancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct View {
    ctrl: (CtrlState, bool, bool, bool, u64, bool, bool),
    xb: XBuf,
    zb: ZBuf,
    sched: Sched,
    src: [(SState, AddrGen, u32, usize, bool, usize, usize); 3],
    sink: (SState, bool, usize, usize),
    top: [CountFifo; 3],
    top_z: Fifo,
    mux: (Mux, Mux),
    port: (Option<usize>, Option<usize>, u32),
}

fn view(m: &Model) -> View {
    // Exhaustive on purpose: a register added to the model must be classified here.
    let Model {
        prm: _,
        geom: _,
        job: _,
        t: _,
        start_at,
        evaluated: _,
        c: _,
        ctrl,
        sink_done_q,
        evt,
        finished,
        ms: _,
        sched,
        xb,
        zb,
        src,
        sink_cs,
        sink_ag,
        sink_addr_fifo,
        sink_addr_cnt: _,
        store_fifo,
        top,
        top_z,
        yz_mux,
        ld_mux,
        resp,
        port_refused,
        quiet,
        rtl_retire,
        refused_any,
        resets: _,
        x_started: _,
    } = m;
    let mut sched = *sched;
    sched.x_cols_iter = 0;
    sched.x_w_iters = 0;
    sched.x_rows_iter = 0;
    sched.w_rows_iter = 0;
    sched.w_cols_iter = 0;
    sched.w_mat_iters = 0;
    sched.y_cols_iter = 0;
    sched.y_rows_iter = 0;
    let ag_ctrl = |a: &AddrGen| AddrGen {
        valid: a.valid,
        ..AddrGen::reset()
    };
    let src = std::array::from_fn(|i| {
        let s = &src[i];
        // X's address generator and stream counter never exceed one chunk: control.
        let (ag, cnt) = if i == X {
            (s.ag, s.stream_cnt)
        } else {
            (ag_ctrl(&s.ag), 0)
        };
        (
            s.cs,
            ag,
            cnt,
            s.resp_len,
            s.r_valid_q,
            s.addr_fifo.len,
            s.req_fifo.len,
        )
    });
    View {
        ctrl: (
            *ctrl,
            *sink_done_q,
            *evt,
            *finished,
            *start_at,
            *rtl_retire,
            *refused_any,
        ),
        xb: *xb,
        zb: *zb,
        sched,
        src,
        sink: (*sink_cs, sink_ag.valid, sink_addr_fifo.len, store_fifo.len),
        top: *top,
        top_z: *top_z,
        mux: (mux_key(yz_mux), mux_key(ld_mux)),
        port: (*resp, *port_refused, *quiet),
    }
}

/// FNV-1a over words (for the [`View`] digest; deterministic).
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_isize(&mut self, v: isize) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x0100_0000_01b3);
    }
}

/// What the replay needs of the model at a boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Digest {
    key: u64,
    view: View,
    /// Progress registers (`progress!`), round-robin counters (Y/Z, X/W/YZ).
    v: [u32; NP],
    rr: [u32; 2],
    /// Per stream, the address generator's output (`stream_meta`).
    meta: [Meta; 4],
    /// Entries of the metadata FIFOs in queue order (`meta_fifos_ref` of streams 0 to 3).
    fifos: [[Meta; 4]; 8],
    t: u64,
}

/// A digest of some control registers (equal [`View`]s give equal keys).
fn key_of(m: &Model) -> u64 {
    use std::hash::Hasher;
    let (s, xb, zb) = (&m.sched, &m.xb, &m.zb);
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.write_u32(
        s.state as u32
            | (s.x_shift_cnt << 4)
            | (s.waits_cnt << 12)
            | (s.z_wait_cnt << 20)
            | (u32::from(s.x_reload) << 28)
            | (u32::from(s.y_push_en) << 29)
            | (u32::from(s.z_avail_en) << 30),
    );
    h.write_u32(s.z_avail_cnt | (s.y_push_cnt << 8) | (s.z_width << 16) | (s.z_height << 24));
    h.write_u32(xb.state as u32 | (xb.pad_r_addr << 4) | (xb.w_index << 12) | (xb.h_index_r << 20));
    h.write_u32(xb.pad_read_cnt | (xb.buf_write_cnt << 8) | (u32::from(xb.refilling) << 16));
    h.write_u32(
        zb.state as u32 | (zb.fill_shift << 4) | (zb.store_shift << 12) | (zb.d_index << 20),
    );
    h.write_u32(zb.w_index);
    for (i, sr) in m.src.iter().enumerate() {
        h.write_u32(
            sr.cs as u32
                | ((sr.addr_fifo.len as u32) << 4)
                | ((sr.req_fifo.len as u32) << 8)
                | ((sr.resp_len as u32) << 12)
                | (u32::from(m.top[i].len) << 16),
        );
    }
    h.write_u32(
        m.sink_cs as u32
            | ((m.sink_addr_fifo.len as u32) << 4)
            | ((m.store_fifo.len as u32) << 8)
            | ((m.top_z.len as u32) << 12)
            | (u32::from(m.ld_mux.any_req_q) << 16)
            | (u32::from(m.ld_mux.rr_en_q) << 17),
    );
    h.write_u32(m.quiet);
    h.finish()
}

/// Fill `d` with the digest of `m` (in place: a digest is large).
fn digest(m: &Model, d: &mut Digest) {
    d.key = key_of(m);
    d.view = view(m);
    d.v = progress!(m, &).map(|r| *r);
    d.rr = [m.yz_mux.rr_counter, m.ld_mux.rr_counter];
    d.meta = std::array::from_fn(|s| stream_meta(m, s));
    for s in 0..4 {
        for (k, f) in meta_fifos_ref(m, s).into_iter().enumerate() {
            d.fifos[2 * s + k] = f.buf;
        }
    }
    d.t = m.t;
}

/// A digest buffer (filled by [`digest`] or [`moved_digest`]).
fn new_digest(m: &Model) -> Box<Digest> {
    Box::new(Digest {
        key: 0,
        view: view(m),
        v: [0; NP],
        rr: [0; 2],
        meta: [Meta::default(); 4],
        fifos: [[Meta::default(); 4]; 8],
        t: 0,
    })
}

/// The lengths of the metadata FIFOs of a digest (the order of [`Digest::fifos`]).
fn fifo_lens(v: &View) -> [usize; 8] {
    let [x, w, y] = &v.src;
    [x.5, x.6, w.5, w.6, y.5, y.6, v.sink.2, v.sink.3]
}

/// Into `d`, the digest of the model at the end of a replay of template `z` (its digest at its
/// end) moved by `pl`, without reading the model: that model is the template's end with the
/// progress registers, the round-robin counters, the queued metadata and the cycle moved
/// ([`apply`]); its control registers, hence its key and view, are the template's end's. A
/// generator output is a linear function of progress registers (`meta_of`, wrapping), so it
/// moves by the stream's move like the queued entries (condition 5 of the module docs). The
/// model is canonical ([`canon`]: the template's end was, and [`apply`] moves entries in
/// place).
fn moved_digest(z: &Digest, pl: &Plan, d: &mut Digest) {
    *d = *z;
    for (v, dv) in d.v.iter_mut().zip(pl.d) {
        *v = v.wrapping_add(dv);
    }
    d.rr = [(z.rr[0] + pl.rr[0]) % 2, (z.rr[1] + pl.rr[1]) % 3];
    for (s, ms) in pl.meta.iter().enumerate() {
        d.meta[s] = meta_add(z.meta[s], *ms);
    }
    for (k, len) in fifo_lens(&z.view).into_iter().enumerate() {
        let ms = pl.meta[k / 2];
        for e in &mut d.fifos[k][..len] {
            *e = meta_add(*e, ms);
        }
    }
    d.t = z.t.wrapping_add(pl.dt);
}

/// A recorded period: what the replay needs of the model at its start, the progress registers
/// and the model at its end (canonical, [`canon`]), the outputs of its cycles and the registers
/// set to a constant during it.
#[derive(Clone, Debug)]
struct Template {
    /// `a.key`, kept here: the search at a boundary compares it for every template.
    key: u64,
    a: Box<Digest>,
    end: Box<Model>,
    /// The digest of `end` (for [`moved_digest`]).
    z: Box<Digest>,
    outs: Vec<Rec>,
    /// The largest `quiet` of `outs` (for [`Active::may_end`], set at every replay start).
    max_quiet: u32,
    resets: u64,
    /// The templates replayed after this one, most recently first ([`NO_TEMPLATE`]: none; tried
    /// first; only hints: [`plan`] decides).
    next: [usize; NEXTS],
    /// This template's number among all recorded (a slot is reused: the pair names one
    /// template).
    serial: u64,
    /// Templates (slot, serial) whose start's control registers ([`Digest::view`]) were found
    /// equal to this one's end's, most recently first ([`NO_TEMPLATE`]: none): the end of a
    /// replay of this template has this end's view ([`moved_digest`]), so [`plan`] need not
    /// compare it again for them (templates do not change once recorded).
    views: [(usize, u64); NEXTS],
    /// Templates (slot, serial) among [`Template::next`] and whether [`fixed_fit`] holds from
    /// this one's end to their start, most recently first ([`NO_TEMPLATE`]: none): it holds
    /// from this end moved as a whole, i.e. from the end of every replay of this template, so
    /// [`super::Schedule::chain`] need not make the digest there (templates do not change once
    /// recorded).
    fits: [(usize, u64, bool); NEXTS],
    /// The registers [`plan`] requires unmoved from this template ([`ranges`]), and the digest of
    /// their values with the key ([`pin_sig`]): an index, [`plan`] decides.
    pin: u64,
    sig: u64,
    /// Per progress register, the values a model may have to replay this template
    /// ([`ranges`]).
    lo: [u32; NP],
    hi: [u32; NP],
}

/// Comparisons a period does not make, so that condition 3 need not check them (bits of
/// `progress!` indices, per test of [`specs`]), from the template's own registers `a` -> `a2`
/// and `resets`:
/// - an address generator compares `c0` and `c1` only when it steps, which `overall` counts:
///   if it did not step in the template, it does not in a replay either (same control
///   registers, and `overall` in the same class: its own test is checked);
/// - it compares `c1 < d1_len` only when `c0` has reached `d0_len`: not if `c0` stayed below
///   it without being set to 1 (a replay keeps `c0` below too: same value, or moved and its own
///   `< d0_len` test checked);
/// - `z_first_load` (`y_cols_iter == 0 && y_rows_iter == 0`) is the only reader of either
///   `== 0`: `y_cols_iter == 0` is not read if `y_rows_iter` stayed above 0 without wrapping (a
///   replay too: same value, or moved and its own `== 0` test checked, which is why then
///   `y_rows_iter == 0` stays checked); otherwise `y_rows_iter == 0` is not read if `y_cols_iter`
///   stayed above 0 without wrapping (the same argument);
/// - `y_cols_iter == w_cols_iter - 1` is read only with a W column leftover (`y_height`) or in a
///   cycle with `y_cols_iter_en` (`y_rows_iter_en`, and the update, which steps or wraps it):
///   not without a leftover if `y_cols_iter` neither stepped nor wrapped (a replay takes the
///   same `y_cols_iter_en` in the same cycles: it is computed from control registers and read
///   comparisons); the same for `y_rows_iter == w_rows_iter - 1` (`y_width`, a W row
///   leftover; the update with `y_rows_iter_en`);
/// - the same holds of the scheduler's other counters, whose comparisons are read only in
///   cycles with their enable (`x_w_iters` with `x_w_iters_en`, `w_cols_iter` with
///   `w_cols_iter_en`, `x_rows_iter` with `x_rows_iter_en`, `w_mat_iters` with
///   `w_mat_iters_en`: the next counter's enable, the done flag, and the update), except that
///   the update is skipped once the X (W) side is done: not read if the counter did not change
///   and the done flag is still clear at the period's end (it is never cleared in a period, so it
///   was clear throughout; a replay has the same flag); `x_rows_iter == limit - 1` is read every
///   cycle with an X row leftover (`x_width`). No test can catch the loss of that done-flag
///   guard, and none tries: a done flag is set once per schedule and cleared only by the reset at
///   FINISHED, after which nothing is replayed. So a period whose flag goes up during it is never
///   replayed (its replay would have to set it a second time), and where the flag is up at a
///   period's start it is up at the replay's start too (a control register), with the X (W)
///   counters frozen at the same values since: `d = 0`, nothing moves. The guard keeps the rule
///   true on its own terms; it changes no replay of a job (checked: 30,000 random cases of
///   `replay_matches_full_evaluation` pass without it);
/// - the memory scheduler's `w_iters == w_cols_iter - 1` is read only at the last X chunk of a
///   tile (`last_col`), where `w_iters` steps or wraps: not read if it did not change;
///   `x_rows_iters == x_rows_iter - 1` only there (where it steps or wraps) or with an X row
///   leftover (`tot_len` of X).
///
/// `end`: the scheduler at the template's end (its done flags); `zfl_read`: some cycle of the
/// period read `z_first_load` (`Comb::z_first_load_read`: the Z buffer Loaded at the last Y
/// push). If none did, neither `== 0` is read (a replay reads it in the same cycles: the
/// condition is made of control registers and read comparisons).
fn unread_tests(
    a: &[u32; NP],
    a2: &[u32; NP],
    resets: u64,
    specs: &[Spec; NP],
    p: &Params,
    end: &Sched,
    zfl_read: bool,
) -> [u64; 2] {
    let mut u = [0u64; 2];
    let stepped_only = |i: usize| resets & bit(i as u32) == 0 && a[i] <= a2[i];
    for at in &AG_AT[1..] {
        let (c0, overall) = (*at as usize + 3, *at as usize + 5);
        if a[overall] == a2[overall] && resets & bit(overall as u32) == 0 {
            u[0] |= bit(at + 3) | bit(at + 4);
        } else if let Test::Lt(d0_len) = specs[c0][0] {
            if stepped_only(c0) && a2[c0] < d0_len {
                u[0] |= bit(at + 4);
            }
        }
    }
    // y_cols_iter (6), y_rows_iter (7): second tests `== 0`, first tests `== limit - 1`.
    if !zfl_read {
        u[1] |= bit(6) | bit(7);
    } else if stepped_only(7) && a[7] > 0 {
        u[1] |= bit(6);
    } else if stepped_only(6) && a[6] > 0 {
        u[1] |= bit(7);
    }
    let still = |i: usize| resets & bit(i as u32) == 0 && a[i] == a2[i];
    if p.w_cols_lftovr == 0 && still(6) {
        u[0] |= bit(6);
    }
    if p.w_rows_lftovr == 0 && still(7) {
        u[0] |= bit(7);
    }
    // x_w_iters (1), x_rows_iter (2, both tests), w_cols_iter (4), w_mat_iters (5, both).
    if !end.x_done {
        if still(1) {
            u[0] |= bit(1);
        }
        if p.x_rows_lftovr == 0 && still(2) {
            u[0] |= bit(2);
            u[1] |= bit(2);
        }
    }
    if !end.w_done {
        if still(4) {
            u[0] |= bit(4);
        }
        if still(5) {
            u[0] |= bit(5);
            u[1] |= bit(5);
        }
    }
    // The memory scheduler's w_iters (10) and x_rows_iters (11).
    if still(10) {
        u[0] |= bit(10);
    }
    if p.x_rows_lftovr == 0 && still(11) {
        u[0] |= bit(11);
    }
    u
}

/// Condition 3 per template, once: for each progress register, the values `[lo, hi]` the model's
/// may have for the template to be replayed from it (moved by `d = b - a`). A register the
/// template set to a constant, that decreased, or whose comparison changes over the template's
/// window `[a, a2]` may not move (`lo = hi = a`). Otherwise the model's window `[b, b + (a2 - a)]`
/// must avoid every `== c` and stay on the template's side of every `< c` (for `== c` too,
/// which loses nothing: the registers never go past their limits, nor below 0). Comparisons in
/// `unread` are not made ([`unread_tests`]). Returns `(lo, hi)` and the bits of the registers
/// that may not move (the pins).
fn ranges(
    a: &[u32; NP],
    a2: &[u32; NP],
    resets: u64,
    specs: &[Spec; NP],
    unread: [u64; 2],
) -> ([u32; NP], [u32; NP], u64) {
    let (mut los, mut his, mut pin) = ([0u32; NP], [0u32; NP], 0u64);
    for i in 0..NP {
        let (alo, ahi) = (a[i], a2[i]);
        let mut pinned = resets & bit(i as u32) != 0 || ahi < alo;
        let inc = ahi.wrapping_sub(alo);
        let (mut lo, mut hi) = (0, u32::MAX.wrapping_sub(inc));
        for (k, t) in specs[i].into_iter().enumerate() {
            if pinned || unread[k] & bit(i as u32) != 0 {
                continue;
            }
            match t {
                Test::None => {}
                Test::Eq(c) | Test::Lt(c) if ahi < c => hi = hi.min(c - 1 - inc),
                Test::Eq(c) if c < alo => lo = lo.max(c + 1),
                Test::Lt(c) if c <= alo => lo = lo.max(c),
                _ => pinned = true,
            }
        }
        if pinned {
            (lo, hi) = (alo, alo);
            pin |= bit(i as u32);
        }
        (los[i], his[i]) = (lo, hi);
    }
    (los, his, pin)
}

/// Digest of the key and the values of the registers in `pin`.
fn pin_sig(key: u64, pin: u64, v: &[u32; NP], rr: [u32; 2]) -> u64 {
    use std::hash::Hasher;
    let mut h = Fnv(key ^ pin);
    let mut bits = pin & (bit(NP as u32) - 1);
    while bits != 0 {
        let i = bits.trailing_zeros();
        h.write_u32(v[i as usize]);
        bits &= bits - 1;
    }
    if pin & RR_YZ != 0 {
        h.write_u32(rr[0]);
    }
    if pin & RR_LD != 0 {
        h.write_u32(rr[1]);
    }
    h.finish()
}

/// Conditions 2 to 5 of the module docs for replaying the period of `tp` from `b`: the model at
/// the end of the replayed period (`tp.end` moved as `b` is from the template's start) and, per
/// stream, the move of the metadata.
/// `view_equal`: `tp.a.view == b.view` is known (`Template::views`).
fn plan(tp: &Template, b: &Digest, view_equal: bool) -> Option<Plan> {
    // The key first, the control registers last (the costliest check, and the key is their
    // digest: it rarely fails once the key matched).
    if tp.a.key != b.key {
        return None;
    }
    let pl = moved_plan(tp, &b.v, b.rr, &b.meta, b.t)?;
    fixed_fit(&tp.a, b, view_equal).then_some(pl)
}

/// Conditions 3 and 4 for replaying `tp` from a model with progress registers `v`, round-robin
/// counters `rr`, generator outputs `meta` at cycle `t`, and the plan if they hold.
fn moved_plan(
    tp: &Template,
    v: &[u32; NP],
    rr: [u32; 2],
    meta: &[Meta; 4],
    t: u64,
) -> Option<Plan> {
    let a = &tp.a;
    // Condition 3 ([`ranges`]); without early exits (vectorised).
    let out: u32 = (0..NP)
        .map(|i| u32::from(v[i] < tp.lo[i]) | u32::from(v[i] > tp.hi[i]))
        .sum();
    if out != 0 {
        return None;
    }
    let d: [u32; NP] = std::array::from_fn(|i| v[i].wrapping_sub(a.v[i]));
    let rr_yz = (rr[0] + 2 - a.rr[0]) % 2;
    let rr_ld = (rr[1] + 3 - a.rr[1]) % 3;
    if (rr_yz != 0 && tp.resets & RR_YZ != 0) || (rr_ld != 0 && tp.resets & RR_LD != 0) {
        return None;
    }
    Some(Plan {
        d,
        rr: [rr_yz, rr_ld],
        meta: std::array::from_fn(|s| meta_sub(meta[s], a.meta[s])),
        dt: t.wrapping_sub(a.t),
    })
}

/// Conditions 2 and 5 (and the key) for replaying from `b` the template that starts in `a`.
/// They do not depend on where `b`'s progress registers are: with `b` moved as a whole
/// ([`moved_digest`]: its control registers unchanged, a stream's queued entries and generator
/// output moved by the same amount) they hold iff they hold of `b` (condition 5 compares
/// differences of entries with the difference of the outputs).
fn fixed_fit(a: &Digest, b: &Digest, view_equal: bool) -> bool {
    if a.key != b.key {
        return false;
    }
    debug_assert!(!view_equal || a.view == b.view, "known equal views");
    if !view_equal && a.view != b.view {
        return false;
    }
    for s in 0..4 {
        let ms = meta_sub(b.meta[s], a.meta[s]);
        let lens = [b.view.src.get(s).map_or(b.view.sink.2, |x| x.5), {
            b.view.src.get(s).map_or(b.view.sink.3, |x| x.6)
        }];
        for (k, &len) in lens.iter().enumerate() {
            let (fa, fb) = (&a.fifos[2 * s + k], &b.fifos[2 * s + k]);
            if (0..len).any(|i| meta_sub(fb[i], fa[i]) != ms) {
                return false;
            }
        }
    }
    true
}

/// How a replay moves a template (`d` of the module docs): progress registers, round-robin
/// counters, metadata per stream, cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    d: [u32; NP],
    rr: [u32; 2],
    meta: [Meta; 4],
    dt: u64,
}

/// `n` (a copy of the template's end) moved by `pl`: the model at the end of the replayed period.
fn apply(n: &mut Model, pl: &Plan) {
    for (r, d) in progress!(&mut *n, &mut).into_iter().zip(pl.d) {
        *r = r.wrapping_add(d);
    }
    n.yz_mux.rr_counter = (n.yz_mux.rr_counter + pl.rr[0]) % 2;
    n.ld_mux.rr_counter = (n.ld_mux.rr_counter + pl.rr[1]) % 3;
    for (s, ms) in pl.meta.iter().enumerate() {
        for f in meta_fifos(n, s) {
            for i in 0..f.len {
                f.buf[i] = meta_add(f.buf[i], *ms);
            }
        }
    }
    n.t = n.t.wrapping_add(pl.dt);
    n.evaluated = true;
    n.x_started = true;
    n.resets = 0;
    n.c = Comb::default();
}

/// What a cycle showed (besides the model's outputs, the deadlock counter).
#[derive(Clone, Copy, Debug)]
struct Rec {
    out: CycleOut,
    quiet: u32,
    /// `out` in brief ([`Ahead::code`]).
    code: u8,
    /// Stalled cycles per cause (W, X, Y, other) in the period up to this one, this one
    /// included ([`Ahead::stalls`]).
    stalls: [u16; 4],
}

impl Rec {
    /// The record of `out`, which follows `prev` in its period (None: the first).
    fn new(out: CycleOut, quiet: u32, prev: Option<&Rec>) -> Self {
        let req = match out.req {
            None => 0,
            Some(a) if a.write => Ahead::WRITE,
            Some(_) => Ahead::READ,
        };
        let stall = Ahead::stall_code(out.stall);
        // (The first of a period follows what came before it: unknown here.)
        let changed = prev.is_none_or(|p| p.out.stall != out.stall);
        let mut stalls = prev.map_or([0; 4], |p| p.stalls);
        if stall != 0 {
            // (A period has at most `MAX_PERIOD` cycles: no overflow.)
            stalls[stall as usize - 1] += 1;
        }
        Rec {
            out,
            quiet,
            code: req | stall | if changed { Ahead::CHANGED } else { 0 },
            stalls,
        }
    }
}

/// A period being replayed.
#[derive(Clone, Debug)]
pub(super) struct Active {
    /// Cycle of the period's first cycle.
    pub(super) t0: u64,
    /// Outputs returned so far.
    pub(super) pos: usize,
    /// The template replayed (index in `Replay::tmpls`).
    tmpl: usize,
    /// How the template is moved (`meta`: per stream X, W, Y, Z, the move of its metadata).
    plan: Plan,
    /// [`super::Schedule::may_end_next`] throughout the period (the model, at the period's
    /// end, does not change while it is replayed), from the largest `quiet` recorded in the
    /// template, which bounds every replayed one.
    pub(super) may_end: bool,
}

/// Successors remembered per template ([`Template::next`]).
const NEXTS: usize = 4;
const NO_TEMPLATE: usize = usize::MAX;

/// Templates with the right key tried at a boundary (bounds the cost of a boundary where none
/// fits).
const MAX_TRIES: u32 = 8;

/// Templates kept (the oldest is replaced).
const MAX_TEMPLATES: usize = 64;

/// Replay bookkeeping of a [`super::Schedule`].
#[derive(Clone, Debug)]
pub(super) struct Replay {
    pub(super) enabled: bool,
    pub(super) replayed: u64,
    pub(super) active: Option<Active>,
    /// The schedule's model is not made (`stale`): while a period is replayed, and at the
    /// boundary where it ends until a next replay starts, the model is the template's end moved
    /// by the plan (`Active`, then `last` and `ended`; [`super::Schedule::materialize`]). Replays
    /// that follow each other ([`super::Schedule::chain`]) make no model.
    stale: bool,
    /// While a period is replayed, the model at its start (for a refusal,
    /// [`super::Schedule::fall_back`]): the schedule's model (not evaluated yet) if None, else that
    /// template's end moved by that plan (a chained replay). And the digest of the model at the
    /// last boundary.
    base_moved: Option<(usize, Plan)>,
    base_digest: Option<Box<Digest>>,
    /// The digest of the model at the current boundary (a buffer).
    dg: Option<Box<Digest>>,
    /// The job's comparisons ([`specs`]), once known.
    specs: Option<Box<[Spec; NP]>>,
    /// Outputs since the last boundary, and whether they can make a template (every request
    /// granted, no event, not too long, not replayed).
    cur: Vec<Rec>,
    /// Some cycle of `cur` read `z_first_load` (`Comb::z_first_load_read`).
    cur_zfl: bool,
    cur_ok: bool,
    tmpls: Vec<Template>,
    /// Template slots, most recently used (or recorded) first.
    mru: Vec<usize>,
    /// Templates recorded so far ([`Template::serial`]).
    serials: u64,
    /// The template whose replay ended at this boundary, and how it was moved.
    last: Option<usize>,
    ended: Option<Plan>,
}

impl Replay {
    pub(super) fn new() -> Self {
        Replay {
            enabled: true,
            replayed: 0,
            active: None,
            stale: false,
            base_moved: None,
            base_digest: None,
            dg: None,
            specs: None,
            cur: Vec::new(),
            cur_zfl: false,
            cur_ok: false,
            tmpls: Vec::new(),
            mru: Vec::new(),
            serials: 0,
            last: None,
            ended: None,
        }
    }

    fn rec(&self, a: &Active, i: usize) -> &Rec {
        &self.tmpls[a.tmpl].outs[i]
    }

    pub(super) fn last_quiet(&self, a: &Active) -> u32 {
        self.rec(a, a.pos - 1).quiet
    }

    pub(super) fn last_stall(&self, a: &Active) -> Option<Stall> {
        self.rec(a, a.pos - 1).out.stall
    }
}

fn stream_index(s: Stream) -> usize {
    match s {
        Stream::X => 0,
        Stream::W => 1,
        Stream::Y => 2,
        Stream::Z => 3,
    }
}

impl super::Schedule {
    /// [`super::Schedule::cycle`] with the replay on.
    pub(super) fn replay_cycle(&mut self, prev_granted: bool) -> CycleOut {
        let Some(a) = &self.rp.active else {
            return self.full_cycle(prev_granted);
        };
        let j = a.pos;
        let len = self.rp.tmpls[a.tmpl].outs.len();
        if self.rp.rec(a, j - 1).out.req.is_some() && !prev_granted {
            return self.fall_back(j);
        }
        if j < len {
            return self.replay_out();
        }
        // End of the period: the model is at the next boundary.
        // (The model is already the one at the next boundary.)
        let a = self.rp.active.take().expect("active");
        self.rp.last = Some(a.tmpl);
        self.rp.ended = Some(a.plan);
        self.rp.replayed += j as u64;
        self.rp.cur_ok = false;
        self.after_commit()
    }

    /// The next output of a replayed period when nothing else is to be done (the previous
    /// request, if any, granted; not the period's end): the common case, inline.
    #[inline]
    pub(super) fn replay_fast(&mut self, prev_granted: bool) -> Option<CycleOut> {
        let a = self.rp.active.as_mut()?;
        let outs = &self.rp.tmpls[a.tmpl].outs;
        let j = a.pos;
        if j >= outs.len() || (!prev_granted && outs[j - 1].out.req.is_some()) {
            return None;
        }
        a.pos = j + 1;
        Some(moved(outs[j].out, &a.plan.meta))
    }

    /// See [`super::Schedule::replay_ahead`].
    pub(super) fn ahead(&self, prev_granted: bool) -> Option<Ahead<'_>> {
        let a = self.rp.active.as_ref()?;
        let outs = &self.rp.tmpls[a.tmpl].outs;
        let j = a.pos;
        if j >= outs.len() || (!prev_granted && outs[j - 1].out.req.is_some()) {
            return None;
        }
        Some(Ahead {
            outs: &outs[j..],
            shift: &a.plan.meta,
            stalls_before: if j > 0 { outs[j - 1].stalls } else { [0; 4] },
        })
    }

    /// See [`super::Schedule::replay_skip`].
    pub(super) fn skip(&mut self, n: usize) {
        let a = self.rp.active.as_mut().expect("a replayed period");
        assert!(
            a.pos + n < self.rp.tmpls[a.tmpl].outs.len() + 1,
            "within the period"
        );
        a.pos += n;
    }

    /// The next output of the template, moved.
    fn replay_out(&mut self) -> CycleOut {
        let a = self.rp.active.as_mut().expect("active");
        let out = self.rp.tmpls[a.tmpl].outs[a.pos].out;
        a.pos += 1;
        moved(out, &a.plan.meta)
    }
}

/// The outputs of a replayed period still to come ([`super::Schedule::replay_ahead`]).
pub struct Ahead<'a> {
    outs: &'a [Rec],
    shift: &'a [Meta; 4],
    /// [`Rec::stalls`] before the first of `outs`.
    stalls_before: [u16; 4],
}

impl Ahead<'_> {
    /// How many outputs are left in the period (at least 1).
    #[inline]
    pub fn len(&self) -> usize {
        self.outs.len()
    }

    /// Never: an [`Ahead`] holds at least one output.
    pub fn is_empty(&self) -> bool {
        self.outs.is_empty()
    }

    /// The `k`-th output from now: what the `k + 1`-th call of [`super::Schedule::cycle`] would
    /// return, every request before it granted.
    #[inline]
    pub fn get(&self, k: usize) -> CycleOut {
        moved(self.outs[k].out, self.shift)
    }

    /// [`Ahead::get`]'s stall cause alone.
    #[inline]
    pub fn stall(&self, k: usize) -> Option<Stall> {
        self.outs[k].out.stall
    }

    /// [`Ahead::get`]'s request alone.
    #[inline]
    pub fn req(&self, k: usize) -> Option<WideAccess> {
        self.outs[k].out.req.map(|r| moved_req(r, self.shift))
    }

    /// [`Ahead::code`]: the output has a load request.
    pub const READ: u8 = 8;
    /// [`Ahead::code`]: the output has a store request.
    pub const WRITE: u8 = 16;
    /// [`Ahead::code`]: the bits of the stall cause ([`Ahead::stall_code`]).
    pub const STALL: u8 = 7;
    /// [`Ahead::code`]: the stall cause may differ from the previous output's (always set on
    /// the first output of a period); without it, it is the previous output's.
    pub const CHANGED: u8 = 32;

    /// The stalled cycles per cause (W missing, X not full, Y missing, other) among the
    /// outputs `0..k`.
    #[inline]
    pub fn stalls(&self, k: usize) -> [u64; 4] {
        let end = if k > 0 {
            self.outs[k - 1].stalls
        } else {
            self.stalls_before
        };
        std::array::from_fn(|i| u64::from(end[i] - self.stalls_before[i]))
    }

    /// [`Ahead::get`] in brief: [`Ahead::READ`] or [`Ahead::WRITE`] if it has a request, its
    /// stall cause's [`Ahead::stall_code`], and [`Ahead::CHANGED`].
    #[inline]
    pub fn code(&self, k: usize) -> u8 {
        self.outs[k].code
    }

    /// A stall cause as a number: 0 none, 1 W missing, 2 X not full, 3 Y missing, 4 other.
    #[inline]
    pub fn stall_code(s: Option<Stall>) -> u8 {
        match s {
            None => 0,
            Some(Stall::WMissing) => 1,
            Some(Stall::XNotFull) => 2,
            Some(Stall::YMissing) => 3,
            Some(Stall::Other(_)) => 4,
        }
    }

    /// The word address of [`Ahead::req`] (which must be `Some`).
    #[inline]
    pub fn addr(&self, k: usize) -> u32 {
        let r = self.outs[k].out.req.expect("a request");
        let d = self.shift[stream_index(r.stream)];
        r.byte_addr.wrapping_add(d.addr) & !3
    }
}

/// A template's output with its request moved by `shift` (per stream).
#[inline]
fn moved(mut out: CycleOut, shift: &[Meta; 4]) -> CycleOut {
    out.req = out.req.map(|r| moved_req(r, shift));
    out
}

/// A template's request moved by `shift` (per stream).
#[inline]
fn moved_req(r: WideAccess, shift: &[Meta; 4]) -> WideAccess {
    let d = shift[stream_index(r.stream)];
    let byte_addr = r.byte_addr.wrapping_add(d.addr);
    WideAccess {
        addr: byte_addr & !3,
        byte_addr,
        write: r.write,
        stream: r.stream,
        tile_m: r.tile_m.wrapping_add(d.tile_m),
        tile_k: r.tile_k.wrapping_add(d.tile_k),
        row: r.row.wrapping_add(d.row),
        chunk: r.chunk.wrapping_add(d.chunk),
        bytes: r.bytes.wrapping_add(d.bytes),
    }
}

impl super::Schedule {
    /// At a boundary, start replaying template `i` as `pl` moves it (`prev`: the template of the
    /// period that ended here, whose successors it joins). `base`: the model at the boundary is
    /// template `t`'s end moved by that plan (a replay chained to the one that ended here, the
    /// schedule's model not made), else it is the schedule's model. No model is made for the
    /// period's end ([`Replay::stale`]).
    fn start(&mut self, i: usize, pl: Plan, prev: Option<usize>, base: Option<(usize, Plan)>) {
        let rp = &mut self.rp;
        let t0 = match &base {
            // (`apply` moves the cycle so.)
            Some((t, bp)) => rp.tmpls[*t].end.t.wrapping_add(bp.dt),
            None => {
                // The model at the period's start, kept for a refusal (`fall_back`).
                self.m.evaluated = false;
                self.m.t
            }
        };
        rp.base_moved = base;
        rp.stale = true;
        // The model stays as it is at the period's end until the period ends or falls back (no
        // active period then): `may_end_next` is decided once for the period (from the
        // template's end: its control registers are the moved model's, `apply`).
        let end = &rp.tmpls[i].end;
        rp.active = Some(Active {
            t0,
            pos: 0,
            tmpl: i,
            plan: pl,
            may_end: end.may_end_next(rp.tmpls[i].max_quiet),
        });
        if let Some(p) = prev {
            let next = &mut rp.tmpls[p].next;
            let at = next.iter().position(|&x| x == i).unwrap_or(NEXTS - 1);
            next.copy_within(0..at, 1);
            next[0] = i;
        }
        // (To the front: the same order as removing it and inserting it first, in place.)
        let at = rp.mru.iter().position(|&x| x == i).expect("listed");
        rp.mru[..=at].rotate_right(1);
    }

    /// Make the schedule's model: template `t`'s end moved by `pl` ([`apply`]).
    fn materialize(&mut self, t: usize, pl: &Plan) {
        *self.m = *self.rp.tmpls[t].end;
        apply(&mut self.m, pl);
        self.rp.stale = false;
    }

    /// At the end of a replay of template `t` moved by `pl`, its successors
    /// ([`Template::next`], in order) tried as [`super::Schedule::boundary`] tries them, without the
    /// model's digest: that is `t`'s end's moved by `pl` ([`moved_digest`]), of which
    /// [`fixed_fit`] does not depend on the move (kept per pair, [`Template::fits`]) and
    /// [`moved_plan`] needs only the progress registers, the round-robin counters, the
    /// generator outputs and the cycle, made here. Returns the first that fits with its plan,
    /// and how many were tried (those whose key matched: they count for [`MAX_TRIES`]).
    fn chain(&mut self, t: usize, pl: &Plan) -> (Option<(usize, Plan)>, u32) {
        let rp = &mut self.rp;
        let z = &rp.tmpls[t].z;
        let v: [u32; NP] = std::array::from_fn(|i| z.v[i].wrapping_add(pl.d[i]));
        let rr = [(z.rr[0] + pl.rr[0]) % 2, (z.rr[1] + pl.rr[1]) % 3];
        let meta: [Meta; 4] = std::array::from_fn(|s| meta_add(z.meta[s], pl.meta[s]));
        let tt = z.t.wrapping_add(pl.dt);
        let mut tried = 0;
        for k in 0..NEXTS {
            let i = rp.tmpls[t].next[k];
            if i == NO_TEMPLATE || rp.tmpls[i].key != rp.tmpls[t].z.key {
                continue;
            }
            tried += 1;
            let key = (i, rp.tmpls[i].serial);
            let fits = &rp.tmpls[t].fits;
            let fit = match fits.iter().find(|f| (f.0, f.1) == key) {
                Some(f) => f.2,
                None => {
                    let fit = fixed_fit(&rp.tmpls[i].a, &rp.tmpls[t].z, false);
                    let fits = &mut rp.tmpls[t].fits;
                    fits.copy_within(0..NEXTS - 1, 1);
                    fits[0] = (key.0, key.1, fit);
                    fit
                }
            };
            let found = if fit {
                moved_plan(&rp.tmpls[i], &v, rr, &meta, tt)
            } else {
                None
            };
            if cfg!(debug_assertions) {
                let mut dg = new_digest(&self.m);
                moved_digest(&rp.tmpls[t].z, pl, &mut dg);
                let want = plan(&rp.tmpls[i], &dg, false);
                assert!(found == want, "chained plan is the digest's");
            }
            if let Some(npl) = found {
                return (Some((i, npl)), tried);
            }
        }
        (None, tried)
    }

    /// The request of replayed cycle `j - 1` was refused: rebuild the full model's state from
    /// the boundary and let it take over.
    fn fall_back(&mut self, j: usize) -> CycleOut {
        self.rp.active = None;
        self.rp.ended = None;
        // The model at the boundary (see `start`): made if it was not.
        if let Some((t, bp)) = self.rp.base_moved.take() {
            self.materialize(t, &bp);
            // (As the boundary left it: the X start taken, not evaluated.)
            self.m.x_started = false;
            self.m.evaluated = false;
        }
        self.rp.stale = false;
        if self.rp.base_digest.is_none() {
            // A replay chained to the previous one ([`Schedule::chain`]) started without the
            // digest of its start: made here, from the model there (canonical: the end of a
            // replay), in case the period evaluated now is kept as a template.
            let mut d = self.rp.dg.take().unwrap_or_else(|| new_digest(&self.m));
            digest(&self.m, &mut d);
            self.rp.base_digest = Some(d);
        }
        self.rp.cur.clear();
        self.rp.cur_zfl = false;
        self.rp.cur_ok = true;
        for _ in 0..j {
            self.full_cycle(true);
        }
        self.full_cycle(false)
    }

    /// One evaluated cycle.
    fn full_cycle(&mut self, prev_granted: bool) -> CycleOut {
        if self.m.evaluated && self.m.c.port.is_some() && !prev_granted {
            self.rp.cur_ok = false;
        }
        self.m.commit_phase(prev_granted);
        self.after_commit()
    }

    /// After the register update: a boundary may start a replay; otherwise evaluate.
    fn after_commit(&mut self) -> CycleOut {
        // (A replayed period ends at a boundary: the X start of its last cycle.)
        if self.rp.stale || self.m.x_started {
            if let Some(out) = self.boundary() {
                return out;
            }
        }
        let out = self.m.eval_phase();
        let rp = &mut self.rp;
        if out.done || rp.cur.len() >= MAX_PERIOD {
            rp.cur_ok = false;
        }
        if rp.cur_ok {
            let rec = Rec::new(out, self.m.quiet, rp.cur.last());
            rp.cur.push(rec);
            rp.cur_zfl |= self.m.c.z_first_load_read;
        }
        out
    }

    /// A period boundary: keep the period that ended as a template, and replay the coming one
    /// if a template fits.
    // Once per period: kept out of the per-cycle path.
    #[inline(never)]
    fn boundary(&mut self) -> Option<CycleOut> {
        // At the end of a replayed period the model is canonical and its digest is the
        // template's end's moved ([`moved_digest`]); otherwise both are made.
        let ended = self.rp.ended.take().zip(self.rp.last);
        debug_assert!(
            self.rp.stale == ended.is_some(),
            "no model only after a replay"
        );
        // Replays that follow each other: the successors first, without the digest and without
        // the model.
        let (mut hinted, mut chained) = (0, false);
        if let Some((pl, t)) = ended {
            // (The control registers of the model: its template's end's.)
            let m = &self.rp.tmpls[t].end;
            let record = self.rp.cur_ok && !self.rp.cur.is_empty();
            if !record && m.ctrl == CtrlState::Computing && !m.finished && !m.evt {
                let (next, tried) = self.chain(t, &pl);
                (hinted, chained) = (tried, true);
                if let Some((i, npl)) = next {
                    let rp = &mut self.rp;
                    rp.last = None;
                    self.start(i, npl, Some(t), Some((t, pl)));
                    let rp = &mut self.rp;
                    // No digest made here ([`Schedule::fall_back`] makes it if needed); the
                    // old base's buffer is kept for the next.
                    if let Some(b) = rp.base_digest.take() {
                        rp.dg.get_or_insert(b);
                    }
                    rp.cur.clear();
                    rp.cur_zfl = false;
                    rp.cur_ok = true;
                    return Some(self.replay_out());
                }
            }
        }
        if let Some((pl, t)) = ended {
            self.materialize(t, &pl);
        }
        self.m.x_started = false;
        let m = &mut self.m;
        let rp = &mut self.rp;
        // The template whose replay ended here: the digest's view is its end's.
        let from = ended.map(|(_, t)| (t, rp.tmpls[t].serial));
        if ended.is_none() {
            canon(m);
        }
        let resets = std::mem::take(&mut m.resets);
        let mut dg = match rp.dg.take() {
            Some(b) => b,
            None => new_digest(m),
        };
        match ended {
            Some((pl, t)) => {
                moved_digest(&rp.tmpls[t].z, &pl, &mut dg);
                if cfg!(debug_assertions) {
                    let mut check = *dg;
                    let mut cm = **m;
                    canon(&mut cm);
                    digest(&cm, &mut check);
                    let canonical = (0..4).all(|s| meta_fifos_ref(&cm, s) == meta_fifos_ref(m, s))
                        && cm.top_z == m.top_z;
                    assert!(canonical, "the model at a replay's end is canonical");
                    assert!(check == *dg, "moved digest");
                }
            }
            None => digest(m, &mut dg),
        }
        let specs = rp.specs.get_or_insert_with(|| Box::new(specs(&m.prm)));
        let mut base_digest = rp.base_digest.take();
        // The template of the period that ended here, if it was evaluated and recorded.
        let mut recorded = None;
        if rp.cur_ok && !rp.cur.is_empty() {
            if let Some(a) = base_digest.take() {
                let unread = unread_tests(&a.v, &dg.v, resets, specs, &m.prm, &m.sched, rp.cur_zfl);
                let (lo, hi, pin) = ranges(&a.v, &dg.v, resets, specs, unread);
                let pin = pin | (resets & (RR_YZ | RR_LD));
                let sig = pin_sig(a.key, pin, &a.v, a.rr);
                let cap = rp.cur.len();
                let max_quiet = rp.cur.iter().map(|r| r.quiet).max().unwrap_or(0);
                let t = Template {
                    key: a.key,
                    a,
                    end: Box::new(**m),
                    z: Box::new(*dg),
                    outs: std::mem::replace(&mut rp.cur, Vec::with_capacity(cap)),
                    max_quiet,
                    resets,
                    next: [NO_TEMPLATE; NEXTS],
                    serial: rp.serials,
                    views: [(NO_TEMPLATE, 0); NEXTS],
                    fits: [(NO_TEMPLATE, 0, false); NEXTS],
                    pin,
                    sig,
                    lo,
                    hi,
                };
                // The least recently used template makes room.
                rp.serials += 1;
                let slot = if rp.tmpls.len() < MAX_TEMPLATES {
                    rp.tmpls.push(t);
                    rp.tmpls.len() - 1
                } else {
                    let slot = rp.mru.pop().expect("templates");
                    rp.tmpls[slot] = t;
                    slot
                };
                rp.mru.insert(0, slot);
                recorded = Some(slot);
            }
        }
        let mut found = None;
        // The template of the period that ended here (replayed, or just recorded).
        let prev = rp.last.take().or(recorded);
        if m.ctrl == CtrlState::Computing && !m.finished && !m.evt {
            // The templates that followed the period's template before, then the most recently
            // used first.
            let hints = prev.map_or([NO_TEMPLATE; NEXTS], |p| rp.tmpls[p].next);
            // (The hints already tried by [`Schedule::chain`] count.)
            let mut tries = MAX_TRIES - hinted;
            // Digests of the model's pinned registers, per pin set met (few; more are computed
            // again).
            let mut sigs = [(0u64, 0u64); 8];
            let mut nsigs = 0;
            for k in 0..NEXTS + rp.mru.len() {
                if k < NEXTS && chained {
                    continue;
                }
                let i = if k < NEXTS {
                    hints[k]
                } else {
                    let i = rp.mru[k - NEXTS];
                    if hints.contains(&i) {
                        continue;
                    }
                    i
                };
                if i == NO_TEMPLATE {
                    continue;
                }
                let tp = &rp.tmpls[i];
                if tp.key != dg.key {
                    continue;
                }
                // (The hints go to `plan` at once: the pinned values are an index for the
                // others.)
                if k >= NEXTS {
                    let sig = match sigs[..nsigs].iter().find(|(p, _)| *p == tp.pin) {
                        Some(&(_, s)) => s,
                        None => {
                            let s = pin_sig(dg.key, tp.pin, &dg.v, dg.rr);
                            if nsigs < sigs.len() {
                                sigs[nsigs] = (tp.pin, s);
                                nsigs += 1;
                            }
                            s
                        }
                    };
                    if sig != tp.sig {
                        continue;
                    }
                }
                if tries == 0 {
                    break;
                }
                tries -= 1;
                // (`from` still names its template if that slot was not reused here.)
                let src = from
                    .filter(|&(t, st)| rp.tmpls[t].serial == st)
                    .map(|(t, _)| t);
                let key = (i, rp.tmpls[i].serial);
                let known = src.is_some_and(|t| rp.tmpls[t].views.contains(&key));
                if let Some(pl) = plan(&rp.tmpls[i], &dg, known) {
                    if let (Some(t), false) = (src, known) {
                        let views = &mut rp.tmpls[t].views;
                        views.copy_within(0..NEXTS - 1, 1);
                        views[0] = key;
                    }
                    found = Some((i, pl));
                    break;
                }
            }
        }
        let started = found.is_some();
        if let Some((i, pl)) = found {
            self.start(i, pl, prev, None);
        }
        let rp = &mut self.rp;
        // The digest becomes the base; the old base's buffer (unless a template took it) is
        // the next one.
        rp.base_digest = Some(dg);
        rp.dg = base_digest;
        rp.cur.clear();
        rp.cur_zfl = false;
        rp.cur_ok = true;
        if started {
            Some(self.replay_out())
        } else {
            None
        }
    }
}
