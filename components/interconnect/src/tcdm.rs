//! The TCDM (L1) storage: word-interleaved 32-bit banks with byte enables.
//!
//! Models the bank array behind `hci_interconnect.sv` (`mems[0:N_MEM-1]`, one
//! `tc_sram` per bank in pulp_cluster). The banks are 32 bits wide and word-interleaved:
//!
//! ```text
//! bank = (addr >> 2) % banks          row = (addr >> 2) / banks
//! ```
//!
//! so word `w = addr >> 2` lives at `(bank, row) = (w % banks, w / banks)` and its storage
//! index `row * banks + bank` is `w` itself: the banks are one linear array of words. A
//! wide access of `words` adjacent banks starting at `w % banks` whose set wraps past the last
//! bank uses row + 1 for the wrapped banks (`hci_router.sv`, `bank_level_address_generation`),
//! which is again the linear words `w .. w + words`.
//!
//! The cluster decodes the whole window `base .. base + 0x100000` as TCDM and the banks only
//! see the low address bits, so addresses beyond the TCDM size alias into it
//! (pulp-runtime's boot flag at `0x1003FFF0` lands at offset `0x1FFF0` of a 128 KiB TCDM).
//! Size and bank count are powers of two for this reason (and because `hci_router.sv`
//! asserts a power-of-two bank count).
//!
//! [`TcdmTarget`] gives loosely-timed and debug (zero-time) access to the same storage for
//! loaders, checkers and peripherals; these accesses bypass the arbitration.

use std::cell::Cell;
use std::rc::Rc;

use vp_kernel::tlm::{Command, Payload, Response, Target};
use vp_kernel::SimTime;

/// The address window the cluster decodes as TCDM (bit 20 selects the test-and-set alias,
/// which is not modelled).
pub const ALIAS_WINDOW: u32 = 0x10_0000;

/// Default TCDM base address in the cluster.
pub const DEFAULT_BASE: u32 = 0x1000_0000;
/// Default size (current RTL): 128 KiB.
pub const DEFAULT_SIZE: u32 = 128 * 1024;
/// Default bank count (current RTL).
pub const DEFAULT_BANKS: u32 = 16;
/// Most banks the interconnect supports (per-cycle state uses 64-bit bank masks).
pub const MAX_BANKS: u32 = 64;

/// Shape of the TCDM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcdmGeometry {
    /// Base address of the TCDM window.
    pub base: u32,
    /// Size in bytes (a power of two, a multiple of `banks * 4`, at most 1 MiB).
    pub size: u32,
    /// Number of 32-bit banks (a power of two, 1..=64).
    pub banks: u32,
}

impl Default for TcdmGeometry {
    fn default() -> Self {
        TcdmGeometry {
            base: DEFAULT_BASE,
            size: DEFAULT_SIZE,
            banks: DEFAULT_BANKS,
        }
    }
}

impl TcdmGeometry {
    /// Check the shape; errors name the offending field.
    pub fn validate(&self) -> Result<(), String> {
        if self.banks == 0 {
            return Err("banks: must not be zero".into());
        }
        if !self.banks.is_power_of_two() || self.banks > MAX_BANKS {
            // hci_router.sv asserts a power-of-two bank count; our masks are 64 bits.
            return Err(format!(
                "banks: must be a power of two between 1 and {MAX_BANKS} (got {})",
                self.banks
            ));
        }
        if self.size == 0 || !self.size.is_power_of_two() {
            return Err(format!(
                "size: must be a power of two in bytes (the banks decode the low address bits; got {})",
                self.size
            ));
        }
        if !self.size.is_multiple_of(self.banks * 4) {
            return Err(format!(
                "size: must be a multiple of banks * 4 = {} bytes (got {})",
                self.banks * 4,
                self.size
            ));
        }
        if self.size > ALIAS_WINDOW {
            return Err(format!(
                "size: at most {ALIAS_WINDOW:#x} bytes, the TCDM window of the cluster (got {:#x})",
                self.size
            ));
        }
        if !self.base.is_multiple_of(ALIAS_WINDOW) {
            return Err(format!(
                "base: must be aligned to the {ALIAS_WINDOW:#x}-byte TCDM window (got {:#x})",
                self.base
            ));
        }
        Ok(())
    }

    /// Bank of a byte address.
    #[inline]
    pub fn bank_of(&self, addr: u32) -> u32 {
        (addr >> 2) & (self.banks - 1)
    }
    /// Row (word within its bank) of a byte address, after aliasing.
    #[inline]
    pub fn row_of(&self, addr: u32) -> u32 {
        ((addr >> 2) & (self.size / 4 - 1)) / self.banks
    }
    /// Is `addr` inside the decoded TCDM window (`base .. base + 0x100000`)?
    #[inline]
    pub fn in_window(&self, addr: u32) -> bool {
        addr.wrapping_sub(self.base) < ALIAS_WINDOW
    }
}

/// The bank array. Interior mutability through `Cell`s: the interconnect's per-cycle path
/// and the TLM target share it without borrow checks.
pub struct Tcdm {
    geom: TcdmGeometry,
    words: Box<[Cell<u32>]>,
    word_mask: u32,
}

/// The 32-bit write mask of byte-enable nibble `be & 0xF`, by arithmetic (with a table load
/// the compiler branches): byte enable bit i moves to bit 8 i, then fills its byte.
#[inline(always)]
fn be_mask(be: u32) -> u32 {
    ((be & 0xF).wrapping_mul(0x0020_4081) & 0x0101_0101) * 0xFF
}

impl Tcdm {
    /// A zero-filled TCDM. The geometry must have been validated.
    pub fn new(geom: TcdmGeometry) -> Tcdm {
        let n = (geom.size / 4) as usize;
        Tcdm {
            geom,
            words: (0..n).map(|_| Cell::new(0)).collect(),
            word_mask: geom.size / 4 - 1,
        }
    }
    pub fn geometry(&self) -> TcdmGeometry {
        self.geom
    }

    /// Storage index of the word holding `addr` (aliased by the low address bits).
    #[inline]
    pub fn word_index(&self, addr: u32) -> usize {
        ((addr >> 2) & self.word_mask) as usize
    }
    #[inline]
    pub(crate) fn wrap_index(&self, idx: usize) -> usize {
        idx & self.word_mask as usize
    }
    #[inline]
    pub(crate) fn word_at(&self, idx: usize) -> u32 {
        self.words[idx].get()
    }
    #[inline]
    pub(crate) fn write_at(&self, idx: usize, data: u32, be: u8) {
        let m = be_mask(be as u32);
        let c = &self.words[idx];
        c.set((c.get() & !m) | (data & m));
    }

    /// A narrow access to word `idx` without a branch on its direction (random traffic
    /// makes it unpredictable): a write stores `data` under the byte enables `be` and
    /// answers 0, a read answers the word.
    #[inline]
    pub(crate) fn access_at(&self, idx: usize, write: bool, data: u32, be: u8) -> u32 {
        let c = &self.words[idx];
        let old = c.get();
        let w = (write as u32).wrapping_neg();
        let m = be_mask(be as u32) & w;
        c.set((old & !m) | (data & m));
        old & !w
    }

    /// The words `idx0 ..` (wrapping around the storage, as a wide access's banks take the
    /// next row) written with `data` under byte enables `be` (4 bits per word, word `i` at
    /// bits `4 i ..`).
    #[inline]
    pub(crate) fn write_words(&self, idx0: usize, data: &[u32], be: u64) {
        let n = data.len();
        if let Some(ws) = self.words.get(idx0..idx0 + n) {
            // no wrap: straight through the storage
            for (i, (c, &d)) in ws.iter().zip(data).enumerate() {
                let m = be_mask((be >> (4 * i)) as u32);
                c.set((c.get() & !m) | (d & m));
            }
        } else {
            for (i, &d) in data.iter().enumerate() {
                self.write_at(self.wrap_index(idx0 + i), d, (be >> (4 * i)) as u8);
            }
        }
    }

    /// The words `idx0 ..` (wrapping around, as [`Tcdm::write_words`]) into `out`.
    #[inline]
    pub(crate) fn read_words(&self, idx0: usize, out: &mut [u32]) {
        let n = out.len();
        if let Some(ws) = self.words.get(idx0..idx0 + n) {
            for (o, c) in out.iter_mut().zip(ws) {
                *o = c.get();
            }
        } else {
            for (i, o) in out.iter_mut().enumerate() {
                *o = self.word_at(self.wrap_index(idx0 + i));
            }
        }
    }

    /// Zero-time read of the word holding `addr`.
    pub fn read_word(&self, addr: u32) -> u32 {
        self.word_at(self.word_index(addr))
    }
    /// Zero-time write of the word holding `addr` with byte enables.
    pub fn write_word(&self, addr: u32, data: u32, be: u8) {
        self.write_at(self.word_index(addr), data, be)
    }
    /// Zero-time read of `buf.len()` bytes from `addr` (aliasing per byte).
    pub fn read_bytes(&self, addr: u32, buf: &mut [u8]) {
        // Bytes up to the first word boundary, then whole words (the bulk of a loader's or
        // RedMulE tile read), then the tail; aliasing stays per word.
        let head = (addr.wrapping_neg() & 3) as usize;
        let (first, rest) = buf.split_at_mut(head.min(buf.len()));
        for (i, b) in first.iter_mut().enumerate() {
            let a = addr.wrapping_add(i as u32);
            *b = (self.read_word(a) >> (8 * (a & 3))) as u8;
        }
        let start = addr.wrapping_add(first.len() as u32);
        let mut idx = self.word_index(start);
        let mut words = rest.chunks_exact_mut(4);
        let n = words.len();
        if idx + n <= self.words.len() {
            // no alias wrap: straight through the storage
            for (w, c) in (&mut words).zip(&self.words[idx..idx + n]) {
                w.copy_from_slice(&c.get().to_le_bytes());
            }
            idx = self.wrap_index(idx + n);
        } else {
            for w in &mut words {
                w.copy_from_slice(&self.word_at(idx).to_le_bytes());
                idx = self.wrap_index(idx + 1);
            }
        }
        let tail = words.into_remainder();
        let word = self.word_at(idx).to_le_bytes();
        tail.copy_from_slice(&word[..tail.len()]);
    }
    /// Zero-time write of `data` at `addr` (aliasing per byte).
    pub fn write_bytes(&self, addr: u32, data: &[u8]) {
        // Bytes up to the first word boundary, then whole words (a loader's bulk), then
        // the tail; as `read_bytes`.
        let head = (addr.wrapping_neg() & 3) as usize;
        let (first, rest) = data.split_at(head.min(data.len()));
        for (i, b) in first.iter().enumerate() {
            let a = addr.wrapping_add(i as u32);
            self.write_word(a, (*b as u32) << (8 * (a & 3)), 1 << (a & 3));
        }
        let start = addr.wrapping_add(first.len() as u32);
        let mut idx = self.word_index(start);
        let mut words = rest.chunks_exact(4);
        for w in &mut words {
            self.words[idx].set(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            idx = self.wrap_index(idx + 1);
        }
        let tail_at = start.wrapping_add((rest.len() & !3) as u32);
        for (i, b) in words.remainder().iter().enumerate() {
            let a = tail_at.wrapping_add(i as u32);
            self.write_word(a, (*b as u32) << (8 * (a & 3)), 1 << (a & 3));
        }
    }
}

/// Loosely-timed and debug access to the TCDM storage (the `tcdm` export and the bus
/// mapping). Accepts addresses relative to the TCDM base (as the address map hands them
/// over) or absolute ones inside the window; both alias by the low bits. These accesses
/// bypass the bank arbitration: they are for loaders, checkers and peripherals.
pub struct TcdmTarget {
    tcdm: Rc<Tcdm>,
    /// Delay a `b_transport` adds: one clock cycle (the response latency of a granted
    /// access).
    latency: SimTime,
}

impl TcdmTarget {
    pub fn new(tcdm: Rc<Tcdm>, latency: SimTime) -> TcdmTarget {
        TcdmTarget { tcdm, latency }
    }

    fn offset(&self, addr: u64) -> Option<u32> {
        let base = self.tcdm.geom.base as u64;
        let off = if addr >= base { addr - base } else { addr };
        (off < ALIAS_WINDOW as u64).then_some(off as u32)
    }
}

impl Target for TcdmTarget {
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime) {
        if self.debug_transport(p) > 0 || p.data.is_empty() {
            *delay += self.latency;
        }
    }

    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        let n = p.data.len();
        let Some(off) = self.offset(p.address) else {
            p.response = Response::AddressError;
            return 0;
        };
        if off as u64 + n as u64 > ALIAS_WINDOW as u64 {
            p.response = Response::AddressError;
            return 0;
        }
        let base = self.tcdm.geom.base;
        match p.command {
            Command::Read => self.tcdm.read_bytes(base + off, &mut p.data),
            Command::Write if p.byte_enable.is_empty() => {
                self.tcdm.write_bytes(base + off, &p.data)
            }
            Command::Write => {
                for i in 0..n {
                    if p.enabled(i) {
                        self.tcdm
                            .write_bytes(base + off + i as u32, &p.data[i..i + 1]);
                    }
                }
            }
        }
        p.response = Response::Ok;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_runs_are_the_words_one_by_one() {
        // random runs of 1-16 words, some wrapping past the last word, random byte enables:
        // write_words / read_words against write_at / word_at on wrapped indices
        let g = TcdmGeometry {
            size: 1024,
            ..TcdmGeometry::default()
        };
        let (t, r) = (Tcdm::new(g), Tcdm::new(g));
        let n_words = (g.size / 4) as usize;
        let mut x = vp_kernel::testkit::XorShift(0x0bad_5eed_1234_5678);
        let mut wrapped = 0;
        for k in 0..3000 {
            let n = 1 + x.below(16) as usize;
            let idx0 = if k % 3 == 0 {
                n_words - 1 - x.below(8) as usize
            } else {
                x.below(n_words as u64) as usize
            };
            wrapped += usize::from(idx0 + n > n_words);
            let data: Vec<u32> = (0..n).map(|_| x.next_u64() as u32).collect();
            let be = x.next_u64();
            t.write_words(idx0, &data, be);
            for (i, &d) in data.iter().enumerate() {
                r.write_at(r.wrap_index(idx0 + i), d, (be >> (4 * i)) as u8 & 0xF);
            }
            let mut got = vec![0u32; n];
            t.read_words(idx0, &mut got);
            let want: Vec<u32> = (0..n).map(|i| r.word_at(r.wrap_index(idx0 + i))).collect();
            assert_eq!(got, want, "k {k}");
        }
        assert!(wrapped > 300, "{wrapped} wrapping runs");
        for i in 0..n_words {
            assert_eq!(t.word_at(i), r.word_at(i), "word {i}");
        }
    }

    #[test]
    fn access_at_is_a_read_or_a_masked_write() {
        // every byte-enable pattern, both directions, random words: the branch-free access
        // against word_at / write_at
        let t = Tcdm::new(TcdmGeometry::default());
        let r = Tcdm::new(TcdmGeometry::default());
        let mut x = vp_kernel::testkit::XorShift(0x2545_f491_4f6c_dd1d);
        for k in 0..4000 {
            let idx = x.below(64) as usize;
            let old = x.next_u64() as u32;
            t.words[idx].set(old);
            r.words[idx].set(old);
            let (write, be, data) = (k % 2 == 1, (k / 2 % 16) as u8, x.next_u64() as u32);
            let want = if write {
                r.write_at(idx, data, be);
                0
            } else {
                r.word_at(idx)
            };
            assert_eq!(t.access_at(idx, write, data, be), want, "k {k}");
            assert_eq!(t.words[idx].get(), r.words[idx].get(), "k {k}");
        }
    }

    #[test]
    fn be_mask_of_every_nibble() {
        assert_eq!(be_mask(0), 0);
        assert_eq!(be_mask(0b0101), 0x00FF_00FF);
        assert_eq!(be_mask(0xF), 0xFFFF_FFFF);
        // every nibble: byte b all ones exactly when bit b is set; bits above 3 ignored
        for be in 0..64u32 {
            let want = (0..4).fold(0u32, |m, b| m | ((be >> b & 1) * 0xFF) << (8 * b));
            assert_eq!(be_mask(be), want, "be {be:#x}");
        }
    }

    #[test]
    fn word_interleaving_and_aliasing() {
        let g = TcdmGeometry::default();
        // 128 KiB, 16 banks: bank = addr[5:2], row = addr[16:6].
        assert_eq!(g.bank_of(0x1000_0044), 1);
        assert_eq!(g.row_of(0x1000_0044), 1);
        // the boot flag 0x1003FFF0 aliases to offset 0x1FFF0: bank 12, row 2047
        assert_eq!(g.bank_of(0x1003_FFF0), 12);
        assert_eq!(g.row_of(0x1003_FFF0), 2047);
        let t = Tcdm::new(g);
        t.write_word(0x1003_FFF0, 0xCAFE, 0xF);
        assert_eq!(t.read_word(0x1001_FFF0), 0xCAFE);
    }

    #[test]
    fn bulk_reads_equal_byte_reads_at_any_alignment_and_across_the_alias_wrap() {
        let g = TcdmGeometry {
            size: 256,
            banks: 4,
            ..TcdmGeometry::default()
        };
        let t = Tcdm::new(g);
        for i in 0..64u32 {
            t.write_word(
                g.base + 4 * i,
                0x0101_0101u32.wrapping_mul(i) ^ 0xA5C3_0F17,
                0xF,
            );
        }
        let byte = |a: u32| (t.read_word(a) >> (8 * (a & 3))) as u8;
        // Start offsets on every byte lane; lengths crossing the 256-byte alias boundary.
        for start in [0u32, 1, 2, 3, 5, 250, 253, 254, 255] {
            for len in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 17, 40] {
                let a = g.base + start;
                let mut buf = vec![0u8; len];
                t.read_bytes(a, &mut buf);
                let want: Vec<u8> = (0..len as u32).map(|i| byte(a.wrapping_add(i))).collect();
                assert_eq!(buf, want, "start {start} len {len}");
            }
        }
    }

    #[test]
    fn bulk_writes_equal_byte_writes_at_any_alignment_and_across_the_alias_wrap() {
        let g = TcdmGeometry {
            size: 256,
            banks: 4,
            ..TcdmGeometry::default()
        };
        for start in 0..12u32 {
            for len in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 13, 64, 255, 256] {
                let a = g.base + 250 + start;
                let data: Vec<u8> = (0..len)
                    .map(|i| (i as u8).wrapping_mul(37) ^ 0x5A)
                    .collect();
                let (bulk, bytes) = (Tcdm::new(g), Tcdm::new(g));
                for t in [&bulk, &bytes] {
                    for i in 0..64u32 {
                        t.write_word(g.base + 4 * i, 0x0101_0101u32.wrapping_mul(i), 0xF);
                    }
                }
                bulk.write_bytes(a, &data);
                for (i, b) in data.iter().enumerate() {
                    let x = a.wrapping_add(i as u32);
                    bytes.write_word(x, (*b as u32) << (8 * (x & 3)), 1 << (x & 3));
                }
                for i in 0..64u32 {
                    let w = g.base + 4 * i;
                    assert_eq!(
                        bulk.read_word(w),
                        bytes.read_word(w),
                        "start {start} len {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn geometry_errors_name_the_field() {
        let bad = |g: TcdmGeometry| g.validate().unwrap_err();
        let d = TcdmGeometry::default();
        assert!(bad(TcdmGeometry { banks: 0, ..d }).starts_with("banks"));
        assert!(bad(TcdmGeometry { banks: 12, ..d }).starts_with("banks"));
        assert!(bad(TcdmGeometry {
            size: 96 * 1024,
            ..d
        })
        .starts_with("size"));
        assert!(bad(TcdmGeometry {
            size: 32,
            banks: 16,
            ..d
        })
        .starts_with("size"));
        assert!(bad(TcdmGeometry { size: 2 << 20, ..d }).starts_with("size"));
        assert!(bad(TcdmGeometry {
            base: 0x1000_0004,
            ..d
        })
        .starts_with("base"));
    }
}
