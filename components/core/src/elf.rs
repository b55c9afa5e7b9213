//! A minimal ELF32 little-endian RISC-V loader (System V ABI, ELF-64/32 spec
//! "Object Files" chapter): header validation, PT_LOAD segments and the symbol
//! table (for traces).
//!
//! Loading into memory is the platform's job: [`Elf::segments`] gives each
//! segment's address, file bytes and zero-filled memory size, and
//! [`Elf::check_fits`] rejects segments that fall outside the platform's memories.

use std::fmt;

/// Why an ELF file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the structure being read.
    Truncated(&'static str),
    /// Missing `\x7fELF` magic.
    NotElf,
    /// Not ELFCLASS32.
    WrongClass(u8),
    /// Not little endian.
    WrongEndian(u8),
    /// `e_machine` is not EM_RISCV (243).
    WrongMachine(u16),
    /// Not an executable (ET_EXEC) file.
    NotExecutable(u16),
    /// A segment's file range lies outside the file.
    BadSegment {
        /// Index of the program header.
        index: usize,
    },
    /// A segment does not fit in any memory region given to [`Elf::check_fits`].
    SegmentOutsideMemory {
        /// Load (physical) address.
        addr: u32,
        /// Memory size.
        size: u32,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Truncated(what) => write!(f, "ELF file truncated while reading the {what}"),
            ElfError::NotElf => write!(f, "not an ELF file (bad magic)"),
            ElfError::WrongClass(c) => write!(f, "not a 32-bit ELF file (EI_CLASS = {c})"),
            ElfError::WrongEndian(e) => write!(f, "not a little-endian ELF file (EI_DATA = {e})"),
            ElfError::WrongMachine(m) => {
                write!(f, "not a RISC-V ELF file (e_machine = {m}, expected 243)")
            }
            ElfError::NotExecutable(t) => {
                write!(f, "not an executable ELF file (e_type = {t}, expected 2)")
            }
            ElfError::BadSegment { index } => {
                write!(f, "program header {index} points outside the file")
            }
            ElfError::SegmentOutsideMemory { addr, size } => {
                write!(
                    f,
                    "segment at {addr:#010x} of {size:#x} bytes lies outside the platform memories"
                )
            }
        }
    }
}

impl std::error::Error for ElfError {}

/// A PT_LOAD segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Physical (load) address `p_paddr`.
    pub paddr: u32,
    /// Virtual address `p_vaddr` (equal to paddr on the cluster).
    pub vaddr: u32,
    /// Bytes from the file (`p_filesz`).
    pub data: Vec<u8>,
    /// Size in memory (`p_memsz`); bytes past `data` are zero.
    pub memsz: u32,
    /// Flags (PF_X = 1, PF_W = 2, PF_R = 4).
    pub flags: u32,
}

/// A symbol of `.symtab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Name.
    pub name: String,
    /// Value (address).
    pub addr: u32,
    /// Size in bytes.
    pub size: u32,
    /// Whether it is a function (STT_FUNC).
    pub is_func: bool,
}

/// A parsed executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elf {
    /// Entry point `e_entry`.
    pub entry: u32,
    /// PT_LOAD segments in file order.
    pub segments: Vec<Segment>,
    /// Symbols with a name, sorted by address.
    pub symbols: Vec<Symbol>,
}

fn u16_at(b: &[u8], off: usize, what: &'static str) -> Result<u16, ElfError> {
    b.get(off..off.checked_add(2).ok_or(ElfError::Truncated(what))?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(ElfError::Truncated(what))
}

fn u32_at(b: &[u8], off: usize, what: &'static str) -> Result<u32, ElfError> {
    b.get(off..off.checked_add(4).ok_or(ElfError::Truncated(what))?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(ElfError::Truncated(what))
}

const EM_RISCV: u16 = 243;
const PT_LOAD: u32 = 1;
const SHT_SYMTAB: u32 = 2;

impl Elf {
    /// Parse and validate an ELF32 LE RISC-V executable.
    pub fn parse(b: &[u8]) -> Result<Elf, ElfError> {
        if b.len() < 4 || &b[0..4] != b"\x7fELF" {
            return Err(ElfError::NotElf);
        }
        if b.len() < 52 {
            return Err(ElfError::Truncated("ELF header"));
        }
        if b[4] != 1 {
            return Err(ElfError::WrongClass(b[4]));
        }
        if b[5] != 1 {
            return Err(ElfError::WrongEndian(b[5]));
        }
        let e_type = u16_at(b, 16, "ELF header")?;
        let machine = u16_at(b, 18, "ELF header")?;
        if machine != EM_RISCV {
            return Err(ElfError::WrongMachine(machine));
        }
        if e_type != 2 {
            return Err(ElfError::NotExecutable(e_type));
        }
        let entry = u32_at(b, 24, "ELF header")?;
        let phoff = u32_at(b, 28, "ELF header")? as usize;
        let shoff = u32_at(b, 32, "ELF header")? as usize;
        let phentsize = u16_at(b, 42, "ELF header")? as usize;
        let phnum = u16_at(b, 44, "ELF header")? as usize;
        let shentsize = u16_at(b, 46, "ELF header")? as usize;
        let shnum = u16_at(b, 48, "ELF header")? as usize;

        let mut segments = Vec::new();
        if phnum > 0 && phentsize < 32 {
            return Err(ElfError::Truncated("program headers"));
        }
        for index in 0..phnum {
            let what = "program headers";
            let ph = index
                .checked_mul(phentsize)
                .and_then(|o| o.checked_add(phoff))
                .ok_or(ElfError::Truncated(what))?;
            if u32_at(b, ph, what)? != PT_LOAD {
                continue;
            }
            let offset = u32_at(b, ph + 4, what)? as usize;
            let vaddr = u32_at(b, ph + 8, what)?;
            let paddr = u32_at(b, ph + 12, what)?;
            let filesz = u32_at(b, ph + 16, what)? as usize;
            let memsz = u32_at(b, ph + 20, what)?;
            let flags = u32_at(b, ph + 24, what)?;
            let data = offset
                .checked_add(filesz)
                .and_then(|end| b.get(offset..end))
                .ok_or(ElfError::BadSegment { index })?
                .to_vec();
            if (memsz as usize) < filesz {
                return Err(ElfError::BadSegment { index });
            }
            segments.push(Segment {
                paddr,
                vaddr,
                data,
                memsz,
                flags,
            });
        }
        let symbols = if shoff != 0 && shentsize >= 40 {
            read_symbols(b, shoff, shentsize, shnum).unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Elf {
            entry,
            segments,
            symbols,
        })
    }

    /// Check that every segment lies inside one of `regions` (base, size).
    pub fn check_fits(&self, regions: &[(u32, u32)]) -> Result<(), ElfError> {
        for s in &self.segments {
            let start = s.paddr as u64;
            let end = start + s.memsz as u64;
            let ok = s.memsz == 0
                || regions
                    .iter()
                    .any(|&(base, size)| start >= base as u64 && end <= base as u64 + size as u64);
            if !ok {
                return Err(ElfError::SegmentOutsideMemory {
                    addr: s.paddr,
                    size: s.memsz,
                });
            }
        }
        Ok(())
    }

    /// Address of the symbol called `name`.
    pub fn symbol(&self, name: &str) -> Option<u32> {
        self.symbols.iter().find(|s| s.name == name).map(|s| s.addr)
    }

    /// The function symbol containing `addr` (for traces: `main+0x1c`).
    pub fn symbolize(&self, addr: u32) -> Option<(&str, u32)> {
        let idx = self.symbols.partition_point(|s| s.addr <= addr);
        self.symbols[..idx]
            .iter()
            .rev()
            .find(|s| s.is_func && (s.size == 0 || addr < s.addr.wrapping_add(s.size)))
            .map(|s| (s.name.as_str(), addr - s.addr))
    }
}

/// Symbols of the first SHT_SYMTAB section (None if malformed: symbols are optional).
fn read_symbols(b: &[u8], shoff: usize, shentsize: usize, shnum: usize) -> Option<Vec<Symbol>> {
    let sh = |i: usize, field: usize| {
        let off = i
            .checked_mul(shentsize)?
            .checked_add(shoff)?
            .checked_add(field)?;
        u32_at(b, off, "section headers").ok()
    };
    let symtab = (0..shnum).find(|&i| sh(i, 4) == Some(SHT_SYMTAB))?;
    let off = sh(symtab, 16)? as usize;
    let size = sh(symtab, 20)? as usize;
    let link = sh(symtab, 24)? as usize;
    let entsize = (sh(symtab, 36)? as usize).max(16);
    let stroff = sh(link, 16)? as usize;
    let strsize = sh(link, 20)? as usize;
    let strtab = b.get(stroff..stroff.checked_add(strsize)?)?;
    let mut out = Vec::new();
    for k in 0..size / entsize {
        let e = k.checked_mul(entsize)?.checked_add(off)?;
        let name_off = u32_at(b, e, "symbols").ok()? as usize;
        let value = u32_at(b, e + 4, "symbols").ok()?;
        let sz = u32_at(b, e + 8, "symbols").ok()?;
        let info = *b.get(e + 12)?;
        let name_bytes = strtab.get(name_off..)?;
        let len = name_bytes
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(name_bytes.len());
        let name = String::from_utf8_lossy(&name_bytes[..len]).into_owned();
        let kind = info & 0xf;
        // Keep named objects, functions and untyped labels (like _start in assembly).
        if name.is_empty() || kind > 2 {
            continue;
        }
        out.push(Symbol {
            name,
            addr: value,
            size: sz,
            is_func: kind == 2 || kind == 0,
        });
    }
    out.sort_by_key(|s| s.addr);
    Some(out)
}
