//! Cycle-exact timing model of RedMulE's scheduler, streamer and buffers.
//!
//! This is a register-level translation (state only, no data) of the parts of
//! `pulp-platform/redmule` (51cd064) that decide *when* the accelerator touches its 288-bit
//! HCI port and when the job ends:
//!
//! ```text
//!  redmule_ctrl ──first_load──> redmule_memory_scheduler ──req_start/base──┐
//!       ▲ (tiler: redmule_tiler)                                           ▼
//!       │                         redmule_streamer: hci_core_source x3 (X, W, Y) + hci_core_sink (Z)
//!       │                            each source: addressgen_v3 -> addr fifo(2) -> hci_core_fifo(4)
//!       │                            sink:        addressgen_v3 -> addr fifo(2) -> hci_core_fifo(2)
//!       │                            hci_core_mux_ooo(Y, Z) -> hci_core_mux_ooo(X, W, YZ) -> port
//!       │                                     ▲ r_data (1 cycle after gnt)
//!       │                 redmule_top: hwpe_stream_fifo X(4) W(4) Y(4) Z(2)
//!       │                                     ▼
//!       └── z sink done ── redmule_scheduler <-> redmule_x_buffer / redmule_w_buffer / redmule_z_buffer
//! ```
//!
//! The model evaluates, every clock cycle, the same combinational conditions as the RTL from the
//! same registers, then updates the registers. The array's data path (`redmule_engine`,
//! `redmule_row`, `redmule_ce`) needs no state of its own here: its P+1 cycle latency per CE is
//! encoded in the scheduler's `z_wait`/`z_avail`/`y_push` counters, which is where the RTL takes it
//! from too (the engine has `in_valid = out_ready = 1`, it never back-pressures).
//!
//! Cycle convention: `cycle()` number 0 is the cycle of the granted TRIGGER write. The tiler
//! (`redmule_tiler.sv`) is started by the ARITH write (`start_cfg` in `redmule_top.sv`), so the
//! start-up depends on how many cycles before TRIGGER ARITH was written ([`StartInfo`]).
//!
//! Timing rules and where they come from (file: rule):
//! - `redmule_tiler.sv` + `hwpe_ctrl_seq_mult.sv`: two chained 16-bit sequential multipliers (16
//!   cycles each) plus a pulse register and the output register: `valid_o` rises 34 cycles after
//!   the ARITH write.
//! - `hwpe_ctrl_slave.sv`: TRIGGER is seen by the running-state FSM one cycle later (the commit
//!   moves `pointer_context`), RUN_STARTING, RUN_RUN with `flags_o.start`; `redmule_ctrl.sv`
//!   registers it in `slave_start`: usable 4 cycles after TRIGGER.
//! - `redmule_ctrl.sv`: IDLE -> STARTING when `slave_start & tiler_valid`; `first_load` is
//!   STARTING, which lasts until the scheduler's first un-stalled LOAD_W (`w_loaded`). COMPUTING
//!   ends on the Z sink's (registered) `done`; FINISHED raises `done` to the slave, whose event
//!   register (`flags_o.evt`) makes the event visible one cycle later. FINISHED also resets
//!   the scheduler (`cntrl_scheduler_o.rst`): the array cannot stall from the event cycle on,
//!   even if the job ended while it was waiting (for X, under refusals).
//! - `redmule_memory_scheduler.sv`: X, W, Y and the Z sink are started during `first_load`; X is
//!   restarted (next 16-column chunk, next W column block, next row block) every time its stream
//!   ends while fewer than `TOT_X_READ` chunks were read (or again while `first_load` still holds,
//!   which is why single-tile jobs read X twice); Y restarts while `first_load` holds.
//! - `hci_core_source.sv`, `hwpe_stream_addressgen_v3.sv`, `hwpe_stream_fifo.sv`,
//!   `hci_core_fifo.sv`: a source needs one cycle from start to the first address, one cycle in its
//!   2-deep address FIFO, and one cycle in the 4-deep request FIFO of its `hci_core_fifo` before the
//!   port sees it; it only issues while the stream FIFO of `redmule_top.sv` is not full; a response
//!   enters the 4-deep response FIFO the cycle after the grant and reaches the stream FIFO one
//!   cycle later; the `hci_core_fifo` withholds requests while its response FIFO is full (and, from
//!   its `almost_full` flag, which the FIFO raises at exactly one entry, when a response is arriving
//!   and the stream does not take one).
//! - `hci_core_mux_ooo.sv`: the X/W/YZ multiplexer and the Y/Z multiplexer are round-robin with a
//!   counter advanced on every handshake, re-arbitrated only after a handshake or an idle cycle
//!   (hold-until-grant). The Y/Z multiplexer is forced (`z_priority`: the Z buffer is storing or
//!   the Z FIFO is not empty) to the order given by `priority_i = {1, 0}`.
//! - `hci_core_sink.sv`: a store is issued when both a Z row (Z FIFO of `redmule_top.sv`) and an
//!   address are there and the 2-deep store FIFO has room; `done` is registered.
//! - `redmule_scheduler.sv`: IDLE -> PRELOAD -> (X full and Y loaded) -> LOAD_W <-> WAIT (P+1
//!   cycles per W row); the CE array stalls in LOAD_W when the W FIFO is empty, when a 16-column
//!   X chunk must start and the X buffer is not full, or when results emerge and the Y rows are not
//!   loaded. The `z_wait`/`z_avail`/`y_push` counters time the Z buffer fill and the Y push.
//! - `redmule_x_buffer.sv`, `redmule_w_buffer.sv`, `redmule_z_buffer.sv`: fill/empty flags and the
//!   state machines that produce them.
//!
//! FP8: the RTL's tiler computes strides for 2-byte elements whatever the format (one of the RTL's
//! FP8 bugs). The model keeps the RTL's timing and number of accesses, and computes addresses for
//! the HAL's layout instead: elements of `elem_bytes` bytes, so every stride and the column-block
//! jump (one memory word = D elements) scale with `elem_bytes`, and a beat carries `D * elem_bytes`
//! valid bytes.
//!
//! The RTL's 16-bit counters limit the jobs it can run ([`check_job`]): at most [`Z_STORES_MAX`]
//! Z stores (`ROWS * ceil(M / ROWS) * ceil(K / D)`; past it the Z sink of `hci_core_sink.sv`
//! never ends and no event comes: Verilator, 24 x 8 x 43681) and [`X_CHUNKS_MAX`] X chunk reads
//! (`ceil(M / ROWS) * ceil(K / D) * ceil(N / D)`, `redmule_memory_scheduler.sv`); such jobs are
//! refused. The W stream's word count (`ceil(M / ROWS) * ceil(K / D) * N rounded up to COLS`) is
//! no limit: its source never leaves STREAMER_DONE (16-bit `stream_cnt_q` in
//! `hci_core_source.sv`) but the job completes at the same cycle as the RTL (256 x 256 x 256,
//! 24 x 32765 x 16) and counts as drained. The RTL's next job then hangs unless SOFT_CLEAR
//! comes first ([`w_stream_words`]); the component stops the run there instead.
//!
//! What the model keeps from the RTL although it looks wrong:
//! - Z rows at and beyond M are written (`y_width` in `redmule_scheduler.sv` tests the W
//!   leftovers): the caller must mask their data (byte enables off).
//! - Single-tile jobs (and multi-tile jobs with very few X rows) re-read X and/or Y: a stream that
//!   ends while the controller's `first_load` holds is started again.
//! - The completion event can precede the last stores: the controller finishes when the Z sink has
//!   handed its last store to the 2-deep store FIFO. With the memory always granting the FIFO is
//!   empty by then; under refusals keep calling [`Schedule::cycle`] until
//!   [`Schedule::is_drained`].
//! - Corner shapes on which the RTL deadlocks (e.g. 13 x 5 x 1, N <= 4 with several output tiles)
//!   deadlock here too, and [`Schedule::deadlocked`] reports it.
//! - Refusal-induced deadlocks. Refused grants can deadlock the RTL on shapes that complete while
//!   the memory always grants, even with hold-until-grant (below), because the Y push is timed
//!   by the scheduler's counters, not by the Z buffer's state. In `redmule_z_buffer.sv` the
//!   buffer is `PUSHED` until its last store (`store_shift_q == z_width-1 && store_en &&
//!   ready`); `d_index` counts the Y push (`y_push_enable`, from `redmule_scheduler.sv`'s
//!   `y_push_en`) in every state, and `load_en` only needs `EMPTY`, `d_index == 0` and
//!   `fill_shift == 0`. When refused stores keep the buffer `PUSHED` until a Y push is already
//!   running, the buffer becomes `EMPTY` in the middle of that push, `d_index` wraps to 0 while
//!   `y_push_en` still holds, the next row block's Y rows are loaded (`LOADED`) and the running
//!   push ends them at once (`LOADED -> EMPTY` on `d_index == y_height-1 && y_push_enable`).
//!   Those Y rows are used up without being pushed for their block; the Y stream, which reads
//!   each block's rows once, ends (source idle, Y FIFO empty) with the Z buffer `EMPTY`, and the
//!   scheduler stalls on `y_miss` (`!z_loaded`) for ever with no port request.
//!   Verilator (51cd064 built with ARRAY_WIDTH 8, ARRAY_HEIGHT 8, PIPE_REGS 1, with a test bench
//!   replaying the model's refused cycles) deadlocked on every pattern on which the model does:
//!   the 27 of 1,000 bursty patterns (25 % refused, runs of refusals, `examples/refusal_sweep.rs`)
//!   that deadlock 25 x 33 x 17, and the 8 of 2,000 (bursty and independent) that deadlock
//!   33 x 20 x 33. The RTL's per-cycle trace equalled the model's with
//!   [`Schedule::with_rtl_request_retirement`] on all 35, and with hold-until-grant on 32 (on the
//!   other 3 the RTL retires a refused request; both deadlock). On 12 x 4 x 3, 8 x 4 x 3 and
//!   12 x 2 x 7 hold-until-grant never deadlocked on 20,000 seeded patterns per geometry (10
//!   shapes, bursty and independent refusals), always with the accesses of the always-granting
//!   run. The model stops where the RTL does ([`Schedule::deadlocked`],
//!   [`Schedule::deadlock_report`]) instead of inventing a completion.
//!
//! Where the model departs from the RTL:
//! - Hold-until-grant. The `hci_core_fifo` of a load stream retires a request that the port
//!   refused if its response FIFO has filled up meanwhile (the streamer waives HCI's RQ-4
//!   NORETIRE rule), and `hci_core_mux_ooo` then keeps its winner (`winner_q`) locked on the
//!   retired channel while the others request. Under Verilator the RTL with 2 % of its grants
//!   refused never finished 96^3 (6 of 6 runs); a single refused X request at the wrong cycle is
//!   enough. By default the model keeps a refused port request asserted until granted (the HCI
//!   contract the platform's interconnect relies on), which removes the lock-up and changes
//!   nothing when the memory always grants: with 2 % refused grants 96^3 then takes 18542 to
//!   18559 cycles (the reference quotes 18546 to 18553 for the RTL). With
//!   [`Schedule::with_rtl_request_retirement`] the model follows the RTL instead; it then matched
//!   Verilator cycle for cycle on every refusal pattern tried (lock-ups included).
//!   Hold-until-grant also needs two guards against lock-ups that only refusals expose (both
//!   inert while the memory always grants, so the calibration and the traces are unchanged): a
//!   row block whose fill ends while the Z buffer is still storing the previous one is pushed
//!   after it instead of being dropped (`z_push_defer`), and once a request has been refused a
//!   multiplexer re-arbitrates when its locked winner withdraws its request (`Mux::winner`).
//! - Each job has its own registers (the RTL's tiler reads the running context's).
//! - After the event the memory scheduler keeps its counters. The RTL resets them on
//!   `cntrl_scheduler_o.rst` (FINISHED), so an X stream still running then (only under refused
//!   grants) is given the reset offsets and length, reads words that the idle scheduler never
//!   takes and never ends; the model lets it end as programmed, so the job drains.
//!
//! Speed: in the steady state of a job the register model is not evaluated: a period already
//! seen (one X chunk) is replayed with its addresses moved on, with the same outputs in every
//! cycle and the full model taking over at the first refused grant (`schedule/replay.rs`, with
//! the argument; [`Schedule::with_steady_state_replay`] turns it off).
//!
//! Verification: besides the calibration table and the two reference traces, the per-cycle port
//! trace (each request with its address and grant, the stall cycles, the event cycle) was compared
//! with a Verilator simulation of the same RTL (51cd064 with the dependency revisions of its
//! `Bender.lock`), and was identical on: 700 FP16 GEMM shapes with leftovers in M, N and K (the
//! deadlocking ones included), 120 shapes with misaligned bases, 80 shapes on each of the
//! geometries 8 x 4 x 3, 8 x 8 x 1 and 12 x 2 x 7 (rows x CEs x pipeline registers), MATMUL
//! (single tile; multi-tile MATMUL deadlocks in both), ARITH written 1 to 27 cycles before
//! TRIGGER, and recorded refusal patterns (with [`Schedule::with_rtl_request_retirement`]).
//! `tests/schedule_calibration.rs` keeps the checks that need no simulator. Not exercised: ARITH
//! written 30 or more cycles before TRIGGER (the `hwpe_ctrl_slave` path then decides the start;
//! derived from the RTL only).

mod replay;

pub use replay::Ahead;

/// Array geometry (RTL parameters of `redmule_top.sv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Rows of CEs (`ARRAY_WIDTH`, "Width" in the RTL): output rows per tile (count), 12.
    pub rows: u32,
    /// CEs per row (`ARRAY_HEIGHT`, "Height" in the RTL) (count), 4.
    pub cols: u32,
    /// Pipeline registers per CE (`PIPE_REGS`) (count), 3.
    pub stages: u32,
}

impl Geometry {
    /// The paper / RTL default instance: 12 x 4 CEs, 3 pipeline registers.
    pub const REDMULE: Geometry = Geometry {
        rows: 12,
        cols: 4,
        stages: 3,
    };

    /// Elements per memory word and output columns per tile (`TOT_DEPTH` = H * (P + 1)).
    pub fn depth(&self) -> u32 {
        self.cols * (self.stages + 1)
    }
}

impl Default for Geometry {
    fn default() -> Self {
        Self::REDMULE
    }
}

/// One job: `Z[MxK] = X[MxN] * W[NxK]` (+ Y = Z), dense row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobShape {
    /// Rows of X and Z.
    pub m: u32,
    /// Columns of X, rows of W.
    pub n: u32,
    /// Columns of W and Z.
    pub k: u32,
    /// Byte address of X.
    pub x: u32,
    /// Byte address of W.
    pub w: u32,
    /// Byte address of Z (Y is read from here).
    pub z: u32,
    /// Bytes per element in memory: 2 (FP16) or 1 (FP8).
    pub elem_bytes: u32,
}

/// Start-up information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartInfo {
    /// Cycles from the (granted) ARITH register write to the TRIGGER write (1 when the registers
    /// are written back to back, as in the calibration runs).
    pub arith_to_trigger: u32,
    /// Whether the op reads Y (every GEMM-Op except MATMUL; `OP_SELECTION[0]`).
    pub reads_y: bool,
}

impl Default for StartInfo {
    fn default() -> Self {
        StartInfo {
            arith_to_trigger: 1,
            reads_y: true,
        }
    }
}

/// Which stream an access belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    X,
    W,
    Y,
    Z,
}

/// One 288-bit port access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WideAccess {
    /// Word-aligned byte address presented on the port (`{addr[31:2], 2'b0}`).
    pub addr: u32,
    /// Byte address of the first valid byte (the port realigns inside the beat).
    pub byte_addr: u32,
    /// Store (Z) or load.
    pub write: bool,
    pub stream: Stream,
    /// Row block of Z (12-row tile index along M). For W: the row block this pass serves.
    pub tile_m: u32,
    /// Column block of Z / W (16-column tile index along K).
    pub tile_k: u32,
    /// Row inside the tile: X/Y/Z the row of the 12-row block, W the row `n` of W.
    pub row: u32,
    /// X only: the 16-column chunk of N this row slice belongs to (0 otherwise).
    pub chunk: u32,
    /// Valid bytes (reads: a whole data word; writes: the byte enables of `z_height` elements).
    pub bytes: u32,
}

/// Why the CE array is frozen this cycle (`stall_engine` in `redmule_scheduler.sv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// The next W row is not in the W FIFO.
    WMissing,
    /// A new X chunk starts and the X buffer is not full.
    XNotFull,
    /// Results emerge and the Y rows are not loaded in the Z buffer.
    YMissing,
    Other(&'static str),
}

/// What happens in one cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CycleOut {
    /// The request on the port this cycle (hold it until granted).
    pub req: Option<WideAccess>,
    /// The CE array is stalled this cycle.
    pub stall: Option<Stall>,
    /// The completion event is visible this cycle.
    pub done: bool,
}

// ------------------------------------------------------------------------------------------------
// Small building blocks
// ------------------------------------------------------------------------------------------------

/// What travels with an address or a data word through the FIFOs (the model carries no data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Meta {
    addr: u32,
    row: u32,
    tile_m: u32,
    tile_k: u32,
    chunk: u32,
    bytes: u32,
}

/// `hwpe_stream_fifo.sv`: `ready` while not FULL, `valid` while not EMPTY, one cycle of latency,
/// a FULL FIFO refuses a push even if popped in the same cycle. Equivalent to a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fifo {
    buf: [Meta; 4],
    head: usize,
    len: usize,
    depth: usize,
}

impl Fifo {
    fn new(depth: usize) -> Self {
        // Depths 2 and 4: the ring index wraps with a mask.
        assert!(depth <= 4 && depth.is_power_of_two());
        Fifo {
            buf: [Meta::default(); 4],
            head: 0,
            len: 0,
            depth,
        }
    }
    fn valid(&self) -> bool {
        self.len > 0
    }
    fn front(&self) -> Meta {
        self.buf[self.head]
    }
    /// `ready` (not full) of a FIFO of depth `D`: every FIFO's depth is a constant of its call
    /// sites ([`ADDR_DEPTH`], [`REQ_DEPTH`], [`STORE_DEPTH`], [`TOP_Z_DEPTH`]), which the
    /// per-cycle paths compare with instead of loading the field.
    #[inline(always)]
    fn ready_d<const D: usize>(&self) -> bool {
        debug_assert_eq!(self.depth, D);
        self.len < D
    }
    /// Apply one cycle to a FIFO of depth `D` ([`Fifo::ready_d`]): pop (if `pop` and valid),
    /// push (if `push` is Some and ready), both decided on the state at the start of the cycle.
    #[inline(always)]
    fn update_d<const D: usize>(&mut self, pop: bool, push: Option<Meta>) {
        let can_push = self.ready_d::<D>();
        if pop && self.valid() {
            self.head = (self.head + 1) & (D - 1);
            self.len -= 1;
        }
        if let Some(m) = push {
            if can_push {
                let tail = (self.head + self.len) & (D - 1);
                self.buf[tail] = m;
                self.len += 1;
            }
        }
    }
}

/// Depths of the FIFOs with metadata: a source's address FIFO (`hci_core_source.sv`) and the
/// Z sink's, a source's request FIFO (`hci_core_fifo`), the Z sink's store FIFO, and the Z
/// stream FIFO of `redmule_top.sv`.
const ADDR_DEPTH: usize = 2;
const REQ_DEPTH: usize = 4;
const STORE_DEPTH: usize = 2;
const TOP_Z_DEPTH: usize = 2;
/// Depth of the X, W and Y stream FIFOs of `redmule_top.sv`.
const TOP_DEPTH: u8 = 4;

/// A [`Fifo`] whose entries carry nothing the model reads (the stream FIFOs of X, W and Y in
/// `redmule_top.sv`, all of depth [`TOP_DEPTH`]): only its occupancy, with the same
/// valid/ready/update rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CountFifo {
    len: u8,
}

impl CountFifo {
    const EMPTY: CountFifo = CountFifo { len: 0 };
    fn valid(&self) -> bool {
        self.len > 0
    }
    #[inline(always)]
    fn ready(&self) -> bool {
        self.len < TOP_DEPTH
    }
    /// As [`Fifo::update_d`].
    fn update(&mut self, pop: bool, push: bool) {
        let can_push = self.ready();
        if pop && self.valid() {
            self.len -= 1;
        }
        if push && can_push {
            self.len += 1;
        }
    }
}

/// `hwpe_stream_addressgen_v3.sv` with two enabled dimensions (d2 only adds its stride).
#[derive(Clone, Copy, Debug, Default)]
struct AddrGenCtrl {
    base: u32,
    tot_len: u32,
    d0_len: u32,
    d0_stride: u32,
    d1_len: u32,
    d1_stride: u32,
    d2_stride: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AddrGen {
    /// Indices standing for `d0_addr_q`..`d2_addr_q` (address = base + i * stride).
    i0: u32,
    i1: u32,
    i2: u32,
    c0: u32,
    c1: u32,
    overall: u32,
    valid: bool,
}

impl AddrGen {
    fn reset() -> Self {
        AddrGen {
            i0: 0,
            i1: 0,
            i2: 0,
            c0: 0,
            c1: 1,
            overall: 0,
            valid: false,
        }
    }
    fn addr(&self, c: &AddrGenCtrl) -> u32 {
        c.base
            .wrapping_add(self.i0.wrapping_mul(c.d0_stride))
            .wrapping_add(self.i1.wrapping_mul(c.d1_stride))
            .wrapping_add(self.i2.wrapping_mul(c.d2_stride))
    }
    /// `flags_o.done`: the output is ready and all addresses were generated.
    fn done_flag(&self, ready: bool, tot_len: u32) -> bool {
        ready && self.overall >= tot_len
    }
    /// One clock edge. Returns which registers were set to a constant instead of stepping
    /// (clear, presample, a dimension wrapping; bits: `i0`, `i1`, `i2`, `c0`, `c1`, `overall`):
    /// the steady-state replay needs to know (see `replay.rs`).
    fn clock(
        &mut self,
        c: &AddrGenCtrl,
        ready: bool,
        enable: bool,
        clear: bool,
        presample: bool,
    ) -> u32 {
        if clear {
            *self = Self::reset();
            return 0b11_1111;
        }
        if !enable {
            // Only the presampled first index moves.
            if presample {
                self.i0 = 0;
            }
            return u32::from(presample);
        }
        let mut set = 0;
        if ready {
            if self.overall < c.tot_len {
                self.valid = true;
                if self.c0 < c.d0_len {
                    self.i0 += 1;
                    self.c0 += 1;
                } else if self.c1 < c.d1_len {
                    self.i0 = 0;
                    self.i1 += 1;
                    self.c0 = 1;
                    self.c1 += 1;
                    set = 0b1001;
                } else {
                    // d2 is not enabled (`dim_enable_1h = 2'b11`): d0 and d1 restart, d2 steps.
                    self.i0 = 0;
                    self.i1 = 0;
                    self.i2 += 1;
                    self.c0 = 1;
                    self.c1 = 1;
                    set = 0b1_1011;
                }
                self.overall += 1;
            } else {
                self.valid = false;
            }
        }
        if presample {
            self.i0 = 0;
        }
        set | u32::from(presample)
    }
}

/// `hci_streamer_state_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SState {
    Idle,
    Working,
    Done,
}

/// One `hci_core_source` with the `hci_core_fifo` (depth 4) in front of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Source {
    cs: SState,
    ag: AddrGen,
    addr_fifo: Fifo,
    stream_cnt: u32,
    /// Request FIFO of the `hci_core_fifo` (towards the port).
    req_fifo: Fifo,
    /// Response FIFO of the `hci_core_fifo` (only its occupancy matters).
    resp_len: usize,
    /// `tcdm_initiator_r_valid_q` of the `hci_core_fifo`.
    r_valid_q: bool,
}

impl Source {
    fn new() -> Self {
        Source {
            cs: SState::Idle,
            ag: AddrGen::reset(),
            addr_fifo: Fifo::new(ADDR_DEPTH),
            stream_cnt: 0,
            req_fifo: Fifo::new(REQ_DEPTH),
            resp_len: 0,
            r_valid_q: false,
        }
    }
}

/// Combinational values of one source in the current cycle.
#[derive(Clone, Copy, Debug, Default)]
struct SourceComb {
    req_start: bool,
    ag_enable: bool,
    ag_clear: bool,
    next: Option<SState>,
    done: bool,
    /// Address FIFO pop + request FIFO push (`tcdm.req & tcdm.gnt` on the source side).
    issue: bool,
    /// Stream handshake into the top-level stream FIFO.
    stream_hs: bool,
    /// Request towards the multiplexer (`hci_core_fifo` initiator `req`).
    mux_req: bool,
    /// Response arriving this cycle (`r_valid` at the `hci_core_fifo` initiator side).
    r_valid: bool,
    /// Response FIFO push this cycle.
    resp_push: bool,
}

/// `hci_core_mux_ooo.sv` arbitration state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Mux {
    rr_counter: u32,
    winner_q: u32,
    rr_en_q: bool,
    any_req_q: bool,
}

impl Mux {
    /// `winner_d` for the requests `req` (bit i = channel i) of `n` channels, and whether the
    /// round-robin counter decided it (two or more requests arbitrated, not forced; the replay
    /// needs to know, see `replay.rs`).
    fn winner(&self, n: u32, req: u32, forced: bool, hold: bool) -> (u32, bool) {
        // Re-arbitrate only after a handshake or a cycle without requests. With hold-until-grant
        // (`hold`, model departure, see the module docs) also when the locked winner has
        // withdrawn its request: a load stream's `hci_core_fifo` withholds its request while its
        // response FIFO is full even if it has not been on the port (it won this multiplexer but
        // lost the next one). Locked on it, the Y/Z multiplexer starves the Z stores while the
        // Y stream waits for the Z buffer to empty, which needs those stores: a lock-up with no
        // port request (36 x 16 x 48 at 34 % random refusals). With the memory always granting
        // nothing changes (`hold` is only set once a request has been refused).
        if !self.rr_en_q && self.any_req_q && (!hold || req & (1 << self.winner_q) != 0) {
            return (self.winner_q, false);
        }
        // The loop in the RTL scans priorities from the last to the first and keeps the last
        // match: the first entry of `rr_priority_d` that requests wins (none: `rr_counter`).
        // The priorities are the channels in order from `rr_counter` (round robin), or from 0
        // when forced (`priority_i = {1, 0}` of the Y/Z multiplexer).
        let mask = (1u32 << n) - 1;
        let req = req & mask;
        if req == 0 {
            return (self.rr_counter, false);
        }
        if forced {
            return (req.trailing_zeros(), false);
        }
        let r = self.rr_counter;
        let rotated = ((req >> r) | (req << (n - r))) & mask;
        let w = r + rotated.trailing_zeros();
        let used = req & (req - 1) != 0;
        (if w >= n { w - n } else { w }, used)
    }
    fn clock(&mut self, n: u32, winner: u32, any_req: bool, handshake: bool) {
        if handshake {
            self.rr_counter = if self.rr_counter == n - 1 {
                0
            } else {
                self.rr_counter + 1
            };
        }
        self.winner_q = winner;
        self.rr_en_q = handshake;
        self.any_req_q = any_req;
    }
}

// ------------------------------------------------------------------------------------------------
// Configuration computed by the tiler
// ------------------------------------------------------------------------------------------------

/// The register file produced by `redmule_tiler.sv` (field names follow the RTL).
#[derive(Clone, Copy, Debug)]
struct Params {
    h: u32,
    wd: u32,
    p: u32,
    d: u32,
    x_rows_iter: u32,
    x_cols_iter: u32,
    w_rows_iter: u32,
    w_cols_iter: u32,
    x_rows_lftovr: u32,
    w_rows_lftovr: u32,
    w_cols_lftovr: u32,
    /// The iteration count at which each leftover applies: `*_iter - 1` when the leftover is
    /// non-zero, else `u32::MAX`, which no counter reaches (they are bounded by 16-bit sizes).
    /// Hoisted from the per-cycle `cnt == iter - 1 && lftovr != 0` tests of the scheduler.
    x_rows_last: u32,
    x_cols_last: u32,
    w_rows_last: u32,
    w_cols_last: u32,
    x_slots: u32,
    tot_x_read: u32,
    x_d1_stride: u32,
    x_rows_offs: u32,
    jmp: u32,
    word_bytes: u32,
    eb: u32,
    gemm: bool,
    x: u32,
    /// Address generator controls of W and of Y/Z (invariant over the job).
    w_ctrl: AddrGenCtrl,
    yz_ctrl: AddrGenCtrl,
    /// Counter masks: `w_index_q` of the X buffer ($clog2(W)+1 bits), `pad_read_cnt`
    /// ($clog2(TOT_DEPTH)+1 bits), `buf_write_cnt`, and the D-wide counters.
    x_w_index_mask: u32,
    pad_read_mask: u32,
    buf_write_mask: u32,
    d_mask: u32,
}

/// Most Z stores a job can have: `hci_core_sink.sv` counts the stores it issued in a
/// `TRANS_CNT` = 16-bit register (`address_cnt_q`) and ends its stream only when that count equals
/// the 32-bit `tot_len` (`Z_TOT_LEN`, `redmule_tiler.sv`: `ARRAY_WIDTH * x_rows_iter * w_cols_iter`),
/// so with more stores the sink never reports `done`, the controller (`redmule_ctrl.sv`) never
/// leaves COMPUTING and no event is raised (checked under Verilator, see the module docs).
pub const Z_STORES_MAX: u32 = 0xffff;

/// Most X chunk reads a job can have: `redmule_memory_scheduler.sv` restarts the X stream while
/// its 16-bit `tot_x_read_q` is below the 32-bit `TOT_X_READ` (`redmule_tiler.sv`:
/// `x_rows_iter * w_cols_iter * x_cols_iter`); past 65,535 the counter wraps and X is started
/// again after the job's last chunk, a stream that nothing consumes and that never ends. Under
/// Verilator 768 x 256 x 1024 (65,536 chunks) still raised its event at the model's cycle
/// (4,194,448 in trace numbering) after the model's 1,884,179 reads, 19 of them that extra X
/// stream; the model then never drains (that stream does not end), and the RTL's next job
/// would find the X source busy. Such jobs are refused rather than given an invented end.
pub const X_CHUNKS_MAX: u32 = 0xffff;

/// Check a job against the RTL's limits on an array of geometry `g` without building a
/// schedule: the geometry and shape rules of [`Schedule::new`], among them the RTL's 16-bit
/// counters ([`Z_STORES_MAX`], [`X_CHUNKS_MAX`], `w_rows_iter`).
pub fn check_job(g: Geometry, j: &JobShape) -> Result<(), String> {
    Params::new(g, *j, StartInfo::default()).map(|_| ())
}

/// Words the W stream of a job reads (`W_TOT_LEN` of `redmule_tiler.sv`: `ceil(M / rows) *
/// ceil(K / D) * N` rounded up to `cols`). Past 65,535 the job completes but its W source stays in
/// STREAMER_DONE (`hci_core_source.sv`: the 16-bit `stream_cnt_q` never equals `tot_len`) until a
/// clear, and ignores the next job's start (Verilator: 12 x 16 x 16 after 24 x 32765 x 16 had
/// no event after 300,000 cycles; with a SOFT_CLEAR before it, it raised its event).
pub fn w_stream_words(g: Geometry, j: &JobShape) -> u64 {
    let d = g.depth();
    u64::from(j.m.div_ceil(g.rows))
        * u64::from(j.k.div_ceil(d))
        * u64::from(j.n).div_ceil(u64::from(g.cols))
        * u64::from(g.cols)
}

impl Params {
    fn new(g: Geometry, j: JobShape, s: StartInfo) -> Result<Self, String> {
        if g.rows == 0 || g.cols == 0 {
            return Err("geometry: rows and cols must be > 0".into());
        }
        if u64::from(g.cols) * (u64::from(g.stages) + 1) > u64::from(u32::MAX) {
            return Err("geometry: cols x (stages + 1) must fit 32 bits".into());
        }
        if g.rows > g.cols * g.stages {
            return Err(format!(
                "geometry: rows ({}) must be <= cols x stages ({})",
                g.rows,
                g.cols * g.stages
            ));
        }
        if j.m == 0 || j.n == 0 || j.k == 0 {
            return Err("job: M, N and K must be > 0".into());
        }
        if j.elem_bytes != 1 && j.elem_bytes != 2 {
            return Err("job: elem_bytes must be 1 (FP8) or 2 (FP16)".into());
        }
        if j.m > 0xffff || j.n > 0xffff || j.k > 0xffff {
            return Err("job: M, N, K are 16-bit fields".into());
        }
        let (h, wd, p) = (g.cols, g.rows, g.stages);
        let d = g.depth();
        let eb = j.elem_bytes;
        let x_rows_lftovr = j.m % wd;
        let x_cols_lftovr = j.n % d;
        let w_cols_lftovr = j.k % d;
        let w_rows_lftovr = j.n % h;
        let x_rows_iter = j.m / wd + u32::from(x_rows_lftovr != 0);
        let x_cols_iter = j.n / d + u32::from(x_cols_lftovr != 0);
        let w_cols_iter = j.k / d + u32::from(w_cols_lftovr != 0);
        let w_rows_iter = if w_rows_lftovr != 0 {
            j.n + h - w_rows_lftovr
        } else {
            j.n
        };
        let x_slots = x_cols_lftovr.div_ceil(h) * h;
        let last = |iter: u32, lftovr: u32| if lftovr != 0 { iter - 1 } else { u32::MAX };
        let x_d1_stride = eb * j.n;
        let w_d0_stride = eb * j.k;
        let jmp = d * eb;
        if w_rows_iter > 0xffff {
            return Err(format!(
                "job: N = {} rounds up to {w_rows_iter} W rows, past the RTL's 16-bit \
                 `w_rows_iter` (redmule_pkg.sv `redmule_config_t`)",
                j.n
            ));
        }
        // The RTL's limits (see `Z_STORES_MAX`, `X_CHUNKS_MAX`), in 64 bits: the products of
        // 16-bit fields overflow 32.
        let tiles = u64::from(x_rows_iter) * u64::from(w_cols_iter);
        let stores = u64::from(wd) * tiles;
        if stores > u64::from(Z_STORES_MAX) {
            return Err(format!(
                "job: {stores} Z stores (rows {wd} x ceil(M / {wd}) = {x_rows_iter} x \
                 ceil(K / {d}) = {w_cols_iter}) exceed the RTL's limit of {Z_STORES_MAX}: the Z \
                 sink counts its stores in 16 bits (hci_core_sink.sv, TRANS_CNT = 16) and never \
                 ends, so RedMulE never raises its event"
            ));
        }
        let chunks = tiles * u64::from(x_cols_iter);
        if chunks > u64::from(X_CHUNKS_MAX) {
            return Err(format!(
                "job: {chunks} X chunk reads (ceil(M / {wd}) = {x_rows_iter} x ceil(K / {d}) \
                 = {w_cols_iter} x ceil(N / {d}) = {x_cols_iter}) exceed the RTL's limit of \
                 {X_CHUNKS_MAX}: the memory scheduler counts them in 16 bits \
                 (redmule_memory_scheduler.sv `tot_x_read_q`), so X is read again past the job's \
                 last chunk and that stream is left running"
            ));
        }
        // Below both limits every product fits 32 bits (tiles <= 65535, w_rows_iter <= 65535).
        let tot_x_read = chunks as u32;
        let yz_tot_len = stores as u32;
        let w_tot_len = x_rows_iter * w_cols_iter * w_rows_iter;
        let yz_d2_stride = wd * w_d0_stride;
        Ok(Params {
            h,
            wd,
            p,
            d,
            x_rows_iter,
            x_cols_iter,
            w_rows_iter,
            w_cols_iter,
            x_rows_lftovr,
            w_rows_lftovr,
            w_cols_lftovr,
            x_rows_last: last(x_rows_iter, x_rows_lftovr),
            x_cols_last: last(x_cols_iter, x_cols_lftovr),
            w_rows_last: last(w_rows_iter, w_rows_lftovr),
            w_cols_last: last(w_cols_iter, w_cols_lftovr),
            x_slots,
            tot_x_read,
            x_d1_stride,
            x_rows_offs: wd * x_d1_stride,
            jmp,
            word_bytes: d * eb,
            eb,
            gemm: s.reads_y,
            x: j.x,
            w_ctrl: AddrGenCtrl {
                base: j.w,
                tot_len: w_tot_len,
                d0_len: w_rows_iter,
                d0_stride: w_d0_stride,
                d1_len: w_cols_iter,
                d1_stride: jmp,
                d2_stride: 0,
            },
            yz_ctrl: AddrGenCtrl {
                base: j.z,
                tot_len: yz_tot_len,
                d0_len: wd,
                d0_stride: w_d0_stride,
                d1_len: w_cols_iter,
                d1_stride: jmp,
                d2_stride: yz_d2_stride,
            },
            x_w_index_mask: 2 * wd.next_power_of_two() - 1,
            pad_read_mask: 2 * d.next_power_of_two() - 1,
            buf_write_mask: (2 * h).next_power_of_two() * 2 - 1,
            d_mask: d.next_power_of_two() - 1,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// The model
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtrlState {
    Idle,
    Starting,
    Computing,
    Finished,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SchedState {
    Idle,
    Preload,
    LoadW,
    Wait,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum XState {
    Preload,
    FastFill,
    WaitFirstRead,
    /// Unreachable in the RTL (its only entry is dead code in FAST_FILL); kept to mirror the FSM.
    #[allow(dead_code)]
    WaitShift,
    Fill,
    PadEmpty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZState {
    Empty,
    Loaded,
    Pushed,
}

/// Registers of `redmule_scheduler.sv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sched {
    state: SchedState,
    x_cols_iter: u32,
    x_w_iters: u32,
    x_rows_iter: u32,
    x_done: bool,
    x_shift_cnt: u32,
    x_reload: bool,
    x_empty: bool,
    w_rows_iter: u32,
    w_cols_iter: u32,
    w_mat_iters: u32,
    w_done: bool,
    y_cols_iter: u32,
    y_rows_iter: u32,
    z_wait_en: bool,
    z_wait_cnt: u32,
    z_avail_en: bool,
    z_avail_cnt: u32,
    y_push_en: bool,
    y_push_cnt: u32,
    z_width: u32,
    z_height: u32,
    waits_cnt: u32,
    reg_enable: bool,
    first_load: bool,
    computing: bool,
    x_refill: bool,
}

impl Sched {
    /// Reset values (`rst_ni`, `clear_i` and the controller's `cntrl_scheduler_o.rst`).
    const RESET: Sched = Sched {
        state: SchedState::Idle,
        x_cols_iter: 0,
        x_w_iters: 0,
        x_rows_iter: 0,
        x_done: false,
        x_shift_cnt: 0,
        x_reload: false,
        x_empty: false,
        w_rows_iter: 0,
        w_cols_iter: 0,
        w_mat_iters: 0,
        w_done: false,
        y_cols_iter: 0,
        y_rows_iter: 0,
        z_wait_en: false,
        z_wait_cnt: 0,
        z_avail_en: false,
        z_avail_cnt: 0,
        y_push_en: false,
        y_push_cnt: 0,
        z_width: 0,
        z_height: 0,
        waits_cnt: 0,
        reg_enable: false,
        first_load: true,
        computing: false,
        x_refill: false,
    };
}

/// Registers of `redmule_x_buffer.sv` that decide its flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct XBuf {
    state: XState,
    first_block: bool,
    refilling: bool,
    pad_r_addr: u32,
    w_index: u32,
    pad_read_cnt: u32,
    buf_write_cnt: u32,
    h_index_r: u32,
}

/// Registers of `redmule_z_buffer.sv` that decide its flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ZBuf {
    state: ZState,
    fill_shift: u32,
    store_shift: u32,
    w_index: u32,
    d_index: u32,
    /// Hold-until-grant only: a block whose last fill cycle fell in the Pushed state, to be
    /// pushed when the current one is stored (see `eval`).
    push_pending: bool,
}

/// Registers of `redmule_memory_scheduler.sv` (X restarts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MemSched {
    x_cols_iters: u32,
    w_iters: u32,
    x_rows_iters: u32,
    tot_x_read: u32,
    x_cols_offs: u32,
    x_rows_offs: u32,
}

/// Combinational values of the current cycle, computed by `eval` and consumed by `commit`.
#[derive(Clone, Copy, Debug, Default)]
struct Comb {
    // controller
    first_load: bool,
    // scheduler
    stall: bool,
    stall_cause: Option<Stall>,
    sched_next: Option<SchedState>,
    h_shift: bool,
    x_empty_flag: bool,
    x_full: bool,
    x_load: bool,
    x_cols_iter_en: bool,
    x_w_iters_en: bool,
    x_rows_iter_en: bool,
    x_done_en: bool,
    x_reload_en: bool,
    x_reload_rst: bool,
    pad_setup: bool,
    rst_w_index: bool,
    x_slots: u32,
    x_next: Option<XState>,
    buf_write_en: bool,
    pad_read_en: bool,
    w_rows_iter_en: bool,
    w_cols_iter_en: bool,
    w_mat_iters_en: bool,
    w_done_en: bool,
    w_load: bool,
    y_cols_iter_en: bool,
    y_rows_iter_en: bool,
    z_wait_clr: bool,
    z_avail_clr: bool,
    y_push_set: bool,
    y_push_clr: bool,
    y_width: u32,
    y_height: u32,
    start_computation: bool,
    w_loaded: bool,
    // z buffer
    fill: bool,
    y_push_enable: bool,
    load_en_y: bool,
    z_push: bool,
    z_empty_flag: bool,
    /// `z_first_load` decided `z_empty_flag` this cycle (the replay needs to know whether a
    /// period reads it).
    z_first_load_read: bool,
    z_next: Option<ZState>,
    /// Hold-until-grant only: the last fill cycle of a block falls in the Pushed state.
    z_push_defer: bool,
    // streamer
    src: [SourceComb; 3],
    sink_req_start: bool,
    sink_ag_enable: bool,
    sink_ag_clear: bool,
    sink_next: Option<SState>,
    sink_done: bool,
    sink_issue: bool,
    z_store_req: bool,
    yz_req: u32,
    yz_winner: u32,
    ld_req: u32,
    ld_winner: u32,
    port: Option<WideAccess>,
    /// Port channel (0 X, 1 W, 2 YZ) and, for 2, the Y/Z channel (0 Y, 1 Z).
    port_chan: (u32, u32),
}

const X: usize = 0;
const W: usize = 1;
const Y: usize = 2;

/// Address generator controls of load stream `s` (`redmule_memory_scheduler.sv`).
fn src_ctrl(p: &Params, ms: &MemSched, s: usize) -> AddrGenCtrl {
    match s {
        X => AddrGenCtrl {
            base: p
                .x
                .wrapping_add(ms.x_rows_offs)
                .wrapping_add(ms.x_cols_offs),
            // num_x_reads: the leftover rows on the last row block.
            tot_len: if ms.x_rows_iters == p.x_rows_last {
                p.x_rows_lftovr
            } else {
                p.wd
            },
            d0_len: 1,
            d0_stride: 0,
            d1_len: p.wd,
            d1_stride: p.x_d1_stride,
            d2_stride: 0,
        },
        W => p.w_ctrl,
        _ => p.yz_ctrl,
    }
}

/// `tot_len` of [`src_ctrl`] alone.
fn src_tot_len(p: &Params, ms: &MemSched, s: usize) -> u32 {
    match s {
        X => {
            if ms.x_rows_iters == p.x_rows_last {
                p.x_rows_lftovr
            } else {
                p.wd
            }
        }
        W => p.w_ctrl.tot_len,
        _ => p.yz_ctrl.tot_len,
    }
}

/// What travels with the address the generator of stream `s` presents.
fn meta_of(p: &Params, ms: &MemSched, s: usize, ag: &AddrGen, c: &AddrGenCtrl) -> Meta {
    let a = ag.addr(c);
    let (row, tile_m, tile_k, chunk) = match s {
        X => (ag.i1, ms.x_rows_iters, ms.w_iters, ms.x_cols_iters),
        _ => (ag.i0, ag.i2, ag.i1, 0),
    };
    Meta {
        addr: a,
        row,
        tile_m,
        tile_k,
        chunk,
        bytes: p.word_bytes,
    }
}

/// The register-level model of one RedMulE job, evaluated cycle by cycle ([`Schedule`] adds the
/// steady-state replay, `schedule/replay.rs`).
#[derive(Clone, Copy, Debug)]
struct Model {
    prm: Params,
    /// As given to [`Schedule::new`] (for [`Schedule::deadlock_report`]).
    geom: Geometry,
    job: JobShape,
    /// Cycle number of the last evaluated cycle (0 = TRIGGER).
    t: u64,
    /// Cycle at which the controller enters STARTING.
    start_at: u64,
    evaluated: bool,
    c: Comb,
    ctrl: CtrlState,
    sink_done_q: bool,
    evt: bool,
    finished: bool,
    ms: MemSched,
    sched: Sched,
    xb: XBuf,
    zb: ZBuf,
    src: [Source; 3],
    sink_cs: SState,
    sink_ag: AddrGen,
    sink_addr_fifo: Fifo,
    sink_addr_cnt: u32,
    store_fifo: Fifo,
    top: [CountFifo; 3],
    top_z: Fifo,
    yz_mux: Mux,
    ld_mux: Mux,
    /// Stream whose read was granted in the previous cycle (response arrives this cycle).
    resp: Option<usize>,
    /// Load stream whose request was on the port in the previous cycle and refused.
    port_refused: Option<usize>,
    /// Consecutive cycles of a running job without any port request (deadlock detection).
    quiet: u32,
    /// Reproduce the RTL's request retirement after a refusal (see the module docs).
    rtl_retire: bool,
    /// The memory has refused a port request in this job (hold-until-grant multiplexer unlock).
    refused_any: bool,
    /// Replay bookkeeping (`replay.rs`): which progress registers were set to a constant
    /// (wrapped, cleared) instead of stepping since the last period boundary, one bit each.
    resets: u64,
    /// The X source was started in the last committed cycle (a period boundary for the replay).
    x_started: bool,
}

/// A running job that issues no port request for this many cycles is deadlocked: nothing else
/// can move it (the longest legitimate gap is the 37-cycle start-up, before the job runs).
const DEADLOCK_QUIET_CYCLES: u32 = 1024;

impl Model {
    /// A model for `job` on an array of geometry `geom`.
    fn new(geom: Geometry, job: JobShape, start: StartInfo) -> Result<Self, String> {
        let prm = Params::new(geom, job, start)?;
        // Tiler valid 34 cycles after ARITH; slave_start usable 4 cycles after TRIGGER; the
        // controller enters STARTING the cycle after both hold (see the module docs).
        let tiler_valid = 34i64 - i64::from(start.arith_to_trigger);
        let start_at = (tiler_valid.max(4) + 1) as u64;
        Ok(Model {
            prm,
            geom,
            job,
            t: 0,
            start_at,
            evaluated: false,
            c: Comb::default(),
            ctrl: CtrlState::Idle,
            sink_done_q: false,
            evt: false,
            finished: false,
            ms: MemSched::default(),
            sched: Sched::RESET,
            xb: XBuf {
                state: XState::Preload,
                first_block: false,
                refilling: true,
                pad_r_addr: 0,
                w_index: 0,
                pad_read_cnt: 0,
                buf_write_cnt: 0,
                h_index_r: 0,
            },
            zb: ZBuf {
                state: ZState::Empty,
                fill_shift: 0,
                store_shift: 0,
                w_index: 0,
                d_index: 0,
                push_pending: false,
            },
            src: [Source::new(); 3],
            sink_cs: SState::Idle,
            sink_ag: AddrGen::reset(),
            sink_addr_fifo: Fifo::new(ADDR_DEPTH),
            sink_addr_cnt: 0,
            store_fifo: Fifo::new(STORE_DEPTH),
            top: [CountFifo::EMPTY; 3],
            top_z: Fifo::new(TOP_Z_DEPTH),
            yz_mux: Mux::default(),
            ld_mux: Mux::default(),
            resp: None,
            port_refused: None,
            quiet: 0,
            rtl_retire: false,
            refused_any: false,
            resets: 0,
            x_started: false,
        })
    }

    /// Cycle number (from TRIGGER) of the next call to [`Model::cycle`].
    fn now(&self) -> u64 {
        if self.evaluated {
            self.t + 1
        } else {
            self.t
        }
    }

    /// See [`Schedule::is_drained`].
    fn is_drained(&self) -> bool {
        self.finished
            && self.c.port.is_none()
            && self.store_fifo.len == 0
            && self.top_z.len == 0
            && self
                .src
                .iter()
                .enumerate()
                .all(|(i, s)| s.req_fifo.len == 0 && (s.cs == SState::Idle || self.stuck_done(i)))
    }

    /// A load stream of more than 65,535 words (W, `W_TOT_LEN`) issues all its addresses (the
    /// address generator's counters are 32 bits) but `hci_core_source.sv` counts the words it
    /// streamed in a 16-bit `stream_cnt_q` and leaves STREAMER_DONE only when that count equals
    /// the 32-bit `tot_len`: the source stays in DONE, with nothing left to issue, until a clear.
    /// The job itself completes (Verilator: 256 x 256 x 256 and 24 x 32765 x 16 raise their
    /// event at the model's cycle), so such a source counts as drained.
    fn stuck_done(&self, i: usize) -> bool {
        let s = &self.src[i];
        let tot_len = src_tot_len(&self.prm, &self.ms, i);
        s.cs == SState::Done && tot_len > 0xffff && s.ag.overall >= tot_len && !s.addr_fifo.valid()
    }

    /// See [`Schedule::may_end_next`]; `max_quiet`: the largest `quiet` of a replayed period
    /// that ends in this model (0 without one).
    fn may_end_next(&self, max_quiet: u32) -> bool {
        // The event is reported in the evaluation after the commit that leaves `Finished`
        // (or still pending); with a period replayed, the model is the one at the period's
        // end, which the last replayed cycle hands over to.
        let event = self.ctrl == CtrlState::Finished || (self.evt && !self.finished);
        // `quiet` grows by one per cycle at most: in a replayed period the recorded values
        // (at most the template's largest), at its end the model's own goes on, and a
        // refusal falls back after a cycle with a request (quiet 0).
        let quiet = max_quiet.max(self.quiet);
        event || quiet.saturating_add(1) >= DEADLOCK_QUIET_CYCLES
    }

    /// See [`Schedule::deadlocked`].
    fn deadlocked(&self) -> bool {
        self.quiet >= DEADLOCK_QUIET_CYCLES
    }

    /// See [`Schedule::deadlock_report`].
    fn deadlock_report(&self) -> String {
        deadlock_report(
            self.geom,
            self.job,
            self.t,
            self.c.stall_cause,
            self.refused_any,
        )
    }

    /// One clock cycle (see [`Schedule::cycle`]): [`Model::commit_phase`] then
    /// [`Model::eval_phase`].
    fn cycle(&mut self, prev_granted: bool) -> CycleOut {
        self.commit_phase(prev_granted);
        self.eval_phase()
    }

    /// The register update ending the previous cycle (nothing before the first one).
    fn commit_phase(&mut self, prev_granted: bool) {
        if self.evaluated {
            let g = self.c.port.is_some() && prev_granted;
            self.commit(g);
            self.t += 1;
        }
    }

    /// The combinational evaluation of the current cycle and its outputs.
    fn eval_phase(&mut self) -> CycleOut {
        self.eval();
        self.evaluated = true;
        let busy = matches!(self.ctrl, CtrlState::Starting | CtrlState::Computing);
        self.quiet = if busy && self.c.port.is_none() {
            self.quiet.saturating_add(1)
        } else {
            0
        };
        let done = self.evt && !self.finished;
        if done {
            self.finished = true;
        }
        CycleOut {
            req: self.c.port,
            stall: self.c.stall_cause,
            done,
        }
    }

    // --------------------------------------------------------------------------------------------
    // Source address generator controls (`redmule_memory_scheduler.sv`)
    // --------------------------------------------------------------------------------------------

    // --------------------------------------------------------------------------------------------
    // Combinational evaluation of the current cycle
    // --------------------------------------------------------------------------------------------

    fn eval(&mut self) {
        let p = &self.prm;
        let c = &mut self.c;
        *c = Comb::default();
        let s = &self.sched;

        // ---- redmule_ctrl.sv
        c.first_load = self.ctrl == CtrlState::Starting;
        let ctrl_idle = self.ctrl == CtrlState::Idle;

        // ---- redmule_top.sv stream FIFOs
        let x_valid = self.top[X].valid();
        let w_valid = self.top[W].valid();
        let y_valid = self.top[Y].valid();
        let z_ready = self.top_z.ready_d::<TOP_Z_DEPTH>();

        // ---- redmule_scheduler.sv: leftovers
        c.y_width = if s.y_rows_iter == p.w_rows_last {
            p.w_rows_lftovr
        } else {
            p.wd
        };
        c.y_height = if s.y_cols_iter == p.w_cols_last {
            p.w_cols_lftovr
        } else {
            p.d
        };
        let x_last_chunk = s.x_cols_iter == p.x_cols_last;
        c.x_slots = if x_last_chunk { p.x_slots } else { p.d };
        let x_width = if s.x_rows_iter == p.x_rows_last {
            p.x_rows_lftovr
        } else {
            p.wd
        };

        // ---- redmule_z_buffer.sv: loaded flag
        let zb = &self.zb;
        let z_loaded = (zb.state == ZState::Empty
            && i64::from(zb.w_index) == i64::from(c.y_width) - 1
            && y_valid)
            || zb.state == ZState::Loaded;

        // ---- redmule_x_buffer.sv: full flag
        c.x_full = self.xb.w_index == x_width;

        // ---- redmule_scheduler.sv: stall_engine
        let in_load_w = s.state == SchedState::LoadW;
        let w_miss = !w_valid && !s.w_done;
        let x_miss = !c.x_full && s.x_refill && s.x_shift_cnt == p.h - 1 && !s.x_done;
        let y_miss = !z_loaded && s.z_wait_cnt == p.p && !s.w_done;
        c.stall = in_load_w && (w_miss || x_miss || y_miss);
        c.stall_cause = if !c.stall {
            None
        } else if w_miss {
            Some(Stall::WMissing)
        } else if x_miss {
            Some(Stall::XNotFull)
        } else {
            Some(Stall::YMissing)
        };
        let next = match s.state {
            SchedState::Idle => {
                if c.first_load {
                    SchedState::Preload
                } else {
                    SchedState::Idle
                }
            }
            SchedState::Preload => {
                if c.x_full && (z_loaded || !p.gemm) {
                    SchedState::LoadW
                } else {
                    SchedState::Preload
                }
            }
            SchedState::LoadW => {
                if !c.stall {
                    SchedState::Wait
                } else {
                    SchedState::LoadW
                }
            }
            SchedState::Wait => {
                if s.waits_cnt == p.p && !c.stall {
                    SchedState::LoadW
                } else {
                    SchedState::Wait
                }
            }
        };
        c.sched_next = Some(next);
        let start = s.state == SchedState::Idle && c.first_load;
        c.start_computation = s.first_load && next == SchedState::LoadW && !c.stall;
        c.w_loaded = in_load_w && !c.stall;

        // X shift and the X buffer's empty flag
        c.h_shift = in_load_w && !c.stall;
        let xb = &self.xb;
        let pad_read_cnt_rst = xb.pad_read_cnt >= c.x_slots && c.h_shift;
        c.x_empty_flag = pad_read_cnt_rst;

        // X iteration counters
        c.x_cols_iter_en = c.x_empty_flag;
        c.x_w_iters_en = c.x_cols_iter_en && s.x_cols_iter == p.x_cols_iter - 1;
        c.x_rows_iter_en = s.x_w_iters == p.w_cols_iter - 1 && c.x_w_iters_en;
        c.x_done_en = c.x_rows_iter_en && s.x_rows_iter == p.x_rows_iter - 1;

        // X reload
        c.x_reload_en = start || c.x_cols_iter_en || (s.x_empty && !c.x_full);
        c.x_reload_rst = c.x_full && !c.x_reload_en;
        c.pad_setup = s.state == SchedState::Preload && next == SchedState::LoadW;
        c.x_load = (s.x_reload && !c.x_reload_rst) && x_valid;
        c.rst_w_index = in_load_w && s.x_shift_cnt == p.h - 1 && c.x_full && !c.stall;

        // X buffer FSM
        c.buf_write_en = (xb.state == XState::FastFill || (xb.state == XState::Fill && c.h_shift))
            && !xb.refilling;
        c.pad_read_en = c.buf_write_en || c.pad_setup;
        let x_next = match xb.state {
            XState::Preload => {
                if c.pad_setup {
                    XState::FastFill
                } else {
                    XState::Preload
                }
            }
            XState::FastFill => {
                if i64::from(xb.pad_r_addr) == i64::from(xb.buf_write_cnt) - 1
                    && (!c.h_shift || xb.first_block || xb.pad_read_cnt == c.x_slots)
                {
                    if xb.pad_read_cnt == c.x_slots {
                        if !c.x_full {
                            XState::PadEmpty
                        } else {
                            XState::WaitFirstRead
                        }
                    } else if xb.first_block {
                        XState::WaitFirstRead
                    } else {
                        XState::Fill
                    }
                } else {
                    XState::FastFill
                }
            }
            XState::WaitFirstRead => {
                if xb.h_index_r == p.h - 1 && c.h_shift {
                    if pad_read_cnt_rst {
                        XState::PadEmpty
                    } else {
                        XState::Fill
                    }
                } else {
                    XState::WaitFirstRead
                }
            }
            XState::WaitShift => {
                if c.h_shift {
                    XState::PadEmpty
                } else {
                    XState::WaitShift
                }
            }
            XState::Fill => {
                if c.x_empty_flag && !c.x_full {
                    XState::PadEmpty
                } else {
                    XState::Fill
                }
            }
            XState::PadEmpty => {
                if c.x_full {
                    if xb.buf_write_cnt != 0 || c.h_shift {
                        XState::FastFill
                    } else {
                        XState::Fill
                    }
                } else {
                    XState::PadEmpty
                }
            }
        };
        c.x_next = Some(x_next);

        // W iteration counters and W buffer
        c.w_rows_iter_en = in_load_w && w_valid && !c.stall;
        c.w_cols_iter_en = s.w_rows_iter == p.w_rows_iter - 1 && c.w_rows_iter_en;
        c.w_mat_iters_en = s.w_cols_iter == p.w_cols_iter - 1 && c.w_cols_iter_en;
        c.w_done_en = c.w_mat_iters_en && s.w_mat_iters == p.x_rows_iter - 1;
        c.w_load = in_load_w && !c.stall;

        // Z / Y timing counters
        c.z_wait_clr = s.z_wait_en && !c.stall && s.z_wait_cnt == p.p;
        c.z_avail_clr =
            s.z_avail_en && !c.stall && i64::from(s.z_avail_cnt) == i64::from(s.z_height) - 1;
        c.y_push_set = (s.z_wait_en && !c.stall && i64::from(s.z_wait_cnt) == i64::from(p.p) - 1)
            || c.start_computation;
        c.y_push_clr =
            s.y_push_en && !c.stall && i64::from(s.y_push_cnt) == i64::from(c.y_height) - 1;
        c.y_push_enable = s.y_push_en && !c.stall;
        c.fill = s.z_avail_en && s.reg_enable;
        let z_first_load = s.y_cols_iter == 0 && s.y_rows_iter == 0;

        // ---- redmule_z_buffer.sv
        c.load_en_y = zb.state == ZState::Empty && !c.fill && zb.d_index == 0 && zb.fill_shift == 0;
        let store_en = zb.state == ZState::Pushed;
        c.z_push = store_en && z_ready;
        let z_height_m1 = i64::from(s.z_height) - 1;
        let fill_last = i64::from(zb.fill_shift) == z_height_m1 && c.fill;
        let y_last_push = i64::from(zb.d_index) == i64::from(c.y_height) - 1 && c.y_push_enable;
        c.z_first_load_read = zb.state == ZState::Loaded && y_last_push;
        c.z_empty_flag = (i64::from(zb.store_shift) == i64::from(s.z_width) - 1 && c.z_push)
            || (c.z_first_load_read && z_first_load);
        // Hold-until-grant only (model departure, see the module docs). A row block's results
        // are shifted into the Z buffer (`fill`, z_height cycles from `z_wait_clr`) and the buffer
        // turns Pushed on the last fill cycle (`fill_last`), but in the Pushed state the RTL's
        // `redmule_z_buffer` ignores `fill`. Before a block the scheduler's `y_miss` keeps the
        // array from producing results while the buffer is not Loaded (so not Pushed); `y_miss`
        // is masked by `w_done`, though, which the job's last W row has already set, so the last
        // block's results may emerge while the previous block is still being stored. With the
        // memory always granting, those stores end before the fill does (e.g. 13 x 4 x 4, where
        // the fill starts in the Pushed state and ends in the Empty one). When the memory refuses
        // enough stores (16 x 16 x 16 under two random narrow-port generators), `fill_last` falls
        // in the Pushed state and is dropped: the last block is never pushed, the Z sink waits
        // for its rows forever and the job deadlocks without any port request. Here such a
        // block is remembered (`push_pending`) and pushed as soon as the current block's last
        // store leaves (Pushed -> Pushed instead of Pushed -> Empty), with the same counter
        // updates as a block pushed right after the Empty state. The data comes from the
        // functional model, so only the timing is at stake. With the memory always granting this
        // never happens (calibration and traces unchanged); under RTL request retirement the
        // model keeps the RTL's behaviour.
        c.z_push_defer = !self.rtl_retire && zb.state == ZState::Pushed && fill_last;
        let z_next = match zb.state {
            ZState::Empty => {
                let mut n = ZState::Empty;
                if i64::from(zb.w_index) == i64::from(c.y_width) - 1 && c.load_en_y && y_valid {
                    n = ZState::Loaded;
                }
                if fill_last {
                    n = ZState::Pushed;
                }
                n
            }
            ZState::Loaded => {
                let mut n = ZState::Loaded;
                if y_last_push && !c.fill {
                    n = ZState::Empty;
                }
                if fill_last {
                    n = ZState::Pushed;
                }
                n
            }
            ZState::Pushed => {
                if i64::from(zb.store_shift) == i64::from(s.z_width) - 1 && c.z_push {
                    if zb.push_pending || c.z_push_defer {
                        ZState::Pushed
                    } else {
                        ZState::Empty
                    }
                } else {
                    ZState::Pushed
                }
            }
        };
        c.z_next = Some(z_next);
        c.y_cols_iter_en = c.z_empty_flag;
        c.y_rows_iter_en = s.y_cols_iter == p.w_cols_iter - 1 && c.y_cols_iter_en;

        // ---- redmule_memory_scheduler.sv: stream starts
        let x_ready_start = self.src[X].cs == SState::Idle;
        let sink_ready_start = self.sink_cs == SState::Idle;
        c.src[X].req_start =
            !ctrl_idle && x_ready_start && (c.first_load || self.ms.tot_x_read < p.tot_x_read);
        c.src[W].req_start = c.first_load && sink_ready_start;
        c.src[Y].req_start = c.first_load && p.gemm && self.src[Y].cs == SState::Idle;
        c.sink_req_start = c.first_load && sink_ready_start;

        // ---- hci_core_source.sv + hci_core_fifo.sv, per load stream
        for i in 0..3 {
            let sr = &self.src[i];
            let tot_len = src_tot_len(p, &self.ms, i);
            let sc = &mut c.src[i];
            let stream_ready = self.top[i].ready();
            let ag_done = sr
                .ag
                .done_flag(sr.addr_fifo.ready_d::<ADDR_DEPTH>(), tot_len);
            sc.ag_clear = false;
            match sr.cs {
                SState::Idle => {
                    if sc.req_start {
                        sc.next = Some(SState::Working);
                        sc.ag_enable = true;
                    }
                }
                SState::Working => {
                    sc.ag_enable = true;
                    if ag_done {
                        sc.next = Some(SState::Done);
                    }
                }
                SState::Done => {
                    sc.ag_enable = true;
                    if !sr.addr_fifo.valid() && sr.stream_cnt == tot_len {
                        sc.next = Some(SState::Idle);
                        sc.done = true;
                        sc.ag_enable = false;
                        sc.ag_clear = true;
                    }
                }
            }
            let tcdm_req = sr.cs != SState::Idle && sr.addr_fifo.valid() && stream_ready;
            sc.issue = tcdm_req && sr.req_fifo.ready_d::<REQ_DEPTH>();
            let stream_valid = sr.resp_len > 0;
            sc.stream_hs = stream_valid && stream_ready;
            sc.r_valid = self.resp == Some(i);
            let resp_not_full = sr.resp_len < 4;
            let almost_full = sr.resp_len == 1;
            // Model departure (see the module docs): a request that was on the port and refused
            // stays asserted (HCI hold-until-grant) instead of being retired.
            let held = !self.rtl_retire && self.port_refused == Some(i);
            sc.mux_req = sr.req_fifo.valid()
                && (held || (resp_not_full && !(almost_full && sc.r_valid && !stream_ready)));
            sc.resp_push = (sc.r_valid || sr.r_valid_q) && resp_not_full;
        }

        // ---- hci_core_sink.sv (Z)
        {
            let ctl = &p.yz_ctrl;
            let z_valid = self.top_z.valid();
            let addr_valid = self.sink_addr_fifo.valid();
            let gnt = self.store_fifo.ready_d::<STORE_DEPTH>();
            let ag_done = self
                .sink_ag
                .done_flag(self.sink_addr_fifo.ready_d::<ADDR_DEPTH>(), ctl.tot_len);
            match self.sink_cs {
                SState::Idle => {
                    if c.sink_req_start {
                        c.sink_next = Some(SState::Working);
                        c.sink_ag_enable = true;
                    }
                }
                SState::Working => {
                    c.sink_ag_enable = true;
                    if ag_done {
                        c.sink_next = Some(SState::Done);
                    }
                }
                SState::Done => {
                    c.sink_ag_enable = true;
                    if self.sink_addr_cnt == ctl.tot_len {
                        c.sink_next = Some(SState::Idle);
                        c.sink_done = true;
                        c.sink_ag_enable = false;
                        c.sink_ag_clear = true;
                    }
                }
            }
            let req = self.sink_cs != SState::Idle && z_valid && addr_valid;
            let stream_ready = !z_valid || (gnt && addr_valid);
            // addr_pop.ready = stream.valid & stream.ready; the store FIFO takes the request when
            // the sink requests (its push ready is the sink's gnt).
            c.sink_issue = req && stream_ready;
        }
        c.z_store_req = self.store_fifo.valid();

        // ---- hci_core_mux_ooo.sv: Y/Z, then X/W/YZ
        let z_priority = store_en || self.top_z.valid();
        // The unlock below only once the memory has refused a request: without refusals the
        // model is the RTL, whose corner-shape deadlocks (N <= 4 with several output tiles) come
        // from this very lock and are kept.
        let hold = !self.rtl_retire && self.refused_any;
        c.yz_req = u32::from(c.src[Y].mux_req) | (u32::from(c.z_store_req) << 1);
        let (yz_winner, yz_rr) = self.yz_mux.winner(2, c.yz_req, z_priority, hold);
        c.yz_winner = yz_winner;
        let yz_out_req = c.yz_req & (1 << c.yz_winner) != 0;
        c.ld_req = u32::from(c.src[X].mux_req)
            | (u32::from(c.src[W].mux_req) << 1)
            | (u32::from(yz_out_req) << 2);
        let (ld_winner, ld_rr) = self.ld_mux.winner(3, c.ld_req, false, hold);
        c.ld_winner = ld_winner;
        if yz_rr || ld_rr {
            self.resets |=
                if yz_rr { replay::RR_YZ } else { 0 } | if ld_rr { replay::RR_LD } else { 0 };
        }
        let out_req = c.ld_req & (1 << c.ld_winner) != 0;
        c.port = None;
        if out_req {
            let (meta, stream, write) = match c.ld_winner {
                0 => (self.src[X].req_fifo.front(), Stream::X, false),
                1 => (self.src[W].req_fifo.front(), Stream::W, false),
                _ => {
                    if c.yz_winner == 0 {
                        (self.src[Y].req_fifo.front(), Stream::Y, false)
                    } else {
                        (self.store_fifo.front(), Stream::Z, true)
                    }
                }
            };
            c.port_chan = (c.ld_winner, c.yz_winner);
            c.port = Some(WideAccess {
                addr: meta.addr & !3,
                byte_addr: meta.addr,
                write,
                stream,
                tile_m: meta.tile_m,
                tile_k: meta.tile_k,
                row: meta.row,
                chunk: meta.chunk,
                bytes: meta.bytes,
            });
        }
    }

    // --------------------------------------------------------------------------------------------
    // Register update at the end of the current cycle
    // --------------------------------------------------------------------------------------------

    fn commit(&mut self, gnt: bool) {
        let p = &self.prm;
        let c = &self.c;

        // ---- port handshake, multiplexers, response routing
        let port_hs = c.port.is_some() && gnt;
        self.refused_any |= c.port.is_some() && !gnt;
        let mut req_pop = [false; 3];
        let mut store_pop = false;
        self.resp = None;
        self.port_refused = match (c.port.is_some() && !gnt, c.port_chan) {
            (false, _) | (true, (2, 1)) => None,
            (true, (0, _)) => Some(X),
            (true, (1, _)) => Some(W),
            (true, _) => Some(Y),
        };
        if port_hs {
            match c.port_chan {
                (0, _) => req_pop[X] = true,
                (1, _) => req_pop[W] = true,
                (_, 0) => req_pop[Y] = true,
                _ => store_pop = true,
            }
            if !store_pop {
                self.resp = Some(match c.port_chan {
                    (0, _) => X,
                    (1, _) => W,
                    _ => Y,
                });
            }
        }
        let yz_out_req = c.yz_req & (1 << c.yz_winner) != 0;
        let yz_hs = yz_out_req && port_hs && c.ld_winner == 2;
        self.yz_mux.clock(2, c.yz_winner, c.yz_req != 0, yz_hs);
        self.ld_mux.clock(3, c.ld_winner, c.ld_req != 0, port_hs);

        // ---- load streams
        // (The controls by reference: W's and Y's are the job's; only X's is made.)
        let x_ctl = src_ctrl(p, &self.ms, X);
        let ctls = [&x_ctl, &p.w_ctrl, &p.yz_ctrl];
        for (i, &ctl) in ctls.iter().enumerate() {
            let sc = &c.src[i];
            let sr = &mut self.src[i];
            // address FIFO: push from the address generator, pop on issue
            let ag_ready = sr.addr_fifo.ready_d::<ADDR_DEPTH>();
            // (A full FIFO takes nothing: the metadata is not even made.)
            let ag_push = if sr.ag.valid && ag_ready {
                Some(meta_of(p, &self.ms, i, &sr.ag, ctl))
            } else {
                None
            };
            let issued = if sc.issue {
                Some(sr.addr_fifo.front())
            } else {
                None
            };
            // The address generator only updates while enabled; its output is pushed whenever
            // valid (the FIFO is written on valid & ready, independent of enable).
            sr.addr_fifo.update_d::<ADDR_DEPTH>(sc.issue, ag_push);
            let set = sr
                .ag
                .clock(ctl, ag_ready, sc.ag_enable, sc.ag_clear, sc.req_start);
            if set != 0 {
                self.resets |= replay::ag_resets(i, set);
            }
            sr.req_fifo.update_d::<REQ_DEPTH>(req_pop[i], issued);
            // response side of the hci_core_fifo
            let resp_ready = sr.resp_len < 4;
            // A response (new, or the one kept) is kept while the response FIFO is full.
            sr.r_valid_q = (sc.r_valid || sr.r_valid_q) && !resp_ready;
            if sc.stream_hs {
                sr.resp_len -= 1;
            }
            if sc.resp_push {
                sr.resp_len += 1;
            }
            // stream counter (cleared when the stream ends)
            if sc.done {
                sr.stream_cnt = 0;
                self.resets |= replay::CNT[i];
            } else if sc.stream_hs {
                // TRANS_CNT = 16 bits
                sr.stream_cnt = (sr.stream_cnt + 1) & 0xffff;
            }
            if let Some(n) = sc.next {
                if i == X && sr.cs == SState::Idle {
                    self.x_started = true;
                }
                sr.cs = n;
            }
        }

        // ---- top-level stream FIFOs (redmule_top.sv)
        let top_pop = [c.x_load, c.w_load, c.load_en_y && self.top[Y].valid()];
        for (i, &pop) in top_pop.iter().enumerate() {
            self.top[i].update(pop, c.src[i].stream_hs);
        }
        let sink_pop = c.sink_issue;
        let z_meta = Meta {
            bytes: self.sched.z_height * p.eb,
            ..Meta::default()
        };
        let z_bytes_head = self.top_z.front().bytes;
        self.top_z
            .update_d::<TOP_Z_DEPTH>(sink_pop, if c.z_push { Some(z_meta) } else { None });

        // ---- Z sink
        {
            let ctl = &p.yz_ctrl;
            let ag_ready = self.sink_addr_fifo.ready_d::<ADDR_DEPTH>();
            let ag_push = if self.sink_ag.valid && ag_ready {
                let mut m = meta_of(p, &self.ms, Y, &self.sink_ag, ctl);
                m.bytes = 0;
                Some(m)
            } else {
                None
            };
            let issued = if c.sink_issue {
                let mut a = self.sink_addr_fifo.front();
                a.bytes = z_bytes_head;
                Some(a)
            } else {
                None
            };
            self.sink_addr_fifo
                .update_d::<ADDR_DEPTH>(c.sink_issue, ag_push);
            let set = self.sink_ag.clock(
                ctl,
                ag_ready,
                c.sink_ag_enable,
                c.sink_ag_clear,
                c.sink_req_start,
            );
            if set != 0 {
                self.resets |= replay::ag_resets(3, set);
            }
            self.store_fifo.update_d::<STORE_DEPTH>(store_pop, issued);
            if c.sink_done {
                self.sink_addr_cnt = 0;
                self.resets |= replay::CNT_SINK;
            } else if c.sink_issue {
                // TRANS_CNT = 16 bits
                self.sink_addr_cnt = (self.sink_addr_cnt + 1) & 0xffff;
            }
            if let Some(n) = c.sink_next {
                self.sink_cs = n;
            }
        }

        // ---- memory scheduler (X restarts)
        if c.src[X].done {
            let ms = &mut self.ms;
            let last_col = ms.x_cols_iters == p.x_cols_iter - 1;
            let last_w = ms.w_iters == p.w_cols_iter - 1;
            if last_col {
                self.resets |= replay::MS_COLS;
            }
            ms.x_cols_iters = if last_col { 0 } else { ms.x_cols_iters + 1 };
            ms.x_cols_offs = if last_col { 0 } else { ms.x_cols_offs + p.jmp };
            if last_col {
                ms.w_iters = if last_w { 0 } else { ms.w_iters + 1 };
            }
            if last_col && last_w {
                self.resets |= replay::MS_W;
                let last_row = ms.x_rows_iters == p.x_rows_iter - 1;
                if last_row {
                    self.resets |= replay::MS_ROWS;
                }
                ms.x_rows_iters = if last_row { 0 } else { ms.x_rows_iters + 1 };
                ms.x_rows_offs = if last_row {
                    0
                } else {
                    ms.x_rows_offs + p.x_rows_offs
                };
            }
            ms.tot_x_read = (ms.tot_x_read + 1) & 0xffff;
        }

        // ---- X buffer
        {
            let xb = &mut self.xb;
            if xb.pad_r_addr == 2 * p.h - 1 {
                xb.first_block = false;
            } else if c.pad_setup {
                xb.first_block = true;
            }
            if c.x_full {
                xb.refilling = false;
            } else if c.x_empty_flag {
                xb.refilling = true;
            }
            if c.buf_write_en {
                xb.pad_r_addr = if xb.pad_r_addr < c.x_slots - 1 {
                    xb.pad_r_addr + 1
                } else {
                    0
                };
            }
            if c.rst_w_index {
                xb.w_index = 0;
            } else if c.x_load {
                // `w_index_q` is $clog2(W)+1 bits wide
                xb.w_index = (xb.w_index + 1) & p.x_w_index_mask;
            }
            if c.x_empty_flag {
                xb.pad_read_cnt = 1;
            } else if c.pad_read_en {
                // `pad_read_cnt` is $clog2(TOT_DEPTH)+1 bits wide: it wraps while the pad is
                // read and the array stands still (short leftover chunks).
                xb.pad_read_cnt = (xb.pad_read_cnt + 1) & p.pad_read_mask;
            }
            if c.x_empty_flag {
                xb.buf_write_cnt = 0;
            } else if (xb.state == XState::PadEmpty
                || (xb.state == XState::FastFill && !xb.first_block))
                && c.h_shift
            {
                xb.buf_write_cnt = (xb.buf_write_cnt + 1) & p.buf_write_mask;
            } else if c.pad_setup {
                xb.buf_write_cnt = 2 * p.h;
            }
            if c.h_shift {
                xb.h_index_r = if xb.h_index_r == p.h - 1 {
                    0
                } else {
                    xb.h_index_r + 1
                };
            }
            xb.state = c.x_next.unwrap_or(xb.state);
        }

        // ---- Z buffer
        {
            let s = &self.sched;
            let zb = &mut self.zb;
            let d_mask = p.d_mask;
            if i64::from(zb.fill_shift) == i64::from(s.z_height) - 1 && c.fill {
                zb.fill_shift = 0;
            } else if c.fill {
                zb.fill_shift = (zb.fill_shift + 1) & d_mask;
            }
            if c.z_push {
                zb.store_shift = if i64::from(zb.store_shift) == i64::from(s.z_width) - 1 {
                    0
                } else {
                    zb.store_shift + 1
                };
            }
            if top_pop[Y] {
                if i64::from(zb.w_index) == i64::from(c.y_width) - 1 {
                    zb.w_index = 0;
                } else {
                    zb.w_index += 1;
                }
            }
            if i64::from(zb.d_index) == i64::from(c.y_height) - 1 && c.y_push_enable {
                zb.d_index = 0;
            } else if c.y_push_enable {
                zb.d_index = (zb.d_index + 1) & d_mask;
            }
            if zb.state == ZState::Pushed && c.z_next == Some(ZState::Pushed) {
                // A deferred block (see `z_push_defer` in `eval`): set when its fill ends, cleared
                // when the block before it has been stored and it takes the buffer.
                // (`store_shift` is already updated: it wraps to 0 on the block's last store.)
                let stored = c.z_push && zb.store_shift == 0;
                zb.push_pending = if stored {
                    false
                } else {
                    zb.push_pending || c.z_push_defer
                };
            }
            zb.state = c.z_next.unwrap_or(zb.state);
        }

        // ---- scheduler registers
        {
            let s = &mut self.sched;
            let stall = c.stall;
            let mut resets = 0;
            if c.x_cols_iter_en && !s.x_done {
                s.x_cols_iter = if s.x_cols_iter == p.x_cols_iter - 1 {
                    resets |= replay::SCH_XC;
                    0
                } else {
                    s.x_cols_iter + 1
                };
            }
            if c.x_w_iters_en && !s.x_done {
                s.x_w_iters = if s.x_w_iters == p.w_cols_iter - 1 {
                    resets |= replay::SCH_XW;
                    0
                } else {
                    s.x_w_iters + 1
                };
            }
            if c.x_rows_iter_en && !s.x_done {
                s.x_rows_iter = (s.x_rows_iter + 1) & 0xffff;
            }
            if c.x_done_en {
                s.x_done = true;
            }
            if c.h_shift {
                s.x_shift_cnt = if s.x_shift_cnt == p.h - 1 {
                    0
                } else {
                    s.x_shift_cnt + 1
                };
            }
            if c.x_reload_rst {
                s.x_reload = false;
            } else if c.x_reload_en {
                s.x_reload = true;
            }
            if !c.x_full {
                s.x_empty = false;
            } else if c.x_full && c.x_empty_flag {
                s.x_empty = true;
            }
            if c.w_rows_iter_en && !s.w_done {
                s.w_rows_iter = if s.w_rows_iter == p.w_rows_iter - 1 {
                    resets |= replay::SCH_WR;
                    0
                } else {
                    s.w_rows_iter + 1
                };
            }
            if c.w_cols_iter_en && !s.w_done {
                s.w_cols_iter = if s.w_cols_iter == p.w_cols_iter - 1 {
                    resets |= replay::SCH_WC;
                    0
                } else {
                    s.w_cols_iter + 1
                };
            }
            if c.w_mat_iters_en && !s.w_done {
                s.w_mat_iters = (s.w_mat_iters + 1) & 0xffff;
            }
            if c.w_done_en {
                s.w_done = true;
            }
            if c.y_cols_iter_en {
                s.y_cols_iter = if s.y_cols_iter == p.w_cols_iter - 1 {
                    resets |= replay::SCH_YC;
                    0
                } else {
                    s.y_cols_iter + 1
                };
            }
            if c.y_rows_iter_en {
                s.y_rows_iter = if s.y_rows_iter == p.w_rows_iter - 1 {
                    resets |= replay::SCH_YR;
                    0
                } else {
                    s.y_rows_iter + 1
                };
            }
            let z_wait_en_q = s.z_wait_en;
            if c.z_wait_clr {
                s.z_wait_en = false;
            } else if c.w_cols_iter_en {
                s.z_wait_en = true;
            }
            if z_wait_en_q && !stall {
                s.z_wait_cnt = if s.z_wait_cnt == p.p {
                    0
                } else {
                    s.z_wait_cnt + 1
                };
            }
            let z_avail_en_q = s.z_avail_en;
            if c.z_avail_clr {
                s.z_avail_en = false;
            } else if c.z_wait_clr {
                s.z_avail_en = true;
            }
            if z_avail_en_q && !stall {
                s.z_avail_cnt = if i64::from(s.z_avail_cnt) == i64::from(s.z_height) - 1 {
                    0
                } else {
                    (s.z_avail_cnt + 1) & p.d_mask
                };
            }
            let y_push_en_q = s.y_push_en;
            if c.y_push_clr {
                s.y_push_en = false;
            } else if c.y_push_set {
                s.y_push_en = true;
            }
            if y_push_en_q && !stall {
                s.y_push_cnt = if i64::from(s.y_push_cnt) == i64::from(c.y_height) - 1 {
                    0
                } else {
                    (s.y_push_cnt + 1) & p.d_mask
                };
            }
            if c.z_empty_flag || c.start_computation {
                s.z_width = c.y_width;
                s.z_height = c.y_height;
            }
            if !stall && s.state != SchedState::Idle && s.state != SchedState::Preload {
                s.waits_cnt = if s.waits_cnt == p.p {
                    0
                } else {
                    s.waits_cnt + 1
                };
            }
            s.reg_enable = s.computing && !stall;
            if s.state == SchedState::LoadW && !stall {
                s.first_load = false;
            }
            if s.state == SchedState::Preload && c.sched_next == Some(SchedState::LoadW) {
                s.computing = true;
            }
            if c.rst_w_index {
                s.x_refill = false;
            } else if c.x_empty_flag {
                s.x_refill = true;
            }
            s.state = c.sched_next.unwrap_or(s.state);
            self.resets |= resets;
        }

        // ---- controller
        if self.ctrl == CtrlState::Finished {
            // redmule_ctrl.sv: `cntrl_scheduler_o.rst = current == REDMULE_FINISHED`. On it
            // redmule_scheduler.sv returns every register except `reg_enable_q` (and the row
            // clock gate) to its reset value, IDLE included: from the event cycle on the array
            // no longer stalls (Verilator: no `stall_engine` in the event cycle of 48x18x33 on
            // 8 x 8 x 1 under refusals, where the scheduler was still in LOAD_W waiting for X).
            // Model departure, after the event only: redmule_memory_scheduler.sv resets its
            // counters on the same signal, and an X stream still running then (under refusals)
            // takes the reset offsets and length (`x_stream_source_ctrl` is combinational): it
            // reads further words (8 under Verilator in 33x20x33 on 8 x 8 x 1) that the idle
            // scheduler never takes, so it never ends. The model keeps the counters, lets that
            // stream end as programmed and drains (the results are complete at the event).
            let reg_enable = self.sched.reg_enable;
            self.sched = Sched::RESET;
            self.resets = replay::ALL;
            self.sched.reg_enable = reg_enable;
        }
        let sink_done_q = self.sink_done_q;
        self.sink_done_q = c.sink_done;
        self.ctrl = match self.ctrl {
            CtrlState::Idle => {
                if !self.finished && !self.evt && self.t + 1 >= self.start_at {
                    CtrlState::Starting
                } else {
                    CtrlState::Idle
                }
            }
            CtrlState::Starting => {
                if c.w_loaded {
                    CtrlState::Computing
                } else {
                    CtrlState::Starting
                }
            }
            CtrlState::Computing => {
                if sink_done_q {
                    CtrlState::Finished
                } else {
                    CtrlState::Computing
                }
            }
            CtrlState::Finished => {
                // hwpe_ctrl_slave.sv registers the event (`flags_o.evt`) on `done`.
                self.evt = true;
                CtrlState::Idle
            }
        };
    }
}

/// The cycle-exact schedule of one RedMulE job.
///
/// Evaluates the register-level model every cycle, except in the steady state of a job, where
/// it replays the outputs of the previous period instead (cycle for cycle the same outputs as
/// the full evaluation; see `schedule/replay.rs`).
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The model; while periods are replayed it is not kept up to date (`replay.rs`,
    /// `Replay::stale`): then only its job, geometry and refusal flag are read here (the same
    /// in every model of the job that a replay reaches).
    m: Box<Model>,
    rp: replay::Replay,
}

impl Schedule {
    /// A schedule for `job` on an array of geometry `geom`.
    pub fn new(geom: Geometry, job: JobShape, start: StartInfo) -> Result<Self, String> {
        Ok(Schedule {
            m: Box::new(Model::new(geom, job, start)?),
            rp: replay::Replay::new(),
        })
    }

    /// Reproduce the RTL exactly under refused grants too: a refused load request may be retired
    /// and the port multiplexer may lock up (see the module docs). Off by default: the model then
    /// holds a refused request until it is granted.
    pub fn with_rtl_request_retirement(mut self, on: bool) -> Self {
        self.m.rtl_retire = on;
        self
    }

    /// Replay steady-state periods instead of evaluating them (on by default). The outputs are
    /// the same either way; off, every cycle is evaluated (for differential tests).
    pub fn with_steady_state_replay(mut self, on: bool) -> Self {
        self.rp.enabled = on;
        self
    }

    /// Cycles replayed so far instead of evaluated (for tests and benchmarks).
    pub fn replayed_cycles(&self) -> u64 {
        self.rp.replayed
    }

    /// Cycle number (from TRIGGER) of the next call to [`Schedule::cycle`].
    pub fn now(&self) -> u64 {
        match &self.rp.active {
            Some(a) => a.t0 + a.pos as u64,
            None => self.m.now(),
        }
    }

    /// True when nothing is left to issue on the port: no queued load or store request and no
    /// stream still running. The completion event can come before this: the controller finishes
    /// when the Z sink has handed its last store to its 2-deep store FIFO (`hci_core_sink.sv`,
    /// `redmule_ctrl.sv`), so under refused grants up to two stores may still be queued when the
    /// event is raised; keep calling [`Schedule::cycle`] until this holds.
    pub fn is_drained(&self) -> bool {
        // A replayed period never contains the event (the controller computes throughout).
        self.rp.active.is_none() && self.m.is_drained()
    }

    /// True when the job can no longer progress: no port request for
    /// 1024 cycles while the controller is busy. The RTL deadlocks on some corner shapes (with
    /// the memory always granting, e.g. 13 x 5 x 1 or N <= 4 with more than one output tile; checked
    /// under Verilator against the same RTL): the model reproduces those deadlocks rather than
    /// inventing a timing, and reports them here so that the component can decide what to do.
    ///
    /// Refused grants can deadlock the RTL on shapes that complete while the memory always grants
    /// (see "Refusal-induced deadlocks" in the module docs); the model stops there too.
    pub fn deadlocked(&self) -> bool {
        match &self.rp.active {
            Some(a) => self.rp.last_quiet(a) >= DEADLOCK_QUIET_CYCLES,
            None => self.m.deadlocked(),
        }
    }

    /// A one-line description of a deadlock for fault messages: the geometry, the job shape, the
    /// cycle, the stall cause, and whether refused grants or the shape alone brought it on.
    pub fn deadlock_report(&self) -> String {
        match &self.rp.active {
            Some(a) => deadlock_report(
                self.m.geom,
                self.m.job,
                a.t0 + a.pos as u64 - 1,
                self.rp.last_stall(a),
                self.m.refused_any,
            ),
            None => self.m.deadlock_report(),
        }
    }

    /// False when the next call to [`Schedule::cycle`] can neither report the completion event
    /// nor leave the schedule [`Schedule::deadlocked`]: its only effect outside the schedule is
    /// then its port request, so a caller alone on the memory may evaluate it ahead of the cycle
    /// it stands for. Conservative: true may still lead to neither.
    pub fn may_end_next(&self) -> bool {
        match &self.rp.active {
            // Decided when the period started (`Model::may_end_next`, the model does not
            // change while the period is replayed).
            Some(a) => a.may_end,
            None => self.m.may_end_next(0),
        }
    }

    /// True once the completion event has been reported.
    pub fn finished(&self) -> bool {
        self.rp.active.is_none() && self.m.finished
    }

    /// Advance one clock cycle. `prev_granted` says whether the request returned by the previous
    /// call was granted (ignored if there was none). A refused request is presented again
    /// (hold-until-grant); read data arrives one cycle after the grant.
    #[inline]
    pub fn cycle(&mut self, prev_granted: bool) -> CycleOut {
        // The common case of a replayed period inline, the rest not.
        if let Some(out) = self.replay_fast(prev_granted) {
            return out;
        }
        self.cycle_slow(prev_granted)
    }

    /// While a period is replayed, the outputs the next calls to [`Schedule::cycle`] will
    /// return if every request among them is granted: the rest of the period, without its end
    /// (None when the next call has more to do: a refused request, the period's end, no
    /// replay). `prev_granted` as for [`Schedule::cycle`]; each output assumes the requests
    /// before it granted. A caller that takes the first `n` of them (every request among them
    /// granted but the last one's, whose grant goes to the next [`Schedule::cycle`]) calls
    /// [`Schedule::replay_skip`] with `n` instead of calling [`Schedule::cycle`] `n` times: the
    /// same outputs, the same schedule afterwards; none of them is the event, and
    /// [`Schedule::may_end_next`] stays as it was in between (it is decided once per replayed
    /// period).
    #[inline]
    pub fn replay_ahead(&self, prev_granted: bool) -> Option<replay::Ahead<'_>> {
        self.ahead(prev_granted)
    }

    /// Take `n` outputs of [`Schedule::replay_ahead`] (see there). Panics past the period.
    #[inline]
    pub fn replay_skip(&mut self, n: usize) {
        self.skip(n);
    }

    #[inline(never)]
    fn cycle_slow(&mut self, prev_granted: bool) -> CycleOut {
        if !self.rp.enabled {
            return self.m.cycle(prev_granted);
        }
        self.replay_cycle(prev_granted)
    }
}

/// See [`Schedule::deadlock_report`].
fn deadlock_report(
    g: Geometry,
    j: JobShape,
    t: u64,
    stall: Option<Stall>,
    refused_any: bool,
) -> String {
    let cause = match stall {
        Some(Stall::WMissing) => "the CE array stalls waiting for a W row",
        Some(Stall::XNotFull) => "the CE array stalls waiting for the X buffer",
        Some(Stall::YMissing) => "the CE array stalls waiting for the Y rows",
        Some(Stall::Other(why)) => why,
        None => "no port request",
    };
    let why = if refused_any {
        "after refused grants (the RTL deadlocks on such refusal patterns too)"
    } else {
        "with the memory always granting (a shape the RTL deadlocks on)"
    };
    format!(
        "RedMulE {}x{}x{} (rows x CEs x pipeline registers), job {}x{}x{} (M x N x K): deadlock at cycle {t}, {cause}, {why}",
        g.rows, g.cols, g.stages, j.m, j.n, j.k
    )
}

/// Counters of one run with the memory always granting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Cycles from TRIGGER to the completion event.
    pub cycles: u64,
    pub reads: u64,
    pub writes: u64,
    pub stalls: u64,
}

/// Run `sched` with `grant(cycle, access)` deciding each grant until the completion event has
/// been raised and every queued access was issued ([`Schedule::is_drained`]); returns the summary
/// (`cycles` is the cycle of the event) or an error after `max_cycles`.
pub fn run_with<F: FnMut(u64, &WideAccess) -> bool>(
    sched: &mut Schedule,
    max_cycles: u64,
    mut grant: F,
) -> Result<RunSummary, String> {
    let mut sum = RunSummary::default();
    let mut granted = true;
    loop {
        let t = sched.now();
        if t > max_cycles {
            return Err(format!("no completion after {max_cycles} cycles"));
        }
        if sched.deadlocked() {
            return Err(sched.deadlock_report());
        }
        let out = sched.cycle(granted);
        if out.stall.is_some() {
            sum.stalls += 1;
        }
        if out.done {
            sum.cycles = t;
        }
        if sched.is_drained() {
            return Ok(sum);
        }
        granted = true;
        if let Some(a) = out.req {
            granted = grant(t, &a);
            if granted {
                if a.write {
                    sum.writes += 1;
                } else {
                    sum.reads += 1;
                }
            }
        }
    }
}
