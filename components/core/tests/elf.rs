//! The ELF loader on hand-built files.

mod common;
use common::asm::*;
use common::reg::*;
use common::*;
use vp_core::{Elf, ElfError, Hart, Stop};

/// Build an ELF32 LE RISC-V executable: one PT_LOAD with `code` at `addr` plus
/// `bss` zero bytes, and a symbol table with `_start` (NOTYPE) and `main` (FUNC).
fn build(addr: u32, code: &[u32], bss: u32) -> Vec<u8> {
    let mut text: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let text_off = 52 + 32;
    let filesz = text.len() as u32;
    // string table and symbols after the text
    let strtab = b"\0_start\0main\0".to_vec();
    let sh_strtab = b"\0.symtab\0.strtab\0".to_vec();
    let mut syms = vec![0u8; 16]; // null symbol
    let sym = |name: u32, value: u32, size: u32, info: u8| {
        let mut s = Vec::new();
        s.extend(name.to_le_bytes());
        s.extend(value.to_le_bytes());
        s.extend(size.to_le_bytes());
        s.extend([info, 0]);
        s.extend(1u16.to_le_bytes());
        s
    };
    syms.extend(sym(1, addr, 0, 0x10)); // _start: GLOBAL NOTYPE
    syms.extend(sym(8, addr + 4, 8, 0x12)); // main: GLOBAL FUNC, 8 bytes
    let mut f = Vec::new();
    // ELF header
    f.extend(b"\x7fELF");
    f.extend([1, 1, 1, 0]);
    f.extend([0u8; 8]);
    f.extend(2u16.to_le_bytes()); // ET_EXEC
    f.extend(243u16.to_le_bytes()); // EM_RISCV
    f.extend(1u32.to_le_bytes());
    f.extend(addr.to_le_bytes()); // e_entry
    f.extend(52u32.to_le_bytes()); // e_phoff
    let shoff_pos = f.len();
    f.extend(0u32.to_le_bytes()); // e_shoff, patched below
    f.extend(0u32.to_le_bytes()); // e_flags
    f.extend(52u16.to_le_bytes());
    f.extend(32u16.to_le_bytes());
    f.extend(1u16.to_le_bytes()); // phnum
    f.extend(40u16.to_le_bytes());
    f.extend(4u16.to_le_bytes()); // shnum: null, .symtab, .strtab, .shstrtab
    f.extend(3u16.to_le_bytes()); // shstrndx
    assert_eq!(f.len(), 52);
    // program header
    for v in [1u32, text_off, addr, addr, filesz, filesz + bss, 5, 4] {
        f.extend(v.to_le_bytes());
    }
    f.append(&mut text);
    let symtab_off = f.len() as u32;
    f.extend(&syms);
    let strtab_off = f.len() as u32;
    f.extend(&strtab);
    let shstr_off = f.len() as u32;
    f.extend(&sh_strtab);
    while f.len() % 4 != 0 {
        f.push(0);
    }
    let shoff = f.len() as u32;
    f[shoff_pos..shoff_pos + 4].copy_from_slice(&shoff.to_le_bytes());
    let sh = |name: u32, ty: u32, off: u32, size: u32, link: u32, entsize: u32| {
        let mut s = Vec::new();
        for v in [name, ty, 0, 0, off, size, link, 0, 4, entsize] {
            s.extend(v.to_le_bytes());
        }
        s
    };
    f.extend(vec![0u8; 40]);
    f.extend(sh(1, 2, symtab_off, syms.len() as u32, 2, 16));
    f.extend(sh(9, 3, strtab_off, strtab.len() as u32, 0, 0));
    f.extend(sh(0, 3, shstr_off, sh_strtab.len() as u32, 0, 0));
    f
}

#[test]
fn a_valid_executable_gives_entry_segments_and_symbols() {
    let code = [addi(A0, ZERO, 42), addi(A0, A0, 1), EBREAK];
    let bytes = build(RAM + 0x80, &code, 64);
    let elf = Elf::parse(&bytes).expect("valid ELF");
    assert_eq!(elf.entry, RAM + 0x80);
    assert_eq!(elf.segments.len(), 1);
    let s = &elf.segments[0];
    assert_eq!(
        (s.paddr, s.vaddr, s.data.len(), s.memsz),
        (RAM + 0x80, RAM + 0x80, 12, 12 + 64)
    );
    assert_eq!(elf.symbol("_start"), Some(RAM + 0x80));
    assert_eq!(elf.symbol("main"), Some(RAM + 0x84));
    assert_eq!(elf.symbolize(RAM + 0x88), Some(("main", 4)));
    elf.check_fits(&[(RAM, RAM_SIZE)]).expect("fits in RAM");

    // Load and run it.
    let mut bus = TestBus::new();
    for s in &elf.segments {
        let off = (s.paddr - RAM) as usize;
        bus.ram[off..off + s.data.len()].copy_from_slice(&s.data);
    }
    let mut h = Hart::new(0, 0, elf.entry);
    assert!(matches!(h.run(&mut bus, 100), Stop::Ebreak { .. }));
    assert_eq!(h.x[A0 as usize], 43);
}

#[test]
fn malformed_files_are_rejected_with_a_reason() {
    let good = build(RAM, &[EBREAK], 0);
    assert_eq!(Elf::parse(b"hello world"), Err(ElfError::NotElf));
    assert_eq!(
        Elf::parse(&good[..30]),
        Err(ElfError::Truncated("ELF header"))
    );
    let mut bad = good.clone();
    bad[4] = 2;
    assert_eq!(Elf::parse(&bad), Err(ElfError::WrongClass(2)));
    let mut bad = good.clone();
    bad[18] = 62; // EM_X86_64
    assert_eq!(Elf::parse(&bad), Err(ElfError::WrongMachine(62)));
    let mut bad = good.clone();
    bad[5] = 2;
    assert_eq!(Elf::parse(&bad), Err(ElfError::WrongEndian(2)));
    let mut bad = good.clone();
    bad[52 + 4..52 + 8].copy_from_slice(&0xffff_0000u32.to_le_bytes()); // p_offset past the end
    assert_eq!(Elf::parse(&bad), Err(ElfError::BadSegment { index: 0 }));
    let elf = Elf::parse(&build(0x2000_0000, &[EBREAK], 0)).unwrap();
    let err = elf.check_fits(&[(RAM, RAM_SIZE)]).unwrap_err();
    assert_eq!(
        err,
        ElfError::SegmentOutsideMemory {
            addr: 0x2000_0000,
            size: 4
        }
    );
    assert!(err.to_string().contains("outside the platform memories"));
}

#[test]
fn prebuilt_firmware_parses_when_present() {
    // Not a dependency: the firmware directory is another team's; check what is there.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware/prebuilt");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.path().extension().is_some_and(|x| x == "elf") {
            let bytes = std::fs::read(e.path()).unwrap();
            let elf =
                Elf::parse(&bytes).unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            assert!(!elf.segments.is_empty());
        }
    }
}

#[test]
fn corrupted_files_never_panic() {
    let good = build(RAM, &[addi(A0, ZERO, 1), EBREAK], 16);
    for pos in 0..good.len() {
        for v in [0u8, 1, 0x7f, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[pos] = v;
            let _ = Elf::parse(&bad);
        }
    }
    for len in 0..good.len() {
        let _ = Elf::parse(&good[..len]);
    }
}
