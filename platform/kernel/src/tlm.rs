//! The loosely-timed TLM layer: generic payload, blocking transport with annotated delay,
//! debug transport and the address map.
//!
//! The vocabulary is SystemC TLM-2.0's. A payload carries a command, an address, data bytes
//! and byte enables; a target answers with a response status. `b_transport` may add to the
//! annotated delay (the time the access takes); `debug_transport` accesses the same state in
//! zero time with no side effects on timing, for loaders and checkers.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use crate::time::SimTime;

/// Command of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Read,
    Write,
}

/// Response status of a payload (TLM-2.0's `tlm_response_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    Incomplete,
    Ok,
    GenericError,
    AddressError,
    CommandError,
    BurstError,
    ByteEnableError,
}

impl Response {
    pub fn is_ok(self) -> bool {
        self == Response::Ok
    }
}

/// The generic payload.
#[derive(Clone, Debug)]
pub struct Payload {
    pub command: Command,
    /// Byte address. A target sees it relative to its base when reached through an
    /// [`AddressMap`] (as SystemC interconnects do); [`Payload::global_address`] keeps the
    /// original for error reports.
    pub address: u64,
    pub global_address: u64,
    pub data: Vec<u8>,
    /// Byte enables, one per data byte (`true` = enabled); empty = all enabled.
    pub byte_enable: Vec<bool>,
    pub response: Response,
    /// Who initiated the access (e.g. the core index), for targets whose behaviour depends
    /// on it (the event unit's per-core alias, RedMulE's committing core). `None` when
    /// unknown.
    pub initiator: Option<u32>,
    /// For initiators that can sleep (cores): their wake handle. A target that cannot
    /// answer yet (an event-unit wait register with no event pending) sets the response to
    /// [`Response::Incomplete`], keeps the handle, and wakes the initiator when the access
    /// can complete; the initiator then issues the same access again.
    pub sleeper: Option<crate::clocked::Wake>,
    /// Read data that settles after the grant (see [`Settle`]).
    pub settle: Settle,
}

/// Read data that settles after the grant: the RTL of some targets (the event unit) gives
/// a load the registers' content of its response cycle, so it holds what other initiators
/// do in the grant cycle, after this one was answered. An initiator that can take such
/// data (a core) issues its load with [`Settle::Accepted`] and a sleeper. The target may
/// then answer [`Response::Incomplete`] with [`Settle::Granted`]: the access was granted
/// at that time (it is performed; it is no wait). The target wakes the initiator once the
/// data has settled, and the initiator issues the same access again to collect it: it is
/// answered Ok with the data, not performed again, and counts as granted then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Settle {
    /// The initiator needs the data at once (the default).
    #[default]
    No,
    /// The initiator can take data settled after the grant.
    Accepted,
    /// Set by the target: granted at this time; the data follows.
    Granted(SimTime),
}

impl Payload {
    pub fn read(address: u64, len: usize) -> Payload {
        Payload {
            command: Command::Read,
            address,
            global_address: address,
            data: vec![0; len],
            byte_enable: Vec::new(),
            response: Response::Incomplete,
            initiator: None,
            sleeper: None,
            settle: Settle::No,
        }
    }
    pub fn write(address: u64, data: &[u8]) -> Payload {
        Payload {
            command: Command::Write,
            address,
            global_address: address,
            data: data.to_vec(),
            byte_enable: Vec::new(),
            response: Response::Incomplete,
            initiator: None,
            sleeper: None,
            settle: Settle::No,
        }
    }
    pub fn read_u32(address: u64) -> Payload {
        Payload::read(address, 4)
    }
    pub fn write_u32(address: u64, v: u32) -> Payload {
        Payload::write(address, &v.to_le_bytes())
    }
    /// Let the target put the initiator to sleep (see [`Payload::sleeper`]).
    pub fn with_sleeper(mut self, w: crate::clocked::Wake) -> Payload {
        self.sleeper = Some(w);
        self
    }
    /// Take read data that settles after the grant (see [`Settle`]).
    pub fn with_settle(mut self) -> Payload {
        self.settle = Settle::Accepted;
        self
    }
    pub fn with_initiator(mut self, id: u32) -> Payload {
        self.initiator = Some(id);
        self
    }
    /// The data as a little-endian word (missing bytes are zero).
    pub fn data_u32(&self) -> u32 {
        let mut b = [0u8; 4];
        for (i, v) in self.data.iter().take(4).enumerate() {
            b[i] = *v;
        }
        u32::from_le_bytes(b)
    }
    pub fn set_data_u32(&mut self, v: u32) {
        let b = v.to_le_bytes();
        for (i, d) in self.data.iter_mut().take(4).enumerate() {
            *d = b[i];
        }
    }
    /// Set up a 32-bit bus transaction on the word at `addr`: its enabled byte lanes `be`
    /// (bit i for lane i, contiguous as RV32 accesses are; 0 for all four), a write of
    /// `wdata` (its bytes in their lanes) or a read. The payload covers exactly the
    /// enabled bytes, from the first lane's address. Returns that first lane, for
    /// [`Payload::lanes_u32`].
    pub fn set_lanes(&mut self, addr: u32, be: u8, write: bool, wdata: u32) -> u32 {
        let be = be as u32;
        let (first, len) = if be == 0 {
            (0, 4)
        } else {
            let f = be.trailing_zeros();
            (f, 32 - be.leading_zeros() - f)
        };
        self.command = if write { Command::Write } else { Command::Read };
        self.address = (addr & !3).wrapping_add(first) as u64;
        self.data.resize(len as usize, 0);
        let w = wdata >> (8 * first);
        for (k, d) in self.data.iter_mut().enumerate() {
            *d = if write { (w >> (8 * k)) as u8 } else { 0 };
        }
        first
    }
    /// The data of a transaction set up with [`Payload::set_lanes`] (which returned
    /// `first`), back in its lanes of the word.
    pub fn lanes_u32(&self, first: u32) -> u32 {
        self.data_u32() << (8 * first)
    }
    /// Is byte `i` enabled?
    pub fn enabled(&self, i: usize) -> bool {
        self.byte_enable.get(i).copied().unwrap_or(true)
    }
}

/// A memory-mapped target (a register file, a memory).
pub trait Target {
    /// Perform the access; add the time it takes to `delay`.
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime);

    /// Zero-time access without side effects on timing. Returns the number of bytes
    /// accessed. The default forwards to `b_transport` and discards the delay, which is
    /// right for plain memories; register files with side effects should override it.
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        let mut d = SimTime::ZERO;
        self.b_transport(p, &mut d);
        if p.response.is_ok() {
            p.data.len()
        } else {
            0
        }
    }
}

/// A shared handle to a target.
pub type TargetRef = Rc<RefCell<dyn Target>>;

/// An address range of the map.
#[derive(Clone)]
pub struct Mapping {
    pub name: String,
    pub base: u64,
    pub size: u64,
    pub target: TargetRef,
}

/// An overlap of two mappings, reported when the map is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError(pub String);

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Routes payloads to targets by address range. Ranges must not overlap. Lookups are a
/// binary search; a one-entry cache makes runs of accesses to one target cheap.
#[derive(Clone, Default)]
pub struct AddressMap {
    maps: Vec<Mapping>,
}

impl AddressMap {
    pub fn new() -> AddressMap {
        AddressMap::default()
    }

    /// Add a range. Fails, naming both, when it overlaps an existing one.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        base: u64,
        size: u64,
        target: TargetRef,
    ) -> Result<(), MapError> {
        let name = name.into();
        if size == 0 {
            return Err(MapError(format!("mapping '{name}' has size 0")));
        }
        let end = base.checked_add(size).ok_or_else(|| {
            MapError(format!(
                "mapping '{name}' at {base:#x} + {size:#x} overflows"
            ))
        })?;
        for m in &self.maps {
            if base < m.base + m.size && m.base < end {
                return Err(MapError(format!(
                    "mapping '{name}' [{base:#x}, {end:#x}) overlaps '{}' [{:#x}, {:#x})",
                    m.name,
                    m.base,
                    m.base + m.size
                )));
            }
        }
        let pos = self.maps.partition_point(|m| m.base < base);
        self.maps.insert(
            pos,
            Mapping {
                name,
                base,
                size,
                target,
            },
        );
        Ok(())
    }

    /// The mapping that contains `addr`.
    pub fn find(&self, addr: u64) -> Option<&Mapping> {
        let i = self.maps.partition_point(|m| m.base <= addr);
        let m = self.maps.get(i.checked_sub(1)?)?;
        (addr < m.base + m.size).then_some(m)
    }

    pub fn mappings(&self) -> &[Mapping] {
        &self.maps
    }

    /// Route a payload: the target sees the address relative to its base. An unmapped
    /// address (or an access that runs past the end of its range) gets
    /// [`Response::AddressError`].
    pub fn b_transport(&self, p: &mut Payload, delay: &mut SimTime) {
        let addr = p.address;
        match self.find(addr) {
            Some(m) if addr + p.data.len() as u64 <= m.base + m.size => {
                p.global_address = addr;
                p.address = addr - m.base;
                m.target.borrow_mut().b_transport(p, delay);
                p.address = addr;
            }
            _ => p.response = Response::AddressError,
        }
    }

    /// Debug access through the map.
    pub fn debug_transport(&self, p: &mut Payload) -> usize {
        let addr = p.address;
        match self.find(addr) {
            Some(m) if addr + p.data.len() as u64 <= m.base + m.size => {
                p.global_address = addr;
                p.address = addr - m.base;
                let n = m.target.borrow_mut().debug_transport(p);
                p.address = addr;
                n
            }
            _ => {
                p.response = Response::AddressError;
                0
            }
        }
    }

    /// Describe an unmapped access for an error report: the address and the nearest
    /// ranges below and above it.
    pub fn describe_unmapped(&self, addr: u64) -> String {
        let i = self.maps.partition_point(|m| m.base <= addr);
        let below = i
            .checked_sub(1)
            .and_then(|j| self.maps.get(j))
            .map(|m| format!("'{}' ends at {:#x}", m.name, m.base + m.size));
        let above = self
            .maps
            .get(i)
            .map(|m| format!("'{}' starts at {:#x}", m.name, m.base));
        let mut s = format!("address {addr:#010x} is not mapped");
        match (below, above) {
            (Some(b), Some(a)) => s += &format!(" ({b}, {a})"),
            (Some(b), None) => s += &format!(" ({b})"),
            (None, Some(a)) => s += &format!(" ({a})"),
            (None, None) => {}
        }
        s
    }
}

/// A plain memory target: a byte array with byte enables, a fixed access latency and
/// address errors outside its size.
pub struct Memory {
    pub bytes: Vec<u8>,
    pub latency: SimTime,
}

impl Memory {
    pub fn new(size: usize, latency: SimTime) -> Memory {
        Memory {
            bytes: vec![0; size],
            latency,
        }
    }
}

impl Target for Memory {
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime) {
        if self.debug_transport(p) > 0 || p.data.is_empty() {
            *delay += self.latency;
        }
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        let a = p.address as usize;
        let n = p.data.len();
        if a.checked_add(n).is_none_or(|e| e > self.bytes.len()) {
            p.response = Response::AddressError;
            return 0;
        }
        match p.command {
            Command::Read => p.data.copy_from_slice(&self.bytes[a..a + n]),
            Command::Write => {
                for i in 0..n {
                    if p.enabled(i) {
                        self.bytes[a + i] = p.data[i];
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
    fn a_word_access_covers_its_enabled_lanes() {
        // (be, write data) -> (address, bytes); the read data back in its lanes
        let mut p = Payload::read(0, 4);
        let first = p.set_lanes(0x100, 0b0100, true, 0x00AB_0000);
        assert_eq!(
            (first, p.address, p.command, &p.data[..]),
            (2, 0x102, Command::Write, &[0xAB][..])
        );
        let first = p.set_lanes(0x100, 0b1100, true, 0xBEEF_0000);
        assert_eq!((p.address, &p.data[..]), (0x102, &[0xEF, 0xBE][..]));
        assert_eq!(p.lanes_u32(first), 0xBEEF_0000);
        let first = p.set_lanes(0x104, 0b1111, false, 0x1234_5678);
        assert_eq!(
            (first, p.address, p.command, &p.data[..]),
            (0, 0x104, Command::Read, &[0; 4][..])
        );
        // no byte enables: the whole word
        let first = p.set_lanes(0x108, 0, false, 0);
        assert_eq!((first, p.data.len()), (0, 4));
        p.data.copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(p.lanes_u32(first), 0x0403_0201);
        let first = p.set_lanes(0x10C, 0b0010, false, 0);
        p.data[0] = 0x7F;
        assert_eq!(p.lanes_u32(first), 0x7F00);
    }
}
