//! The timing model of the cluster's hierarchical instruction cache (pulp-platform/hier-icache
//! v1.3.0 `icache_hier_top`, as pulp_cluster caaa973 instantiates it): a private L1 per core
//! and a banked shared L1.5, both set associative with 16-byte lines, refilled from L2 over
//! AXI. Pure state, no simulation kernel: the component wraps it.
//!
//! Geometry (pulp_cluster_package.sv: iCachePrivateSize 512, iCacheSharedSize 4096,
//! iCacheNumBanks 2, iCacheNumWays 4, iCacheNumLines 1, iCachePrivateDataWidth 32):
//! * `*_CACHE_LINE = 1` counts words of the *refill* width, 128 bits, not of the 32-bit fetch
//!   (pri_icache.sv: `DATA_WIDTH = REFILL_DATA_WIDTH`, `SCM_NUM_ROWS = WAY_SIZE /
//!   (CACHE_LINE * REFILL_DATA_WIDTH / 8)`): a line is 16 bytes in both levels.
//! * Private: 512 B / 4 ways / 16 B = 8 sets, set index `addr[6:4]` (pri_icache.sv SET_ID_LSB/MSB).
//! * Shared: 4 KiB in 2 banks of 2 KiB, bank = `addr[4]` (icache_intc
//!   RoutingBlock_Req: `address[OFFSET + log2(N_CACHE_BANKS) - 1 : OFFSET]`), 32 sets per
//!   bank, set index `addr[9:5]` (share_icache_controller.sv INDEX_LSB_SH/INDEX_MSB_SH).
//!
//! Replacement (pri_icache_controller.sv, share_icache_controller.sv, common_cells
//! lfsr_8bit.sv v1.13.1): each private cache and each shared bank has an 8-bit LFSR, seed 0,
//! shifting in `!(q[7] ^ q[3] ^ q[2] ^ q[1])`; the victim way is `q[log2(ways)-1:0]`
//! (read before the shift). The private cache fills the highest-numbered invalid way first
//! (its `first_available_way` loop keeps the last match) and uses and advances its LFSR only
//! when every way of the set is valid; the shared bank always takes the LFSR's way and
//! advances it on every refill it requests (`enable_LFSR` in REQUEST_A_REFILL).
//!
//! Tags are whole line addresses: the RTL's reduced tags (USE_REDUCED_TAG) only alias
//! addresses outside the L2, from which the cluster does not execute.

/// Geometry of the hierarchy (all sizes in bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Cores, each with a private cache.
    pub cores: u32,
    /// Private cache size per core.
    pub private_bytes: u32,
    /// Private cache ways.
    pub private_ways: u32,
    /// Shared cache size (all banks).
    pub shared_bytes: u32,
    /// Shared cache banks.
    pub shared_banks: u32,
    /// Shared cache ways.
    pub shared_ways: u32,
}

/// Line size in bytes (128-bit refill words, `*_CACHE_LINE = 1`).
pub const LINE_BYTES: u32 = 16;
const LINE_LOG2: u32 = 4;

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            cores: 8,
            private_bytes: 512,
            private_ways: 4,
            shared_bytes: 4096,
            shared_banks: 2,
            shared_ways: 4,
        }
    }
}

/// common_cells `lfsr_8bit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Lfsr8(pub u8);

impl Lfsr8 {
    /// The victim way among `ways` (a power of two up to 8): the low bits of the state.
    pub fn way(self, ways: u32) -> usize {
        (self.0 as u32 & (ways - 1)) as usize
    }
    /// One shift (`en_i`).
    pub fn step(&mut self) {
        let q = self.0;
        let fb = !((q >> 7) ^ (q >> 3) ^ (q >> 2) ^ (q >> 1)) & 1;
        self.0 = (q << 1) | fb;
    }
}

/// One set-associative array of line addresses.
#[derive(Clone, Debug)]
struct Array {
    ways: u32,
    sets: u32,
    /// `tags[set * ways + way]`: the line address held, if valid.
    tags: Vec<Option<u32>>,
    lfsr: Lfsr8,
}

impl Array {
    fn new(ways: u32, sets: u32) -> Self {
        Array {
            ways,
            sets,
            tags: vec![None; (ways * sets) as usize],
            lfsr: Lfsr8::default(),
        }
    }
    fn set_slice(&mut self, set: u32) -> &mut [Option<u32>] {
        let w = self.ways as usize;
        let s = set as usize * w;
        &mut self.tags[s..s + w]
    }
    fn lookup(&mut self, set: u32, line: u32) -> bool {
        self.set_slice(set).contains(&Some(line))
    }
    fn invalidate_all(&mut self) {
        self.tags.fill(None);
    }
    fn invalidate_set(&mut self, set: u32) {
        self.set_slice(set).fill(None);
    }
}

/// Which level answered a fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Hit in the core's private cache.
    Private,
    /// Private miss, hit in the shared cache.
    Shared,
    /// Missed both: refilled from L2 over AXI.
    L2,
    /// Caches disabled: the fetch went to L2 through the bypass path.
    Bypass,
}

/// Hit / transaction / miss counts of one cache (the RTL's bank_*_count registers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub hit: u32,
    pub trans: u32,
    pub miss: u32,
}

/// The two-level instruction cache.
#[derive(Clone, Debug)]
pub struct Hierarchy {
    geo: Geometry,
    private: Vec<Array>,
    shared: Vec<Array>,
    /// Counters of the private caches and of the shared banks.
    pub private_counts: Vec<Counts>,
    pub shared_counts: Vec<Counts>,
}

impl Hierarchy {
    /// Empty (all lines invalid) caches of geometry `geo` (validated by the caller).
    pub fn new(geo: Geometry) -> Self {
        let psets = geo.private_bytes / geo.private_ways / LINE_BYTES;
        let ssets = geo.shared_bytes / geo.shared_banks / geo.shared_ways / LINE_BYTES;
        Hierarchy {
            geo,
            private: (0..geo.cores)
                .map(|_| Array::new(geo.private_ways, psets))
                .collect(),
            shared: (0..geo.shared_banks)
                .map(|_| Array::new(geo.shared_ways, ssets))
                .collect(),
            private_counts: vec![Counts::default(); geo.cores as usize],
            shared_counts: vec![Counts::default(); geo.shared_banks as usize],
        }
    }

    /// The geometry.
    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    fn private_set(&self, line: u32) -> u32 {
        line & (self.private[0].sets - 1)
    }
    fn shared_bank_set(&self, line: u32) -> (usize, u32) {
        let banks = self.geo.shared_banks;
        let bank = (line & (banks - 1)) as usize;
        let set = (line >> banks.trailing_zeros()) & (self.shared[0].sets - 1);
        (bank, set)
    }

    /// A fetch of core `core` (< cores) from `addr` with the caches enabled: the level that
    /// answered; the missing levels are refilled.
    pub fn fetch(&mut self, core: usize, addr: u32) -> Level {
        let line = addr >> LINE_LOG2;
        let pset = self.private_set(line);
        let pc = &mut self.private_counts[core];
        pc.trans = pc.trans.wrapping_add(1);
        if self.private[core].lookup(pset, line) {
            pc.hit = pc.hit.wrapping_add(1);
            return Level::Private;
        }
        pc.miss = pc.miss.wrapping_add(1);
        // pri_icache_controller.sv TAG_LOOKUP/MISS: highest invalid way, else the LFSR's.
        let p = &mut self.private[core];
        let ways = p.ways;
        let free = p.set_slice(pset).iter().rposition(|t| t.is_none());
        let victim = match free {
            Some(w) => w,
            None => {
                let w = p.lfsr.way(ways);
                p.lfsr.step();
                w
            }
        };
        p.set_slice(pset)[victim] = Some(line);

        let (bank, sset) = self.shared_bank_set(line);
        let sc = &mut self.shared_counts[bank];
        sc.trans = sc.trans.wrapping_add(1);
        let s = &mut self.shared[bank];
        if s.lookup(sset, line) {
            sc.hit = sc.hit.wrapping_add(1);
            return Level::Shared;
        }
        sc.miss = sc.miss.wrapping_add(1);
        // share_icache_controller.sv REQUEST_A_REFILL: the LFSR's way, LFSR advanced.
        let w = s.lfsr.way(s.ways);
        s.lfsr.step();
        s.set_slice(sset)[w] = Some(line);
        Level::L2
    }

    /// Invalidate every private cache, and the shared banks too when `shared`.
    pub fn flush(&mut self, shared: bool) {
        self.private.iter_mut().for_each(Array::invalidate_all);
        if shared {
            self.shared.iter_mut().for_each(Array::invalidate_all);
        }
    }

    /// Invalidate, in every cache, the set `addr` indexes (all its ways): SEL_FLUSH.
    pub fn flush_set(&mut self, addr: u32) {
        let line = addr >> LINE_LOG2;
        let pset = self.private_set(line);
        let (_, sset) = self.shared_bank_set(line);
        for p in &mut self.private {
            p.invalidate_set(pset);
        }
        // share_icache_controller.sv DO_SEL_FLUSH: every bank clears that index.
        for s in &mut self.shared {
            s.invalidate_set(sset);
        }
    }

    /// Is the line holding `addr` in core `core`'s private cache?
    pub fn in_private(&self, core: usize, addr: u32) -> bool {
        let line = addr >> LINE_LOG2;
        let set = self.private_set(line) as usize;
        let w = self.geo.private_ways as usize;
        self.private[core].tags[set * w..set * w + w].contains(&Some(line))
    }
}
