//! The RedMulE component: the hwpe-ctrl register file, the job queue, and a clocked engine
//! that drives [`crate::schedule::Schedule`] on the wide port of the HCI.
//!
//! ```text
//!  cores / driver --b_transport--> registers (0x10201000) --TRIGGER--> job queue (2 contexts)
//!                                                                        |
//!  interconnect.wide <--req/gnt-- engine (Clocked) <-- Schedule (cycle-exact RTL schedule)
//!  event_unit.events <-- event 12 to the committing core when the job ends
//! ```
//!
//! Timing comes from the schedule model; every access it makes is a real request on the
//! wide port, so a refused grant delays exactly what the RTL's FIFOs let it delay. Data:
//! the Z values of a 12 x 16 tile are computed (bit-exact, `redmule-numerics`) when the
//! tile's first store is issued, from the TCDM contents at that moment (X and W as they were
//! at the first store of the tile's row block: they are read once per row block), and the
//! stores carry them through the port. This equals the RTL's result unless another initiator
//! rewrites X, W or the tile's Y while the job runs (a race the RTL resolves per beat).
//!
//! Run ahead: the cycles before the tick's horizon (`TickCtx::horizon`: nothing else can act
//! before it, e.g. the cores sleep waiting for the event) are evaluated in one tick, each
//! access granted at once by the HCI as its pass would grant it (`Port::request_alone`); the
//! engine stops before a cycle that may raise the event or fault, and posts as usual when the
//! HCI declines. The run is the same cycle for cycle (param `run_ahead: false` turns it off;
//! statistics `alone_grants` and `ahead_cycles` count it).
//!
//! Departures from the RTL, on purpose: each job context keeps its own registers (the RTL's
//! tiler reads the running context's sizes, so a job queued behind another inherits them);
//! Z rows at and beyond M, which the RTL writes past the end of Z (`y_width` in
//! `redmule_scheduler.sv` tests the W leftovers), are issued with byte enables off; the
//! numerics follow the golden model (no zero-padding steps for N not a multiple of 4).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use rand_core::Rng;
use rand_pcg::Pcg64Mcg;
use redmule_numerics::Fp16View;
use serde_json::{json, Value};
use vp_kernel::clocked::{DomainId, Next, TickCtx, PHASE_INITIATOR};
use vp_kernel::component::{ElabCtx, MapEntry, PortInfo};
use vp_kernel::port::{EventsRef, WidePort, WideReq, WIDE_MAX_WORDS};
use vp_kernel::tlm::{Command, Payload, Response, Target, TargetRef};
use vp_kernel::{Clock, Clocked, Component, Event, PortRef, Sim, SimTime, Wake};

use crate::regs::{self, Job, JOB_REGS};
use crate::schedule::{
    w_stream_words, Ahead, Geometry, JobShape, Schedule, Stall, StartInfo, WideAccess,
};

/// The accelerator's event line in the event unit (bits 15:12; RedMulE raises 12).
pub const EVENT_LINE: u32 = 12;

/// Most loads offered to the alone grant as one run (see [`Engine::replay_run`]).
const ALONE_RUN: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtxState {
    Free,
    Acquired,
    Committed,
}

#[derive(Clone, Copy, Debug)]
struct Ctx {
    state: CtxState,
    regs: [u32; JOB_REGS],
    /// Cycle of the last ARITH write (the tiler starts on it).
    arith_cycle: u64,
    id: u32,
    core: u32,
}

/// Per-job statistics.
#[derive(Clone, Debug, Default)]
pub struct JobStats {
    pub id: u32,
    pub job: Option<Job>,
    pub core: u32,
    pub trigger_cycle: u64,
    pub start_cycle: u64,
    pub end_cycle: u64,
    pub reads: u64,
    pub writes: u64,
    pub refused: u64,
    /// Cycle in which the last store landed (the job's context is free from then on).
    pub drained_cycle: u64,
    pub stall_w: u64,
    pub stall_x: u64,
    pub stall_y: u64,
    pub stall_other: u64,
}

impl JobStats {
    /// Cycles from the granted TRIGGER write to the completion event (as measured on the RTL;
    /// for a queued job, from its start).
    pub fn cycles(&self) -> u64 {
        self.end_cycle
            - self
                .trigger_cycle
                .max(self.start_cycle.min(self.trigger_cycle))
    }
}

struct Running {
    ctx: usize,
    job: Job,
    sched: Schedule,
    /// Next schedule cycle to evaluate (absolute cluster cycle).
    next_cycle: u64,
    /// The access the schedule presents, until granted.
    held: Option<WideAccess>,
    /// Whether `held` is posted on the port (false after a simulated refusal) or was granted
    /// at once by the alone grant.
    posted: bool,
    /// Whether `held` went through the port's post (its response is to be collected), not
    /// the alone grant.
    on_port: bool,
    /// Current tile's Z values (FP16), rows x depth, and which tile it is.
    tile: Option<((u32, u32), Vec<u16>)>,
    /// The row block whose X rows and W the engine's scratch buffers hold.
    block: Option<u32>,
    stats: JobStats,
    stall: Option<Stall>,
    stall_since: u64,
    /// The completion event has been raised; the last stores may still be draining.
    event_raised: bool,
    /// Cycles after which the job counts as stuck (64 x its ideal length, and then some).
    watchdog: u64,
}

/// State shared by the register file and the engine.
struct State {
    name: String,
    sim: Sim,
    domain: DomainId,
    clock: Clock,
    geom: Geometry,
    tcdm_base: u32,
    tcdm_size: u32,
    ctx: [Ctx; 2],
    /// Context being programmed (after ACQUIRE).
    prog: Option<usize>,
    /// Committed contexts in commit order.
    queue: VecDeque<usize>,
    /// Boxed: the engine takes it out and puts it back every cycle (a pointer move, not a copy
    /// of the schedule's state).
    running: Option<Box<Running>>,
    next_id: u32,
    finished: u32,
    engine_wake: Option<Wake>,
    done_event: Event,
    jobs: Vec<JobStats>,
    reg_reads: u64,
    reg_writes: u64,
    /// Set when a finished job's W stream had more than 65,535 words: the RTL's W source is
    /// then left in STREAMER_DONE until SOFT_CLEAR and the next job would hang
    /// ([`crate::schedule::w_stream_words`]). Describes that job.
    w_source_stuck: Option<String>,
    /// The engine's counters of its run ahead (see `Engine::alone_grants`).
    alone_grants: u64,
    ahead_cycles: u64,
}

impl State {
    fn cycle(&self) -> u64 {
        self.sim.access_cycle(self.domain)
    }

    fn soft_clear(&mut self) {
        for c in self.ctx.iter_mut() {
            c.state = CtxState::Free;
            c.regs = [0; JOB_REGS];
        }
        self.prog = None;
        self.queue.clear();
        self.running = None;
        self.w_source_stuck = None;
    }

    fn acquire(&mut self) -> u32 {
        if let Some(p) = self.prog {
            return self.ctx[p].id;
        }
        // hwpe_ctrl_slave.sv: ACQUIRE returns the id of a free context and locks it, or a
        // negative value while both are taken.
        let running = self.running.as_ref().map(|r| r.ctx);
        for i in 0..2 {
            if self.ctx[i].state == CtxState::Free && Some(i) != running {
                self.ctx[i].state = CtxState::Acquired;
                self.ctx[i].id = self.next_id;
                self.next_id = self.next_id.wrapping_add(1) & 0xFF;
                self.prog = Some(i);
                return self.ctx[i].id;
            }
        }
        u32::MAX
    }

    fn write_job_reg(&mut self, off: u32, v: u32, cycle: u64) {
        let i = match self.prog {
            Some(i) => i,
            None => {
                tracing::warn!(target: "vp", track = %format!("cluster.{}", self.name),
                    "RedMulE register {} written without ACQUIRE", regs::name(off));
                // Program the next free context anyway, as the RTL's register file does.
                (0..2)
                    .find(|&i| self.ctx[i].state == CtxState::Free)
                    .unwrap_or(0)
            }
        };
        let slot = ((off - regs::X_PTR) / 4) as usize;
        self.ctx[i].regs[slot] = v;
        if off == regs::ARITH {
            self.ctx[i].arith_cycle = cycle;
        }
    }

    /// TRIGGER: commit the programmed context; start it if the engine is idle.
    fn trigger(&mut self, core: u32, cycle: u64) {
        let i = match self.prog.take() {
            Some(i) => i,
            None => match (0..2).find(|&i| self.ctx[i].state == CtxState::Free) {
                Some(i) => {
                    self.ctx[i].id = self.next_id;
                    self.next_id = self.next_id.wrapping_add(1) & 0xFF;
                    i
                }
                None => {
                    tracing::warn!(target: "vp", track = %format!("cluster.{}", self.name),
                        "RedMulE TRIGGER with no free context: ignored");
                    return;
                }
            },
        };
        // A job the RTL cannot run (its 16-bit stream counters, see `regs::Job::decode_checked`)
        // is rejected when it is committed, naming its registers, rather than left to run into
        // the watchdog. Other decoding errors fault when the job starts, as before.
        let r = &self.ctx[i].regs;
        if Job::decode(r, self.tcdm_base, self.tcdm_size).is_ok() {
            if let Err(e) = Job::decode_checked(r, self.tcdm_base, self.tcdm_size, self.geom) {
                self.ctx[i].state = CtxState::Free;
                self.sim.fault(self.name.clone(), e);
                return;
            }
        }
        self.ctx[i].state = CtxState::Committed;
        self.ctx[i].core = core;
        self.queue.push_back(i);
        if self.running.is_none() {
            self.start_next(cycle, cycle);
        }
    }

    /// Start the oldest committed job; `trigger` is its TRIGGER cycle for the statistics.
    fn start_next(&mut self, start: u64, trigger: u64) {
        let Some(i) = self.queue.pop_front() else {
            return;
        };
        let c = self.ctx[i];
        if let Some(why) = &self.w_source_stuck {
            // The RTL's W source only starts from IDLE: this job would wait for W for ever.
            // (It would run if its W_TOT_LEN happened to equal the stuck count modulo 2^16;
            // the platform does not rely on that.)
            let [x, w, z, mcfg0, mcfg1, arith] = c.regs;
            let e = format!(
                "RedMulE job {} cannot start: {why}; the RTL ignores the next W stream start until \
                 SOFT_CLEAR and would hang (write SOFT_CLEAR after such a job); X={x:#010x} \
                 W={w:#010x} Z={z:#010x} MCFG0={mcfg0:#010x} MCFG1={mcfg1:#010x} ARITH={arith:#010x}",
                c.id
            );
            self.sim.fault(self.name.clone(), e);
            return;
        }
        let job = match Job::decode_checked(&c.regs, self.tcdm_base, self.tcdm_size, self.geom) {
            Ok(j) => j,
            Err(e) => {
                self.sim.fault(self.name.clone(), e);
                return;
            }
        };
        let shape = JobShape {
            m: job.m,
            n: job.n,
            k: job.k,
            x: job.x,
            w: job.w,
            z: job.z,
            elem_bytes: job.fmt.bytes_per_elem() as u32,
        };
        let info = StartInfo {
            arith_to_trigger: start.saturating_sub(c.arith_cycle).min(u32::MAX as u64) as u32,
            // MATMUL reads no Y (OP_SELECTION[0]); with more than one output tile the RTL's
            // Y-less MATMUL deadlocks (reference section 7), so such jobs run GEMM's schedule
            // (the intended behaviour; the datapath still ignores Y).
            reads_y: job.op.uses_y() || job.m > self.geom.rows || job.k > self.geom.depth(),
        };
        let sched = match Schedule::new(self.geom, shape, info) {
            Ok(s) => s,
            Err(e) => {
                self.sim
                    .fault(self.name.clone(), format!("RedMulE job rejected: {e}"));
                return;
            }
        };
        vp_traces::begin!(
            format!("cluster.{}", self.name),
            "job",
            id = c.id as u64,
            m = job.m as u64,
            n = job.n as u64,
            k = job.k as u64
        );
        self.running = Some(Box::new(Running {
            ctx: i,
            job,
            sched,
            next_cycle: start,
            held: None,
            posted: false,
            on_port: false,
            tile: None,
            block: None,
            stats: JobStats {
                id: c.id,
                job: Some(job),
                core: c.core,
                trigger_cycle: trigger,
                start_cycle: start,
                ..JobStats::default()
            },
            stall: None,
            stall_since: 0,
            event_raised: false,
            watchdog: {
                let macs = job.m as u64 * job.n.next_multiple_of(4) as u64 * job.k as u64;
                1000 + 64 * (macs / (self.geom.rows * self.geom.cols) as u64 + 1000)
            },
        }));
        vp_traces::signal!(format!("cluster.{}", self.name), "busy", true);
        if let Some(w) = &self.engine_wake {
            w.at(start);
        }
    }

    fn status(&self) -> u32 {
        u32::from(self.running.is_some() || !self.queue.is_empty())
    }
}

/// The register file target.
struct Regs(Rc<RefCell<State>>);

impl Target for Regs {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        if p.data.len() != 4 || !p.address.is_multiple_of(4) {
            p.response = Response::ByteEnableError;
            return;
        }
        let off = p.address as u32;
        let mut s = self.0.borrow_mut();
        let cycle = s.cycle();
        p.response = Response::Ok;
        match p.command {
            Command::Read => {
                s.reg_reads += 1;
                let v = match off {
                    regs::ACQUIRE => s.acquire(),
                    regs::FINISHED => s.finished,
                    regs::STATUS => s.status(),
                    regs::RUNNING_JOB => s.running.as_ref().map_or(0, |r| r.stats.id),
                    regs::X_PTR..=regs::ARITH if off.is_multiple_of(4) => {
                        let i = s.prog.unwrap_or(0);
                        s.ctx[i].regs[((off - regs::X_PTR) / 4) as usize]
                    }
                    _ => 0,
                };
                p.set_data_u32(v);
            }
            Command::Write => {
                s.reg_writes += 1;
                let v = p.data_u32();
                match off {
                    regs::TRIGGER => s.trigger(p.initiator.unwrap_or(0), cycle),
                    regs::SOFT_CLEAR => s.soft_clear(),
                    regs::X_PTR..=regs::ARITH => s.write_job_reg(off, v, cycle),
                    _ => {}
                }
            }
        }
    }

    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        // Reads without side effects (ACQUIRE would lock a context).
        if p.command == Command::Read && p.data.len() == 4 {
            let s = self.0.borrow();
            let off = p.address as u32;
            let v = match off {
                regs::STATUS => s.status(),
                regs::FINISHED => s.finished,
                regs::X_PTR..=regs::ARITH => {
                    s.ctx[s.prog.unwrap_or(0)].regs[((off - regs::X_PTR) / 4) as usize]
                }
                _ => 0,
            };
            p.set_data_u32(v);
            p.response = Response::Ok;
            return 4;
        }
        p.response = Response::CommandError;
        0
    }
}

/// The clocked engine.
struct Engine {
    state: Rc<RefCell<State>>,
    port: Rc<WidePort>,
    events: Option<EventsRef>,
    tcdm: TargetRef,
    deny_permille: u32,
    rng: Pcg64Mcg,
    track: String,
    /// Timeline track of the wide-port accesses.
    port_track: String,
    scratch: Scratch,
    /// Evaluate the cycles before the horizon in one tick (see [`Engine::tick`]); off: one
    /// tick and one HCI pass per cycle (the same run, for differential tests).
    run_ahead: bool,
    /// `vp_traces::enabled()` at the start of the tick.
    traces: bool,
    /// A load of the array's word (`request`; its address is set, or the load copied, for
    /// each load).
    read_req: WideReq,
    /// Accesses granted at once through the alone grant, and cycles evaluated ahead of their
    /// tick (statistics: `alone_grants`, `ahead_cycles`).
    alone_grants: u64,
    ahead_cycles: u64,
}

/// Largest gap between two runs (bytes) that [`Engine::load_rows`] reads through rather than
/// making one debug access per run.
const SPAN_GAP_BYTES: usize = 256;

/// Append the elements packed in `bytes` (whole elements of `fmt`) to `out` as FP16 (cast in).
fn decode(fmt: redmule_numerics::Format, bytes: &[u8], out: &mut Vec<u16>) {
    match fmt {
        redmule_numerics::Format::Fp16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]])),
        ),
        _ => out.extend(bytes.iter().map(|&b| fmt.to_fp16(u16::from(b)))),
    }
}

/// Reusable buffers of the tile computation (no allocation per tile once warm).
#[derive(Default)]
struct Scratch {
    /// Raw bytes of the last bulk read of W, X and Y, one buffer each: a read keeps the length
    /// of its buffer's previous read, so growing it never zero-fills (W, X and Y reads differ
    /// in length; one shared buffer refilled the growth with zeros at every other read).
    raw: [Vec<u8>; 3],
    w: Vec<u16>,
    x: Vec<u16>,
    y: Vec<u16>,
    z: Vec<u16>,
}

impl Engine {
    /// Read `len` bytes at `addr` in one debug access into `scratch.raw[buf]` (zeros if the
    /// access fails, as a refused per-row read gave).
    fn read_raw(&mut self, addr: u32, len: usize, buf: usize) {
        let mut p = Payload::read(addr as u64, 0);
        p.data = std::mem::take(&mut self.scratch.raw[buf]);
        // (The buffer's old bytes are overwritten by the read: no zero fill first.)
        p.data.resize(len, 0);
        if self.tcdm.borrow_mut().debug_transport(&mut p) != len {
            p.data.fill(0);
        }
        self.scratch.raw[buf] = std::mem::take(&mut p.data);
    }

    /// Read `rows` runs of `n` elements, `stride` elements apart, starting at `addr`, as FP16
    /// (cast in), into `out` (rows x n, packed): one debug read of the whole span, through raw
    /// buffer `buf` (see [`Scratch::raw`]).
    fn load_rows(
        &mut self,
        job: &Job,
        addr: u32,
        (rows, n, stride): (usize, usize, usize),
        out: &mut Vec<u16>,
        buf: usize,
    ) {
        out.clear();
        if rows == 0 || n == 0 {
            return;
        }
        let eb = job.fmt.bytes_per_elem();
        out.reserve(rows * n);
        // One read of the whole span when the gaps are small, else one read per run (into the
        // same buffer). A debug access costs about as much as copying a few hundred bytes (the
        // TCDM copies whole words), so gaps up to `SPAN_GAP_BYTES` per run are read through:
        // a tile's Y rows (16 of K elements) in one read up to K = 144 (FP16).
        if (rows - 1) * stride + n <= 2 * rows * n
            || stride.saturating_sub(n) * eb <= SPAN_GAP_BYTES
        {
            self.read_raw(addr, ((rows - 1) * stride + n) * eb, buf);
            let raw = &self.scratch.raw[buf];
            for r in 0..rows {
                let base = r * stride * eb;
                decode(job.fmt, &raw[base..base + n * eb], out);
            }
        } else {
            for r in 0..rows {
                self.read_raw(addr + (r * stride * eb) as u32, n * eb, buf);
                decode(job.fmt, &self.scratch.raw[buf], out);
            }
        }
    }

    /// Compute the Z tile (FP16 values, rows x depth) of row block `tm`, column block `tk` into
    /// `out`. `block`: the row block whose X rows and W are in the scratch buffers (this job's):
    /// they are read once per row block, at its first tile, in one read each (W row by row
    /// would take a debug access per row and tile); Y per tile.
    fn compute_tile(
        &mut self,
        job: &Job,
        geom: Geometry,
        (tm, tk): (u32, u32),
        block: &mut Option<u32>,
        out: &mut Vec<u16>,
    ) {
        let rows = geom.rows as usize;
        let depth = geom.depth() as usize;
        let eb = job.fmt.bytes_per_elem() as u32;
        let (m, n, k) = (job.m as usize, job.n as usize, job.k as usize);
        let r0 = tm as usize * rows;
        let c0 = tk as usize * depth;
        let cols = depth.min(k.saturating_sub(c0));
        out.clear();
        out.resize(rows * depth, 0);
        if cols == 0 {
            return;
        }
        let valid_rows = rows.min(m.saturating_sub(r0));
        // W (all of it, N x K) and the X rows of the block, once per block; the tile's Y
        // (= Z) rows.
        let mut w = std::mem::take(&mut self.scratch.w);
        let mut x = std::mem::take(&mut self.scratch.x);
        let mut y = std::mem::take(&mut self.scratch.y);
        let mut z = std::mem::take(&mut self.scratch.z);
        if *block != Some(tm) {
            self.load_rows(job, job.w, (1, n * k, n * k), &mut w, 0);
            self.load_rows(
                job,
                job.x + (r0 * n) as u32 * eb,
                (valid_rows, n, n),
                &mut x,
                1,
            );
            *block = Some(tm);
        }
        y.clear();
        if job.op.uses_y() {
            let yz = job.z + ((r0 * k + c0) as u32) * eb;
            self.load_rows(job, yz, (valid_rows, cols, k), &mut y, 2);
        }
        // The tile's rows from Y (or the op's initial value), advanced over all of N at once
        // (the numerics take several rows together).
        z.clear();
        if job.op.uses_y() {
            z.extend_from_slice(&y[..valid_rows * cols]);
        } else {
            z.resize(valid_rows * cols, job.op.initial_acc(0));
        }
        let view = Fp16View {
            data: &w[c0..],
            stride: k,
        };
        let xv = Fp16View {
            data: &x,
            stride: n,
        };
        if redmule_numerics::accumulate(job.op, &mut z, cols, xv, view, 0..n).is_ok() {
            for (r, zr) in z.chunks_exact(cols.max(1)).enumerate() {
                out[r * depth..r * depth + cols].copy_from_slice(zr);
            }
        }
        self.scratch.w = w;
        self.scratch.x = x;
        self.scratch.y = y;
        self.scratch.z = z;
    }

    /// Build the wide request for an access (with store data for Z).
    fn request(&mut self, r: &mut Running, geom: Geometry, a: &WideAccess) -> WideReq {
        let words = (geom.depth() * 2 / 4 + 1).min(WIDE_MAX_WORDS as u32) as u8;
        let mut req = WideReq::read(a.addr, words);
        if !a.write {
            return req;
        }
        req.write = true;
        let key = (a.tile_m, a.tile_k);
        if r.tile.as_ref().is_none_or(|(k, _)| *k != key) {
            let mut t = r.tile.take().map(|(_, t)| t).unwrap_or_default();
            self.compute_tile(&r.job, geom, key, &mut r.block, &mut t);
            r.tile = Some((key, t));
        }
        let job = r.job;
        let depth = geom.depth() as usize;
        let eb = job.fmt.bytes_per_elem();
        let row_abs = a.tile_m * geom.rows + a.row;
        let mut bytes = [0u8; WIDE_MAX_WORDS * 4];
        // FP16 at an even offset (the usual case): whole elements, as they are (`from_fp16` is
        // the identity), two to a word; `bytes` is not used then.
        let mut halves = [0u16; WIDE_MAX_WORDS * 2];
        let mut by_halves = false;
        let mut be: u64 = 0;
        if row_abs < job.m {
            let tile = &r.tile.as_ref().expect("computed above").1;
            let vals = &tile[a.row as usize * depth..(a.row as usize + 1) * depth];
            let off = (a.byte_addr - a.addr) as usize;
            let n_el = (a.bytes as usize / eb).min(depth);
            // The elements' bytes from `off` on, as many as the beat holds.
            let n = (n_el * eb).min(bytes.len() - off);
            if n > 0 {
                be = (u64::MAX >> (64 - n)) << off;
            }
            if job.fmt == redmule_numerics::Format::Fp16 && off.is_multiple_of(2) {
                // (`off` and `n` even: no element is cut by the beat's end.)
                for (d, &h) in halves[off / 2..(off + n) / 2].iter_mut().zip(vals) {
                    *d = h;
                }
                by_halves = true;
            } else {
                let dst = &mut bytes[off..off + n];
                if eb == 2 {
                    // (Byte by byte: a copy of a run-time length per element was a library call.)
                    let mut pairs = dst.chunks_exact_mut(2);
                    for (d, &h) in (&mut pairs).zip(vals) {
                        let v = job.fmt.from_fp16(h).to_le_bytes();
                        d[0] = v[0];
                        d[1] = v[1];
                    }
                    // A beat ending inside an element takes its first byte.
                    if let ([d], Some(&h)) = (pairs.into_remainder(), vals.get(n / 2)) {
                        *d = job.fmt.from_fp16(h).to_le_bytes()[0];
                    }
                } else {
                    for (d, &h) in dst.chunks_mut(eb).zip(vals) {
                        let v = job.fmt.from_fp16(h).to_le_bytes();
                        d.copy_from_slice(&v[..d.len()]);
                    }
                }
            }
        }
        if by_halves {
            for (w, h) in req.wdata.iter_mut().zip(halves.chunks_exact(2)) {
                *w = u32::from(h[0]) | (u32::from(h[1]) << 16);
            }
        } else {
            for (i, w) in req.wdata.iter_mut().enumerate() {
                *w = u32::from_le_bytes([
                    bytes[4 * i],
                    bytes[4 * i + 1],
                    bytes[4 * i + 2],
                    bytes[4 * i + 3],
                ]);
            }
        }
        req.be = be;
        req
    }

    #[inline]
    fn note_stall(&self, r: &mut Running, stall: Option<Stall>, cycle: u64) {
        self.count_stall(&mut r.stats, &mut r.stall, &mut r.stall_since, stall, cycle);
    }

    /// [`Engine::note_stall`] on the job's fields (`stats`, `stall`, `stall_since`).
    #[inline(always)]
    fn count_stall(
        &self,
        stats: &mut JobStats,
        cur: &mut Option<Stall>,
        since: &mut u64,
        stall: Option<Stall>,
        cycle: u64,
    ) {
        match stall {
            Some(Stall::WMissing) => stats.stall_w += 1,
            Some(Stall::XNotFull) => stats.stall_x += 1,
            Some(Stall::YMissing) => stats.stall_y += 1,
            Some(Stall::Other(_)) => stats.stall_other += 1,
            None => {}
        }
        if stall != *cur {
            self.stall_changed(cur, since, stall, cycle);
        }
    }

    /// The stall cause changed: trace it (kept out of the per-cycle path).
    #[cold]
    #[inline(never)]
    fn stall_changed(
        &self,
        cur: &mut Option<Stall>,
        since: &mut u64,
        stall: Option<Stall>,
        cycle: u64,
    ) {
        {
            let code: u64 = match stall {
                None => 0,
                Some(Stall::WMissing) => 1,
                Some(Stall::XNotFull) => 2,
                Some(Stall::YMissing) => 3,
                Some(Stall::Other(_)) => 4,
            };
            vp_traces::signal!(self.track.as_str(), "stall", code, 3u64);
            if let Some(prev) = *cur {
                if vp_traces::enabled() {
                    let clock = self.state.borrow().clock;
                    let cause = match prev {
                        Stall::WMissing => "W row missing",
                        Stall::XNotFull => "X buffer not full",
                        Stall::YMissing => "Y missing",
                        Stall::Other(s) => s,
                    };
                    vp_traces::slice!(
                        self.track.as_str(),
                        "stall",
                        clock.cycles(cycle - *since).ps(),
                        start_ps = clock.time_of(*since).ps(),
                        cause = cause
                    );
                }
            }
            *cur = stall;
            *since = cycle;
        }
    }
}

/// What one evaluated cycle leaves the tick to do.
enum Step {
    /// The cycle is done; the engine goes on with the next one.
    Next,
    /// The tick ends with this answer; `keep`: the job is still the running one.
    Return(Next, bool),
}

impl Engine {
    /// Evaluate schedule cycle `cycle` (`r.next_cycle`): collect last cycle's grant, step the
    /// schedule, raise the event or end the job, present the next access. The access goes
    /// through [`vp_kernel::port::Port::request_alone`] when `cycle` lies before `horizon`
    /// (nothing else can act before it), else it is posted for the HCI's pass.
    fn step(
        &mut self,
        r: &mut Running,
        geom: Geometry,
        cycle: u64,
        horizon: u64,
        sim: &Sim,
    ) -> Step {
        let state = self.state.clone();
        // Was last cycle's request granted?
        let mut collect = false;
        let granted = match r.held {
            Some(a) if r.posted && !self.port.busy() => {
                collect = r.on_port;
                if a.write {
                    r.stats.writes += 1;
                } else {
                    r.stats.reads += 1;
                }
                if self.traces {
                    let stream = match a.stream {
                        crate::schedule::Stream::X => "X",
                        crate::schedule::Stream::W => "W",
                        crate::schedule::Stream::Y => "Y",
                        crate::schedule::Stream::Z => "Z",
                    };
                    let clock = state.borrow().clock;
                    vp_traces::slice!(
                        self.port_track.as_str(),
                        stream,
                        clock.period_ps(),
                        start_ps = clock.time_of(cycle - 1).ps(),
                        addr = a.addr as u64,
                        write = a.write
                    );
                }
                r.held = None;
                true
            }
            Some(_) => false,
            None => true,
        };
        // (An alone grant leaves no response on the port.)
        if let Some(resp) = if collect {
            self.port.take_response()
        } else {
            None
        } {
            if resp.error {
                // The interconnect refused the access as malformed: the array's word
                // (cols x (stages + 1) FP16 values + 1 word) is wider than the HCI's wide
                // port, or the address is outside the TCDM. Results would be wrong: stop.
                let words = geom.depth() * 2 / 4 + 1;
                sim.fault(
                    state.borrow().name.clone(),
                    format!(
                        "the wide port answered an access error at cycle {}: RedMulE {}x{}x{} needs {words}-word accesses; check platform.interconnect.wide_words and the TCDM size",
                        resp.granted, geom.rows, geom.cols, geom.stages
                    ),
                );
                return Step::Return(Next::Sleep, true);
            }
        }
        let out = r.sched.cycle(granted);
        self.note_stall(r, out.stall, cycle);
        // Watchdog: a job far beyond any plausible schedule is a model or memory deadlock.
        let limit = r.watchdog;
        if cycle - r.stats.start_cycle > limit {
            let j = r.job;
            sim.fault(
                state.borrow().name.clone(),
                format!(
                    "RedMulE job {} ({}x{}x{}) made no end after {limit} cycles ({} reads, {} writes, {} refused grants)",
                    r.stats.id, j.m, j.n, j.k, r.stats.reads, r.stats.writes, r.stats.refused
                ),
            );
            return Step::Return(Next::Sleep, true);
        }
        r.next_cycle = cycle + 1;
        if out.done {
            // The completion event goes to the committing core (hwpe evt -> event unit). The
            // controller raises it when the Z sink has handed its last store to the store
            // FIFO (redmule_ctrl.sv, hci_core_sink.sv): up to two stores may still drain.
            if let Some(ev) = &self.events {
                ev.0.raise(1 << r.stats.core, EVENT_LINE, cycle);
            }
            r.stats.end_cycle = cycle;
            r.event_raised = true;
            self.note_stall(r, None, cycle);
            vp_traces::end!(self.track.as_str(), "job");
        }
        if r.sched.deadlocked() {
            sim.fault(
                state.borrow().name.clone(),
                format!("job {}: {}", r.stats.id, r.sched.deadlock_report()),
            );
            return Step::Return(Next::Sleep, true);
        }
        if r.event_raised && r.held.is_none() && out.req.is_none() && r.sched.is_drained() {
            // Every store has landed: the job is over and its context is free.
            let mut s = state.borrow_mut();
            s.ctx[r.ctx].state = CtxState::Free;
            s.finished = s.finished.wrapping_add(1);
            r.stats.drained_cycle = cycle;
            vp_traces::signal!(self.track.as_str(), "busy", false);
            let j = r.job;
            let shape = JobShape {
                m: j.m,
                n: j.n,
                k: j.k,
                x: j.x,
                w: j.w,
                z: j.z,
                elem_bytes: j.fmt.bytes_per_elem() as u32,
            };
            let words = w_stream_words(s.geom, &shape);
            if words > 0xffff {
                s.w_source_stuck = Some(format!(
                    "job {} ({}x{}x{}) streamed {words} W words, more than the 65535 its W source \
                     counts (hci_core_source.sv, 16-bit stream_cnt_q), which left that source in \
                     STREAMER_DONE",
                    r.stats.id, shape.m, shape.n, shape.k
                ));
            }
            s.jobs.push(r.stats.clone());
            s.done_event.notify_delta();
            s.start_next(cycle + 1, cycle + 1);
            let next = if s.running.is_some() {
                Next::Cycle
            } else {
                Next::Sleep
            };
            return Step::Return(next, false);
        }
        self.present(r, geom, cycle, horizon, out.req);
        Step::Next
    }

    /// End of a tick: the job back in the state (unless it ended), the counters published.
    fn put_back(&self, r: Option<Box<Running>>) {
        let mut s = self.state.borrow_mut();
        s.alone_grants = self.alone_grants;
        s.ahead_cycles = self.ahead_cycles;
        if r.is_some() {
            s.running = r;
        }
    }

    /// A cycle evaluated ahead of its tick: [`Engine::step`] without what cannot happen
    /// there (the tick's loop guarantees it): the port holds no request and no response (the
    /// last access was granted alone), no timeline is recorded, the schedule can neither
    /// end nor deadlock in it (`Schedule::may_end_next` was false), the watchdog is far.
    #[inline(always)]
    fn step_ahead(&mut self, r: &mut Running, geom: Geometry, cycle: u64, horizon: u64) {
        debug_assert!(!self.port.busy() && !self.traces && !r.event_raised);
        debug_assert!(!(r.posted && r.held.is_some() && r.on_port));
        let granted = match r.held {
            Some(a) if r.posted => {
                if a.write {
                    r.stats.writes += 1;
                } else {
                    r.stats.reads += 1;
                }
                r.held = None;
                true
            }
            Some(_) => false,
            None => true,
        };
        let out = r.sched.cycle(granted);
        self.note_stall(r, out.stall, cycle);
        r.next_cycle = cycle + 1;
        debug_assert!(!(out.done || r.sched.deadlocked()));
        self.present(r, geom, cycle, horizon, out.req);
    }

    /// [`Engine::step_ahead`] for the cycles from `first` on (before `end`) that the schedule
    /// replays (`Schedule::replay_ahead`), in one loop over its recorded outputs: the same
    /// counts, stall changes and accesses, every read granted alone. Stops after a cycle whose
    /// access is a store (presented here through [`Engine::present`]) or went to the port,
    /// at the period's end, or at `end`. Only without simulated refusals (the caller's check).
    /// Returns the number of cycles done (0: none replayed from here, take the general step).
    fn replay_run(
        &mut self,
        r: &mut Running,
        geom: Geometry,
        first: u64,
        end: u64,
        horizon: u64,
    ) -> u64 {
        debug_assert!(self.deny_permille == 0 && !self.port.busy() && !self.traces);
        if r.held.is_some() && !r.posted {
            // A refused access is presented again: the general step.
            return 0;
        }
        // (Last cycle's access, if any, was granted.)
        let Some(ahead) = r.sched.replay_ahead(true) else {
            return 0;
        };
        let n = ahead.len().min((end - first) as usize);
        // The loads before the first store (at most ALONE_RUN, each before the horizon) go
        // to the alone grant as one run: the same as granting them one by one, up to the
        // first refused (`granted` of `offered`); later loads ask one by one.
        // (A local array and count: the loop keeps them out of memory.)
        let mut run = [(0u64, 0u32); ALONE_RUN];
        let mut offered = 0;
        for k in 0..n {
            let cycle = first + k as u64;
            let code = ahead.code(k);
            if code & (Ahead::READ | Ahead::WRITE) == 0 {
                continue;
            }
            if code & Ahead::WRITE != 0 || cycle >= horizon || offered == ALONE_RUN {
                break;
            }
            run[offered] = (cycle, ahead.addr(k));
            offered += 1;
        }
        let granted = if offered > 0 {
            self.port
                .request_alone_discard_run(&self.read_req, &run[..offered])
        } else {
            0
        };
        // Last cycle's access, granted (alone, or the step before this run).
        if let Some(a) = r.held.take() {
            if a.write {
                r.stats.writes += 1;
            } else {
                r.stats.reads += 1;
            }
        }
        // Per cycle only the outputs' codes are read (`Ahead::code`); the counts are added at
        // the end, and the load granted in the last cycle stays held for the next one.
        let mut loads = 0;
        let mut store = None;
        let mut held_last = false;
        let mut k = 0;
        while k < n {
            let cycle = first + k as u64;
            let code = ahead.code(k);
            k += 1;
            // (`r.stall` is the previous output's stall cause.)
            if code & Ahead::CHANGED != 0 {
                let stall = ahead.stall(k - 1);
                if stall != r.stall {
                    self.stall_changed(&mut r.stall, &mut r.stall_since, stall, cycle);
                }
            }
            held_last = false;
            if code & (Ahead::READ | Ahead::WRITE) == 0 {
                continue;
            }
            if code & Ahead::WRITE != 0 {
                store = ahead.req(k - 1);
                break;
            }
            let on_port = if loads < offered {
                loads >= granted
            } else {
                self.read_req.addr = ahead.addr(k - 1);
                !(cycle < horizon && self.port.request_alone_discard(cycle, &self.read_req))
            };
            loads += 1;
            held_last = true;
            if on_port {
                self.read_req.addr = ahead.addr(k - 1);
                self.port.request(cycle, self.read_req);
                r.on_port = true;
                break;
            }
            r.on_port = false;
            self.alone_grants += 1;
        }
        let [w, x, y, other] = ahead.stalls(k);
        r.stats.stall_w += w;
        r.stats.stall_x += x;
        r.stats.stall_y += y;
        r.stats.stall_other += other;
        // Every load but one held at the end was granted and taken by the cycle after it.
        r.stats.reads += loads as u64 - u64::from(held_last);
        if held_last {
            r.held = ahead.req(k - 1);
            r.posted = true;
        }
        r.sched.replay_skip(k);
        let last = first + k as u64 - 1;
        r.next_cycle = last + 1;
        if store.is_some() {
            self.present(r, geom, last, horizon, store);
        }
        k as u64
    }

    /// Present the schedule's access `req` of `cycle` (held until granted): drawn for a
    /// simulated refusal, then granted at once alone (before `horizon`) or posted.
    #[inline(always)]
    fn present(
        &mut self,
        r: &mut Running,
        geom: Geometry,
        cycle: u64,
        horizon: u64,
        req: Option<WideAccess>,
    ) {
        if let Some(a) = req {
            // (The held access is taken from where it is, not read back after storing it.)
            let held = match r.held {
                Some(h) => h,
                None => {
                    r.held = Some(a);
                    r.posted = false;
                    a
                }
            };
            if !r.posted {
                // A memory-pressure what-if: refuse this share of grants (seeded). A refused
                // request is not posted this cycle; the schedule sees the refusal next cycle.
                let deny =
                    self.deny_permille > 0 && (self.rng.next_u32() % 1000) < self.deny_permille;
                if deny {
                    r.stats.refused += 1;
                } else {
                    let req = if held.write {
                        self.request(r, geom, &held)
                    } else {
                        WideReq {
                            addr: held.addr,
                            ..self.read_req
                        }
                    };
                    // Alone on the memory: the HCI grants at once what its pass in `cycle`
                    // would grant (the response is the one the next cycle collects: read
                    // data is the datapath's business, taken from the TCDM directly).
                    r.on_port = !(cycle < horizon && self.port.request_alone_discard(cycle, &req));
                    if r.on_port {
                        self.port.request(cycle, req);
                    } else {
                        self.alone_grants += 1;
                    }
                    r.posted = true;
                }
            }
        }
    }
}

impl Clocked for Engine {
    fn tick(&mut self, cx: &mut TickCtx<'_>) -> Next {
        let state = self.state.clone();
        let mut s = state.borrow_mut();
        let geom = s.geom;
        let Some(mut r) = s.running.take() else {
            return Next::Sleep;
        };
        if r.next_cycle > cx.cycle {
            // Woken before the cycle it evaluated up to (the cycles before were done ahead).
            let at = r.next_cycle;
            s.running = Some(r);
            return Next::At(at);
        }
        drop(s);
        // Catch up on cycles that passed before the engine could tick (TRIGGER written after
        // the engine's tick in its cycle): no access is due that early after TRIGGER.
        while r.next_cycle < cx.cycle {
            let out = r.sched.cycle(true);
            let c = r.next_cycle;
            self.note_stall(&mut r, out.stall, c);
            r.next_cycle += 1;
        }
        // The cycles before the horizon belong to RedMulE alone (the cores sleep waiting for
        // its event, the HCI has no other request): evaluate them in this tick, each access
        // granted at once as the HCI's pass would grant it, until an access has to be posted
        // (the HCI declined), the horizon, or a cycle that may act outside RedMulE (the event,
        // a fault). Not with a timeline recorded (its slices would come out of order).
        self.traces = vp_traces::enabled();
        let horizon = if self.run_ahead && !self.traces {
            cx.horizon()
        } else {
            cx.cycle
        };
        let mut cycle = cx.cycle;
        if let Step::Return(next, keep) = self.step(&mut r, geom, cycle, horizon, cx.sim) {
            self.put_back(keep.then_some(r));
            return next;
        }
        // Ahead up to the horizon and no further than the watchdog's cycle (its fault must
        // come in its own tick); the event can only have come in the step above.
        let end = horizon.min(
            (r.stats.start_cycle)
                .saturating_add(r.watchdog)
                .saturating_add(1),
        );
        if r.event_raised {
            self.put_back(Some(r));
            return Next::Cycle;
        }
        loop {
            let next = cycle + 1;
            if next >= end || self.port.busy() || r.sched.may_end_next() {
                break;
            }
            if self.deny_permille == 0 {
                let n = self.replay_run(&mut r, geom, next, end, horizon);
                if n > 0 {
                    cycle += n;
                    self.ahead_cycles += n;
                    continue;
                }
            }
            cycle = next;
            self.ahead_cycles += 1;
            self.step_ahead(&mut r, geom, cycle, horizon);
        }
        self.put_back(Some(r));
        Next::At(cycle + 1)
    }
    fn blocked_on(&self) -> Option<String> {
        None
    }
}

/// Component params.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Base address of the register file.
    #[serde(default = "d_base")]
    pub base: u32,
    /// Rows of CEs (ARRAY_WIDTH).
    #[serde(default = "d_rows")]
    pub rows: u32,
    /// CEs per row (ARRAY_HEIGHT).
    #[serde(default = "d_cols")]
    pub cols: u32,
    /// Pipeline registers per CE (PIPE_REGS).
    #[serde(default = "d_stages")]
    pub stages: u32,
    /// Refuse this share (per mille) of the wide port's grants, at random (seeded).
    #[serde(default)]
    pub deny_permille: u32,
    /// Evaluate the cycles in which RedMulE is alone on the memory in one tick, its accesses
    /// granted at once (`Port::request_alone`); false: one tick and one HCI pass per cycle.
    /// The run is the same either way (a switch for differential tests).
    #[serde(default = "d_true")]
    pub run_ahead: bool,
}
fn d_true() -> bool {
    true
}
fn d_base() -> u32 {
    0x1020_1000
}
fn d_rows() -> u32 {
    12
}
fn d_cols() -> u32 {
    4
}
fn d_stages() -> u32 {
    3
}

/// The RedMulE block.
pub struct Redmule {
    name: String,
    base: u32,
    state: Rc<RefCell<State>>,
    wide: Option<Rc<WidePort>>,
    events: Option<EventsRef>,
    tcdm: Option<TargetRef>,
    deny_permille: u32,
    run_ahead: bool,
    seed: u64,
}

impl Redmule {
    pub fn build(
        ctx: &vp_kernel::BuildCtx<'_>,
        name: &str,
        v: &serde_yaml::Value,
    ) -> Result<Box<dyn Component>, String> {
        let p: Params = vp_kernel::component::parse_params(v)?;
        let geom = Geometry {
            rows: p.rows,
            cols: p.cols,
            stages: p.stages,
        };
        if p.rows == 0 || p.cols == 0 || p.stages == 0 {
            return Err("rows, cols and stages must be at least 1".into());
        }
        // redmule_pkg.sv: one 256-bit word feeds a row: cols x (stages + 1) FP16 values.
        // (in 64 bits: the fields are any u32)
        let depth = u64::from(p.cols) * (u64::from(p.stages) + 1);
        if depth * 2 + 4 > (WIDE_MAX_WORDS * 4) as u64 {
            return Err(format!(
                "cols x (stages + 1) = {depth} FP16 values do not fit a port of at most {} words",
                WIDE_MAX_WORDS
            ));
        }
        // (cols x stages < the depth checked above: no overflow)
        if p.rows > p.cols * p.stages {
            return Err(format!(
                "rows ({}) must not exceed cols x stages ({}): the RTL feeds one X row per CE pipeline slot",
                p.rows,
                p.cols * p.stages
            ));
        }
        if p.deny_permille >= 1000 {
            return Err(format!(
                "deny_permille: expected 0 to 999, got {}",
                p.deny_permille
            ));
        }
        let state = State {
            name: name.to_string(),
            sim: ctx.sim.clone(),
            domain: ctx.domain,
            clock: ctx.clock,
            geom,
            tcdm_base: ctx.tcdm_base,
            tcdm_size: ctx.tcdm_size,
            ctx: [Ctx {
                state: CtxState::Free,
                regs: [0; JOB_REGS],
                arith_cycle: 0,
                id: 0,
                core: 0,
            }; 2],
            prog: None,
            queue: VecDeque::new(),
            running: None,
            next_id: 0,
            finished: 0,
            engine_wake: None,
            done_event: Event::new(ctx.sim, format!("{name}.done")),
            jobs: Vec::new(),
            reg_reads: 0,
            reg_writes: 0,
            w_source_stuck: None,
            alone_grants: 0,
            ahead_cycles: 0,
        };
        Ok(Box::new(Redmule {
            name: name.to_string(),
            base: p.base,
            state: Rc::new(RefCell::new(state)),
            wide: None,
            events: None,
            tcdm: None,
            deny_permille: p.deny_permille,
            run_ahead: p.run_ahead,
            seed: ctx.seed_for(name),
        }))
    }

    /// Statistics of the finished jobs.
    pub fn jobs(&self) -> Vec<JobStats> {
        self.state.borrow().jobs.clone()
    }
}

fn job_json(j: &JobStats, geom: Geometry, mhz: f64) -> Value {
    let job = j.job.expect("finished jobs carry their job");
    let cycles = j.cycles();
    let macs = job.m as f64 * job.n as f64 * job.k as f64;
    let units = (geom.rows * geom.cols) as f64;
    json!({
        "id": j.id,
        "core": j.core,
        "m": job.m, "n": job.n, "k": job.k,
        "op": format!("{:?}", job.op).to_lowercase(),
        "fmt": match job.fmt {
            redmule_numerics::Format::Fp16 => "fp16",
            redmule_numerics::Format::Fp8E5M2 => "fp8",
            redmule_numerics::Format::Fp8E4M3 => "fp8alt",
        },
        "trigger_cycle": j.trigger_cycle,
        "end_cycle": j.end_cycle,
        "drained_cycle": j.drained_cycle,
        "cycles": cycles,
        "reads": j.reads,
        "writes": j.writes,
        "refused": j.refused,
        "stalls": {"w_missing": j.stall_w, "x_not_full": j.stall_x, "y_missing": j.stall_y, "other": j.stall_other},
        "utilization": macs / (units * cycles.max(1) as f64),
        "gflops": 2.0 * macs * mhz / cycles.max(1) as f64 / 1000.0,
    })
}

impl Component for Redmule {
    fn kind(&self) -> &'static str {
        "redmule"
    }
    fn ports(&self) -> Vec<PortInfo> {
        vec![
            PortInfo {
                name: "wide",
                kind: "wide",
                required: true,
                doc: "the HCI wide port (interconnect.wide)",
            },
            PortInfo {
                name: "tcdm",
                kind: "target",
                required: true,
                doc: "zero-time TCDM access for the datapath (interconnect.tcdm)",
            },
            PortInfo {
                name: "events",
                kind: "events",
                required: false,
                doc: "event lines of the event unit (event 12 on completion)",
            },
        ]
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "regs" => Ok(PortRef::target(Rc::new(RefCell::new(Regs(
                self.state.clone(),
            ))))),
            "done" => Ok(PortRef::new(
                "event",
                Rc::new(self.state.borrow().done_event.clone()),
            )),
            _ => Err(format!("redmule exports 'regs' and 'done', not '{port}'")),
        }
    }
    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        match port {
            "wide" => self.wide = Some(peer.get::<WidePort>("wide")?),
            "tcdm" => self.tcdm = Some(peer.get_target()?),
            "events" => self.events = Some((*peer.get::<EventsRef>("events")?).clone()),
            _ => {
                return Err(format!(
                    "redmule has ports wide, tcdm and events, not '{port}'"
                ))
            }
        }
        Ok(())
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "regs".into(),
            base: self.base as u64,
            size: regs::SIZE,
            target: Rc::new(RefCell::new(Regs(self.state.clone()))),
        }]
    }
    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        let port = self.wide.clone().ok_or("port 'wide' is not bound")?;
        let tcdm = self.tcdm.clone().ok_or("port 'tcdm' is not bound")?;
        let engine = Engine {
            state: self.state.clone(),
            port: port.clone(),
            events: self.events.clone(),
            tcdm,
            deny_permille: self.deny_permille,
            rng: Pcg64Mcg::new(self.seed as u128 | 1),
            track: format!("cluster.{}", self.name),
            port_track: format!("cluster.{}.port", self.name),
            scratch: Scratch::default(),
            run_ahead: self.run_ahead,
            traces: false,
            read_req: {
                let geom = self.state.borrow().geom;
                let words = (geom.depth() * 2 / 4 + 1).min(WIDE_MAX_WORDS as u32) as u8;
                WideReq::read(0, words)
            },
            alone_grants: 0,
            ahead_cycles: 0,
        };
        let wake = cx.sim.add_clocked(
            cx.domain,
            format!("{}.engine", self.name),
            PHASE_INITIATOR,
            false,
            Rc::new(RefCell::new(engine)),
        );
        port.set_initiator_wake(wake.clone());
        self.state.borrow_mut().engine_wake = Some(wake);
        Ok(())
    }
    fn stats(&self) -> Value {
        let s = self.state.borrow();
        let mhz = s.clock.mhz();
        let jobs: Vec<Value> = s.jobs.iter().map(|j| job_json(j, s.geom, mhz)).collect();
        let summary: Vec<String> = jobs
            .iter()
            .map(|j| {
                format!(
                    "job {}: {}x{}x{} {} {}, {} cycles, {} reads, {} writes, {:.2} % CE utilization, {:.2} GFLOPS",
                    j["id"], j["m"], j["n"], j["k"],
                    j["op"].as_str().unwrap_or(""), j["fmt"].as_str().unwrap_or(""),
                    j["cycles"], j["reads"], j["writes"],
                    j["utilization"].as_f64().unwrap_or(0.0) * 100.0,
                    j["gflops"].as_f64().unwrap_or(0.0)
                )
            })
            .collect();
        json!({
            "summary": summary,
            "geometry": {"rows": s.geom.rows, "cols": s.geom.cols, "stages": s.geom.stages},
            "jobs_finished": s.jobs.len(),
            "jobs": jobs,
            "register_reads": s.reg_reads,
            "register_writes": s.reg_writes,
            "alone_grants": s.alone_grants,
            "ahead_cycles": s.ahead_cycles,
        })
    }
}

/// The `redmule` kind.
pub fn kind() -> vp_kernel::ComponentKind {
    vp_kernel::ComponentKind {
        name: "redmule",
        summary: "RedMulE matrix engine: registers at 0x10201000, cycle-exact schedule on the HCI wide port",
        params: "base: register base (0x10201000)\nrows, cols, stages: CE array geometry (12, 4, 3)\ndeny_permille: refuse this share of wide-port grants at random (0)\nrun_ahead: evaluate the cycles RedMulE is alone on the memory in one tick (true; the same run)",
        build: Redmule::build,
    }
}
