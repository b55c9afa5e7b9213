//! The cycle-level request / grant / response path of the memory system.
//!
//! This is the TCDM protocol of the PULP cluster (hci / cluster_interconnect `tcdm` and
//! `hwpe_stream` interfaces): an initiator holds `req` with address, write enable, byte
//! enables and data until the interconnect raises `gnt`; `gnt` may come in the same cycle;
//! `r_valid` / `r_data` come exactly one cycle after the req&gnt handshake (for writes too).
//!
//! A port is plain shared state between one initiator and one interconnect, not a channel:
//! the initiator posts a request in its tick (phase [`PHASE_INITIATOR`]), the interconnect
//! reads every port in one pass in its tick of the same cycle (phase
//! [`PHASE_INTERCONNECT`]), grants or leaves the request in place, and the initiator is
//! woken on the next cycle to collect the response. A refused request simply stays posted,
//! which is the RTL's "hold req until gnt".
//!
//! An initiator may instead bind a [`GrantHook`]: an interconnect that grants with
//! [`Port::deliver`] then hands it the response inside its pass, and the initiator posts
//! its next request from there, dated for a later cycle, without ticking in between.
//!
//! [`PHASE_INITIATOR`]: crate::clocked::PHASE_INITIATOR
//! [`PHASE_INTERCONNECT`]: crate::clocked::PHASE_INTERCONNECT

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::rc::Rc;

use crate::clocked::Wake;

/// A narrow (32-bit) request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NarrowReq {
    /// Byte address (word aligned for the bank; the byte enables select bytes).
    pub addr: u32,
    pub write: bool,
    /// Byte enables, bit i for byte i of the word.
    pub be: u8,
    pub wdata: u32,
}

/// The response to a granted request, valid the cycle after the grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resp<D> {
    pub rdata: D,
    /// The address was outside every bank (an address error).
    pub error: bool,
    /// Cycle of the grant; the response is usable from `granted + 1`.
    pub granted: u64,
    /// Cycles the request waited before its grant (lost arbitrations).
    pub waited: u64,
}

/// An initiator port: the shared request slot between one initiator and the interconnect,
/// for requests of type `Q` answered with read data of type `D`.
#[derive(Debug)]
pub struct Port<Q: Copy, D: Copy> {
    name: String,
    req: Cell<Option<Q>>,
    /// Cycle the posted request is due (posted for); `u64::MAX` when none is posted.
    posted_at: Cell<u64>,
    posts: Cell<u64>,
    /// Inside [`Port::deliver_quiet`]'s hook call: posting does not wake the interconnect.
    quiet: Cell<bool>,
    /// The initiator does not read the read data of its responses.
    discards: Cell<bool>,
    /// Requests queued to follow back to back (see [`Port::queue_fill`]): slots
    /// `queue_head .. queue_len` of a buffer of the capacity set by [`Port::set_queue`].
    queue: OnceCell<Box<[Cell<Option<Q>>]>>,
    queue_head: Cell<usize>,
    queue_len: Cell<usize>,
    /// The queue is used for grants before this cycle only.
    queue_until: Cell<u64>,
    /// What the grants that posted from the queue did, since last taken.
    queued: QueueAcc,
    resp: Cell<Option<Resp<D>>>,
    target_wake: OnceCell<Wake>,
    initiator_wake: OnceCell<Wake>,
    hook: Slot<dyn GrantHook<Q, D>>,
    alone: Slot<dyn AloneGrant<Q, D>>,
    /// The initiator's index as targets know it (`Payload::initiator`), if it gave one.
    initiator: Cell<Option<u32>>,
}

/// An initiator's grant hook (see [`Port::set_grant_hook`]): called by the interconnect
/// from inside its pass, in the cycle of the grant, instead of storing the response and
/// waking the initiator on the next cycle.
///
/// The hook receives the response the initiator would have collected on the next cycle
/// and may post its next request on the same port with [`Port::request`], dated after
/// the grant cycle (the earliest is `resp.granted + 1`, where the initiator's own tick
/// would have posted it). An initiator that needs to run instead (it has no request to
/// post, or must observe something first) wakes itself through its own [`Wake`] handle.
///
/// Contract for the initiator: it must behave as if it had collected the response in its
/// tick of `resp.granted + 1` (whatever it makes visible, statistics included, must not
/// show before that cycle). Contract for the interconnect: it delivers grants of such a
/// port with [`Port::deliver`], and does not look at the port again in the same pass.
pub trait GrantHook<Q: Copy, D: Copy> {
    fn granted(&self, port: &Port<Q, D>, resp: Resp<D>);
}

/// The interconnect's side of [`Port::request_alone`]: grant a request at once, in the
/// cycle it is made, for an initiator that nothing else can compete with.
pub trait AloneGrant<Q: Copy, D: Copy> {
    /// Perform `r` as granted in `cycle` and return its response, when the interconnect's
    /// pass in `cycle` with `r` as its only request would grant it at once; its state and
    /// statistics then change exactly as that pass would change them. `None` (nothing
    /// changed) when that pass would refuse it, or when the interconnect cannot tell.
    fn grant_alone(&self, cycle: u64, r: &Q) -> Option<Resp<D>>;

    /// [`AloneGrant::grant_alone`] for an initiator that does not want the response's
    /// read data (an accelerator whose datapath takes its operands elsewhere): the same
    /// grant, writes and statistics, without reading. True if granted.
    fn grant_alone_discard(&self, cycle: u64, r: &Q) -> bool {
        self.grant_alone(cycle, r).is_some()
    }

    /// [`AloneGrant::grant_alone_discard`] for a run of requests of one initiator, alike
    /// but for their addresses: the `k`-th is `proto` at address `run[k].1`, made in cycle
    /// `run[k].0` (increasing), each with nothing else able to compete before it. The same
    /// as granting them one after the other, stopping at the first one refused. Returns
    /// how many were granted (a prefix of `run`).
    fn grant_alone_discard_run(&self, proto: &Q, run: &[(u64, u32)]) -> usize
    where
        Q: Addressed,
    {
        run.iter()
            .take_while(|&&(c, a)| self.grant_alone_discard(c, &proto.at(a)))
            .count()
    }
}

/// A request with an address (see [`AloneGrant::grant_alone_discard_run`]).
pub trait Addressed: Copy {
    /// The same request at address `addr`.
    fn at(&self, addr: u32) -> Self;
}

impl Addressed for NarrowReq {
    #[inline]
    fn at(&self, addr: u32) -> Self {
        NarrowReq { addr, ..*self }
    }
}

impl Addressed for WideReq {
    #[inline]
    fn at(&self, addr: u32) -> Self {
        WideReq { addr, ..*self }
    }
}

/// The grants of a port that posted their successor from its queue (see
/// [`Port::queue_fill`]), for the initiator; none was an address error. Each posted the next queued request for the
/// cycle after it, so the initiator, knowing when the first of them was posted, can tell
/// every wait: the `k`-th request after the first is posted one cycle after the grant of
/// the one before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueuedGrants {
    /// How many.
    pub n: u64,
    /// The maximum of their waits, and the maximum without the last one's (0 for one).
    pub max_waited: u64,
    pub max_waited_before_last: u64,
    /// The grant cycle of the last one and of the one before it (when `n >= 2`).
    pub last_granted: u64,
    pub granted_before_last: u64,
}

/// [`QueuedGrants`] as it is summed, a cell per field.
#[derive(Debug, Default)]
struct QueueAcc {
    n: Cell<u64>,
    max_waited: Cell<u64>,
    max_waited_before_last: Cell<u64>,
    last_granted: Cell<u64>,
    granted_before_last: Cell<u64>,
}

impl QueueAcc {
    #[inline]
    fn add(&self, granted: u64, waited: u64) {
        self.n.set(self.n.get() + 1);
        let m = self.max_waited.get();
        self.max_waited_before_last.set(m);
        self.max_waited.set(m.max(waited));
        self.granted_before_last.set(self.last_granted.get());
        self.last_granted.set(granted);
    }
    fn take(&self) -> QueuedGrants {
        QueuedGrants {
            n: self.n.take(),
            max_waited: self.max_waited.take(),
            max_waited_before_last: self.max_waited_before_last.take(),
            last_granted: self.last_granted.take(),
            granted_before_last: self.granted_before_last.take(),
        }
    }
}

/// An optional, bound-once handler of a port (the initiator's grant hook, the
/// interconnect's alone grant).
struct Slot<T: ?Sized>(OnceCell<Rc<T>>);

impl<T: ?Sized> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Some(..)"
        } else {
            "None"
        })
    }
}

impl<Q: Copy, D: Copy> Port<Q, D> {
    pub fn new(name: impl Into<String>) -> Self {
        Port {
            name: name.into(),
            req: Cell::new(None),
            posted_at: Cell::new(u64::MAX),
            posts: Cell::new(0),
            quiet: Cell::new(false),
            discards: Cell::new(false),
            queue: OnceCell::new(),
            queue_head: Cell::new(0),
            queue_len: Cell::new(0),
            queue_until: Cell::new(0),
            queued: QueueAcc::default(),
            resp: Cell::new(None),
            target_wake: OnceCell::new(),
            initiator_wake: OnceCell::new(),
            hook: Slot(OnceCell::new()),
            alone: Slot(OnceCell::new()),
            initiator: Cell::new(None),
        }
    }
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tell the interconnect who the initiator is (a core's index): an interconnect that
    /// forwards the requests to TLM targets names it in `Payload::initiator`.
    pub fn set_initiator_id(&self, id: u32) {
        self.initiator.set(Some(id));
    }
    /// The initiator's index, if it gave one ([`Port::set_initiator_id`]).
    pub fn initiator_id(&self) -> Option<u32> {
        self.initiator.get()
    }

    /// Bind the interconnect side: posting a request wakes it. A port has one
    /// interconnect: binding it a second time is a programming error and panics.
    pub fn set_target_wake(&self, w: Wake) {
        if self.target_wake.set(w).is_err() {
            panic!("port '{}': the interconnect side is bound twice", self.name);
        }
    }
    /// Bind the initiator side: a grant wakes it on the next cycle. A port has one
    /// initiator: binding it a second time is a programming error and panics.
    pub fn set_initiator_wake(&self, w: Wake) {
        if self.initiator_wake.set(w).is_err() {
            panic!("port '{}': the initiator side is bound twice", self.name);
        }
    }

    /// Bind a grant hook on the initiator side (optional, once): grants delivered with
    /// [`Port::deliver`] call it in the grant cycle instead of storing the response and
    /// waking the initiator (see [`GrantHook`]). Binding a second hook panics.
    pub fn set_grant_hook(&self, h: Rc<dyn GrantHook<Q, D>>) {
        if self.hook.0.set(h).is_err() {
            panic!("port '{}': a grant hook is bound twice", self.name);
        }
    }
    /// Has the initiator bound a grant hook?
    #[inline]
    pub fn has_grant_hook(&self) -> bool {
        self.hook.0.get().is_some()
    }

    /// Bind the interconnect's alone grant (optional, once; see [`Port::request_alone`]).
    /// Binding a second one panics.
    pub fn set_alone_grant(&self, h: Rc<dyn AloneGrant<Q, D>>) {
        if self.alone.0.set(h).is_err() {
            panic!("port '{}': an alone grant is bound twice", self.name);
        }
    }

    // --- initiator side

    /// Perform `r` at once, granted in `cycle`, instead of posting it and waiting for the
    /// interconnect's pass: for an initiator that knows nothing else can compete with it.
    ///
    /// The caller guarantees that `cycle` lies before its horizon
    /// ([`crate::clocked::TickCtx::horizon`]: no other initiator can post a request, and
    /// the interconnect has nothing to do, before then), that it has no request posted on
    /// this port, and that it calls in ascending cycle order. The interconnect answers as
    /// its pass in `cycle` would have answered `r` alone, statistics included, so the run
    /// is the same as with [`Port::request`]; or `None` (nothing happened) when that pass
    /// would not have granted at once, or when it has no alone grant: the initiator then
    /// posts the request as usual.
    #[inline]
    pub fn request_alone(&self, cycle: u64, r: Q) -> Option<Resp<D>> {
        self.alone_grant()?.grant_alone(cycle, &r)
    }

    /// [`Port::request_alone`] without the read data: true if the request was performed
    /// (granted in `cycle`, waited 0), false if it must be posted as usual.
    #[inline]
    pub fn request_alone_discard(&self, cycle: u64, r: &Q) -> bool {
        self.alone_grant()
            .is_some_and(|h| h.grant_alone_discard(cycle, r))
    }

    /// [`Port::request_alone_discard`] for a run of requests (see
    /// [`AloneGrant::grant_alone_discard_run`]): how many of them, from the first, were
    /// performed; the first one not performed must be posted as usual.
    #[inline]
    pub fn request_alone_discard_run(&self, proto: &Q, run: &[(u64, u32)]) -> usize
    where
        Q: Addressed,
    {
        self.alone_grant()
            .map_or(0, |h| h.grant_alone_discard_run(proto, run))
    }

    /// The interconnect's side of the alone grants, for a request made while none is
    /// posted.
    #[inline]
    fn alone_grant(&self) -> Option<&Rc<dyn AloneGrant<Q, D>>> {
        debug_assert!(
            self.req.get().is_none(),
            "port '{}': request_alone with a request posted",
            self.name
        );
        self.alone.0.get()
    }

    /// Declare that the initiator never reads the read data of its responses (a traffic
    /// generator): the interconnect may then leave it zero instead of reading the banks
    /// (reads have no other effect).
    pub fn set_discards_read_data(&self) {
        self.discards.set(true);
    }
    /// Does the initiator ignore the read data (see [`Port::set_discards_read_data`])?
    #[inline]
    pub fn discards_read_data(&self) -> bool {
        self.discards.get()
    }

    /// Give the port a queue of up to `capacity` requests, used for grants whose
    /// successor is due before `until` (a grant in `g` with `g + 1 < until`; later grants
    /// call the grant hook). See [`Port::queue_fill`]. Once; a second call panics.
    pub fn set_queue(&self, capacity: usize, until: u64) {
        let buf = (0..capacity).map(|_| Cell::new(None)).collect();
        if self.queue.set(buf).is_err() {
            panic!("port '{}': a queue is set twice", self.name);
        }
        self.queue_until.set(until);
    }
    /// Fill the (empty) queue with `rs`, at most its capacity (the rest is dropped; the
    /// count queued is returned). When the interconnect grants a request of this port with
    /// [`Port::deliver_quiet`] while requests are queued (and before the queue's `until`),
    /// the port itself posts the first of them for the next cycle instead of calling the
    /// grant hook, and sums the grant for the initiator ([`Port::take_queued_grants`]);
    /// the read data is dropped, and so is an address error's queue use (that grant
    /// calls the hook). For an initiator whose grant hook would do exactly that (a
    /// generator issuing every free cycle): it queues what it would post next, in order,
    /// and takes from the front ([`Port::queue_pop`]) when it posts itself.
    #[inline]
    pub fn queue_fill(&self, rs: impl IntoIterator<Item = Q>) -> usize {
        debug_assert!(
            self.queue_len() == 0,
            "port '{}': queue not empty",
            self.name
        );
        let Some(buf) = self.queue.get() else {
            return 0;
        };
        let mut n = 0;
        for (slot, r) in buf.iter().zip(rs) {
            slot.set(Some(r));
            n += 1;
        }
        self.queue_head.set(0);
        self.queue_len.set(n);
        n
    }
    /// Take the first queued request back (to post it yourself).
    #[inline]
    pub fn queue_pop(&self) -> Option<Q> {
        let h = self.queue_head.get();
        if h >= self.queue_len.get() {
            return None;
        }
        self.queue_head.set(h + 1);
        self.queue.get()?.get(h)?.get()
    }
    /// Queued requests.
    pub fn queue_len(&self) -> usize {
        self.queue_len.get() - self.queue_head.get()
    }
    /// The grants that posted from the queue since the last call. An initiator takes
    /// them first thing in its grant hook (and before reading its own state anywhere
    /// else), so that they are the back-to-back run [`QueuedGrants`] describes.
    pub fn take_queued_grants(&self) -> QueuedGrants {
        self.queued.take()
    }

    /// Post a request for `cycle`. It stays posted until granted.
    ///
    /// `cycle` may lie in the future: an initiator that runs ahead of the interconnect (a
    /// core executing up to its next memory access) posts the access for the cycle it
    /// happens in and sleeps until the grant. The interconnect sees the request from that
    /// cycle on ([`Port::pending_at`]), never earlier, so arbitration is the same as if the
    /// initiator had posted it in that cycle's tick.
    #[inline]
    pub fn request(&self, cycle: u64, r: Q) {
        self.req.set(Some(r));
        self.posted_at.set(cycle);
        self.posts.set(self.posts.get() + 1);
        if self.quiet.get() {
            return;
        }
        if let Some(w) = self.target_wake.get() {
            w.at(cycle);
        }
    }
    /// Is a request posted and not yet granted?
    #[inline]
    pub fn busy(&self) -> bool {
        self.req.get().is_some()
    }
    /// Take the response of the last granted request (once).
    #[inline]
    pub fn take_response(&self) -> Option<Resp<D>> {
        self.resp.take()
    }

    // --- interconnect side

    /// How many requests have been posted on this port so far: an interconnect that keeps
    /// a copy of a refused request can tell whether the posted one is still that one.
    #[inline]
    pub fn posts(&self) -> u64 {
        self.posts.get()
    }
    /// The posted request, if any, whatever cycle it was posted for.
    #[inline]
    pub fn pending(&self) -> Option<Q> {
        self.req.get()
    }
    /// The cycle the posted request is due (posted for), `u64::MAX` when none is posted:
    /// one load for an interconnect's scan (`due <= cycle`: [`Port::pending`] is the
    /// request of `cycle`; otherwise `due` is where to look next).
    #[inline]
    pub fn due(&self) -> u64 {
        self.posted_at.get()
    }
    /// The posted request if it is due in `cycle` (posted for `cycle` or earlier), else
    /// `Err(cycle it is posted for)` for a request posted ahead, or `Ok(None)`.
    #[inline]
    pub fn pending_at(&self, cycle: u64) -> Result<Option<Q>, u64> {
        match self.req.get() {
            Some(_) if self.posted_at.get() > cycle => Err(self.posted_at.get()),
            r => Ok(r),
        }
    }
    /// Take the posted request off the port, granted in `cycle`: its response.
    #[inline]
    fn retire(&self, cycle: u64, rdata: D, error: bool) -> Resp<D> {
        let waited = cycle - self.posted_at.get().min(cycle);
        self.req.set(None);
        self.posted_at.set(u64::MAX);
        Resp {
            rdata,
            error,
            granted: cycle,
            waited,
        }
    }
    /// Grant the posted request in `cycle` with its response.
    #[inline]
    pub fn grant(&self, cycle: u64, rdata: D, error: bool) {
        self.resp.set(Some(self.retire(cycle, rdata, error)));
        if let Some(w) = self.initiator_wake.get() {
            w.at(cycle + 1);
        }
    }
    /// Grant the posted request in `cycle` and deliver the response: to the initiator's
    /// grant hook if it bound one (the hook may post the next request, dated after
    /// `cycle`), else exactly as [`Port::grant`]. Either way the request is no longer
    /// posted for `cycle` afterwards.
    #[inline]
    pub fn deliver(&self, cycle: u64, rdata: D, error: bool) {
        let Some(h) = self.hook.0.get() else {
            self.grant(cycle, rdata, error);
            return;
        };
        h.granted(self, self.retire(cycle, rdata, error));
        debug_assert!(
            self.req.get().is_none() || self.posted_at.get() > cycle,
            "port '{}': a grant hook posted a request for the grant cycle",
            self.name
        );
    }
    /// The queue's part of [`Port::deliver_quiet`]: when it would post the next queued
    /// request itself, do so and return its due cycle (`cycle + 1`); else `None`, and
    /// nothing happened. Either way nothing but this port changed: no hook ran and
    /// nothing was woken.
    #[inline]
    pub fn deliver_queued(&self, cycle: u64, error: bool) -> Option<u64> {
        if cycle + 1 >= self.queue_until.get() || error || self.hook.0.get().is_none() {
            return None;
        }
        let next = self.queue_pop()?;
        let waited = cycle - self.posted_at.get().min(cycle);
        self.queued.add(cycle, waited);
        self.req.set(Some(next));
        self.posted_at.set(cycle + 1);
        self.posts.set(self.posts.get() + 1);
        Some(cycle + 1)
    }
    /// [`Port::deliver`] for an interconnect that looks after its own next pass: a request
    /// the grant hook posts does not wake the interconnect; instead the cycle it is due
    /// (`u64::MAX` for none, as [`Port::due`]) is returned, and the interconnect must tick
    /// then. Without a hook it is exactly [`Port::grant`] (and returns `u64::MAX`).
    /// A port with queued requests ([`Port::queue_fill`]) posts the next one itself
    /// ([`Delivered::from_queue`]: then nothing but this port changed).
    // (always inlined: called in the interconnect's per-grant path, where the queue's
    // case must stay a few instructions)
    #[inline(always)]
    pub fn deliver_quiet(&self, cycle: u64, rdata: D, error: bool) -> Delivered {
        if let Some(due) = self.deliver_queued(cycle, error) {
            return Delivered {
                due,
                from_queue: true,
            };
        }
        let due = match self.hook.0.get() {
            None => {
                self.grant(cycle, rdata, error);
                u64::MAX
            }
            Some(h) => {
                self.quiet.set(true);
                h.granted(self, self.retire(cycle, rdata, error));
                self.quiet.set(false);
                debug_assert!(
                    self.req.get().is_none() || self.posted_at.get() > cycle,
                    "port '{}': a grant hook posted a request for the grant cycle",
                    self.name
                );
                self.posted_at.get()
            }
        };
        Delivered {
            due,
            from_queue: false,
        }
    }
}

/// What [`Port::deliver_quiet`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The cycle the port's next request is due (`u64::MAX`: none posted).
    pub due: u64,
    /// The port posted its next queued request itself: no grant hook ran, nobody was
    /// woken.
    pub from_queue: bool,
}

/// The response to a granted narrow request.
pub type NarrowResp = Resp<u32>;
/// A narrow initiator port (cores, DMA, traffic generators).
pub type NarrowPort = Port<NarrowReq, u32>;

/// Maximum words of a wide port (RedMulE's default is 9: 256 data bits plus one word for
/// realignment; deeper CE pipelines widen it).
pub const WIDE_MAX_WORDS: usize = 16;

/// A wide request: `words` consecutive 32-bit words starting at `addr` (word aligned),
/// all granted in the same cycle or none (hci `hwpe` branch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WideReq {
    pub addr: u32,
    pub write: bool,
    pub words: u8,
    /// Byte enables, bit `4*i + b` for byte b of word i.
    pub be: u64,
    pub wdata: [u32; WIDE_MAX_WORDS],
}

impl WideReq {
    pub fn read(addr: u32, words: u8) -> WideReq {
        WideReq {
            addr,
            write: false,
            words,
            be: if words as usize >= 16 {
                u64::MAX
            } else {
                (1u64 << (4 * words as u32)) - 1
            },
            wdata: [0; WIDE_MAX_WORDS],
        }
    }
}

/// The response to a granted wide request.
pub type WideResp = Resp<[u32; WIDE_MAX_WORDS]>;
/// A wide initiator port (the accelerator's HWPE port).
pub type WidePort = Port<WideReq, [u32; WIDE_MAX_WORDS]>;

/// Event lines into an event unit (port kind "events"): accelerators, timers and DMAs raise
/// numbered events for a set of cores (hwpe `evt` outputs, event_unit_flex inputs).
pub trait EventSink {
    /// Raise event `line` (0..32) for every core whose bit is set in `core_mask`, in `cycle`.
    fn raise(&self, core_mask: u32, line: u32, cycle: u64);
}

/// A shareable handle to an event sink: `PortRef::new("events", Rc::new(EventsRef(..)))`.
#[derive(Clone)]
pub struct EventsRef(pub std::rc::Rc<dyn EventSink>);

/// Instruction-fetch timing (port kind "ifetch"): an instruction cache model that the cores
/// consult when a fetch enters a block they have not fetched from since their last question.
/// The component exporting it decides the block size (a cache line, a fetch word when
/// bypassed), so a core asks once per block, not once per instruction.
pub trait FetchTiming {
    /// Core `core` fetches from the block holding `addr` in its local `cycle`: the stall
    /// cycles beyond a hit, and the size of the block it may go on fetching from freely.
    fn fetch(&self, core: u32, addr: u32, cycle: u64) -> FetchGrant;
}

/// The answer of [`FetchTiming::fetch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchGrant {
    /// Cycles the fetch waits beyond an I-cache hit.
    pub stall: u32,
    /// log2 of the size in bytes of the block the core may fetch from without asking again.
    pub block_log2: u8,
}

/// A shareable handle to a fetch-timing model: `PortRef::new("ifetch", Rc::new(FetchRef(..)))`.
/// `None`: fetches hit (the model is off), and the cores install no hook at all.
#[derive(Clone)]
pub struct FetchRef(pub Option<std::rc::Rc<dyn FetchTiming>>);

#[cfg(test)]
mod tests {
    use super::*;

    fn rd(addr: u32) -> NarrowReq {
        NarrowReq {
            addr,
            write: false,
            be: 0xF,
            wdata: 0,
        }
    }

    /// Counts its calls and posts `next` for the cycle after each grant.
    struct Hook {
        calls: Cell<u64>,
        last: Cell<Option<Resp<u32>>>,
    }
    impl GrantHook<NarrowReq, u32> for Hook {
        fn granted(&self, port: &NarrowPort, resp: Resp<u32>) {
            self.calls.set(self.calls.get() + 1);
            self.last.set(Some(resp));
            port.request(resp.granted + 1, rd(0x99));
        }
    }

    #[test]
    fn queued_requests_are_posted_back_to_back_and_summed() {
        let p = NarrowPort::new("p");
        let h = Rc::new(Hook {
            calls: Cell::new(0),
            last: Cell::new(None),
        });
        p.set_grant_hook(h.clone());
        p.set_queue(4, 100);
        let queued = |due| Delivered {
            due,
            from_queue: true,
        };
        let hooked = |due| Delivered {
            due,
            from_queue: false,
        };
        assert_eq!(p.queue_fill([rd(1), rd(2), rd(3)]), 3);
        p.request(10, rd(0));
        // granted after 2 cycles: the port posts the first queued request for 13
        assert_eq!(p.deliver_queued(12, false), Some(13));
        assert_eq!((p.due(), p.pending()), (13, Some(rd(1))));
        // an address error takes the hook (which posts its own), the queue stays
        assert_eq!(p.deliver_queued(13, true), None);
        assert_eq!(p.deliver_quiet(13, 0, true), hooked(14));
        assert_eq!((h.calls.get(), p.pending()), (1, Some(rd(0x99))));
        assert_eq!(h.last.get().map(|r| (r.waited, r.error)), Some((0, true)));
        assert_eq!(p.deliver_quiet(17, 5, false), queued(18));
        assert_eq!(p.deliver_quiet(18, 5, false), queued(19));
        assert_eq!(
            (p.pending(), p.queue_len(), h.calls.get()),
            (Some(rd(3)), 0, 1)
        );
        assert_eq!(
            p.take_queued_grants(),
            QueuedGrants {
                n: 3,
                max_waited: 3,
                max_waited_before_last: 3,
                last_granted: 18,
                granted_before_last: 17,
            }
        );
        assert_eq!(p.take_queued_grants(), QueuedGrants::default());
        // queue empty: the hook again
        assert_eq!(p.deliver_quiet(19, 5, false), hooked(20));
        assert_eq!(h.calls.get(), 2);
        // a successor due at the queue's limit takes the hook too
        assert_eq!(p.queue_fill([rd(4)]), 1);
        assert_eq!(p.deliver_queued(99, false), None);
        assert_eq!(p.deliver_quiet(99, 5, false), hooked(100));
        assert_eq!((h.calls.get(), p.queue_len()), (3, 1));
        assert_eq!(p.queue_pop(), Some(rd(4)));
        assert_eq!(p.queue_pop(), None);
    }
}
