//! Differential test of the instruction semantics against QEMU (`qemu-riscv32`, user mode),
//! an implementation written independently of ours: random RV32IMFC programs (ALU, M, loads
//! and stores, F with every rounding mode and NaN, infinity, subnormal and saturating
//! operands, the compressed forms, forward branches and jumps) run on our hart and under
//! QEMU, and must end
//! with the same integer and FP registers, `fcsr` (flags and rounding mode) and memory.
//! Timing is not compared (QEMU has none).
//!
//! Needs `qemu-riscv32` (Debian's `qemu-user`). Without it the test says so and passes,
//! unless `REDMULE_VP_REQUIRE_QEMU` is set, as `.ci/run` does after installing it.

mod common;
mod progen;
use common::*;
use progen::*;
use std::path::Path;
use std::process::Command;
use vp_core::Stop;

/// Where the program runs (the test harness's RAM, also the ELF's text address).
const CODE: u32 = RAM;
/// Scratch memory for loads and stores (the harness's timed TCDM; the ELF's data segment).
const SCRATCH: u32 = TCDM;
const SCRATCH_LEN: usize = 0x800;
/// Register dump of the QEMU run, right after the scratch memory.
const DUMP: u32 = SCRATCH + SCRATCH_LEN as u32;
const DUMP_WORDS: usize = 30 + 32 + 1;

/// Bases of the generator's loads and stores (progen::RESERVED): sp for c.lwsp/c.swsp,
/// s1 for c.lw/c.sw, s11 for the others; x31 is the dump pointer of the QEMU epilogue.
const SP_BASE: u32 = SCRATCH + 0x100;
const S1_BASE: u32 = SCRATCH + 0x200;
const S11_BASE: u32 = SCRATCH + 0x400;

/// RV32IMFC, aligned accesses, fflags/frm/fcsr reads and fflags set/clear.
const OPTS: Opts = Opts {
    fp: true,
    divsqrt: true,
    misaligned: false,
    csrs: &[
        (0x001, 2, false),
        (0x002, 2, false),
        (0x003, 2, false),
        (0x001, 6, true),
        (0x001, 7, true),
    ],
};

/// Prologue (registers, rounding mode), `n` random instructions; returns the code and
/// the initial scratch memory.
fn program(seed: u64, n: usize) -> (Code, Vec<u8>) {
    let mut g = Rng(seed);
    let mut c = Code::default();
    // FP registers through x5, then fcsr (frm random, flags clear), then x registers.
    for f in 0..32 {
        let v = g.fval();
        c.li(5, v);
        c.w(r(0x78, 0, 5, 0, f, 0x53));
    }
    c.li(5, g.below(5) << 5);
    c.w((0x003 << 20) | (5 << 15) | (1 << 12) | 0x73); // csrrw x0, fcsr, x5
    for x in 1..32 {
        let v = match x {
            2 => SP_BASE,
            9 => S1_BASE,
            27 => S11_BASE,
            _ => g.xval(),
        };
        c.li(x, v);
    }
    let b = body(&mut g, n, &OPTS);
    c.0.extend(b.0);
    let scratch = (0..SCRATCH_LEN).map(|_| g.next() as u8).collect();
    (c, scratch)
}

/// The final state: x1..x30, f0..f31, fcsr, then the scratch memory.
#[derive(Debug, PartialEq)]
struct State {
    regs: Vec<u32>,
    mem: Vec<u8>,
}

fn run_ours(code: &Code, scratch: &[u8]) -> Result<State, String> {
    let mut parcels = code.0.clone();
    parcels.extend([0x0073, 0x0010]); // ebreak
    let (mut h, mut bus) = setup_halves(&parcels);
    bus.tcdm[..SCRATCH_LEN].copy_from_slice(scratch);
    // (a bound, so that a wrong jump cannot hang the test)
    match run_until_stop_before(&mut h, &mut bus, 0, 1_000_000) {
        Stop::Ebreak { .. } => {}
        other => return Err(format!("stopped with {other:?} at pc {:#x}", h.pc)),
    }
    let mut regs: Vec<u32> = (1..31).map(|k| h.x[k]).collect();
    regs.extend(h.f.iter().copied());
    regs.push(h.csr_read(0x003).ok_or("fcsr")?);
    Ok(State {
        regs,
        mem: bus.tcdm[..SCRATCH_LEN].to_vec(),
    })
}

/// The QEMU epilogue: store the registers and fcsr after the scratch memory, write both
/// to stdout, exit(0).
fn epilogue(c: &mut Code) {
    c.li(31, DUMP);
    for x in 1..31 {
        c.w(s(4 * (x as i32 - 1), x, 31, 2, 0x23));
    }
    for f in 0..32 {
        c.w(s(120 + 4 * f as i32, f, 31, 2, 0x27));
    }
    c.w((0x003 << 20) | (2 << 12) | (1 << 7) | 0x73); // csrrs x1, fcsr, x0
    c.w(s(248, 1, 31, 2, 0x23));
    c.li(17, 64); // write(1, SCRATCH, len)
    c.li(10, 1);
    c.li(11, SCRATCH);
    c.li(12, (SCRATCH_LEN + 4 * DUMP_WORDS) as u32);
    c.w(0x73);
    c.li(17, 93); // exit(0)
    c.li(10, 0);
    c.w(0x73);
}

/// A static ELF for qemu-riscv32: text at CODE, the scratch memory (and the dump after it)
/// at SCRATCH.
fn elf(code: &Code, scratch: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = code.0.iter().flat_map(|h| h.to_le_bytes()).collect();
    let (text_off, data_off) = (
        0x1000u32,
        0x1000 + (text.len() as u32).next_multiple_of(0x1000),
    );
    let mut e = Vec::new();
    let h16 = |e: &mut Vec<u8>, v: u16| e.extend(v.to_le_bytes());
    let h32 = |e: &mut Vec<u8>, v: u32| e.extend(v.to_le_bytes());
    e.extend([0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
    e.extend([0; 8]);
    h16(&mut e, 2); // ET_EXEC
    h16(&mut e, 243); // EM_RISCV
    h32(&mut e, 1);
    h32(&mut e, CODE); // entry
    h32(&mut e, 52); // phoff
    h32(&mut e, 0); // shoff
    h32(&mut e, 0x3); // RVC, single-float ABI
    h16(&mut e, 52);
    h16(&mut e, 32);
    h16(&mut e, 2);
    h16(&mut e, 40);
    h16(&mut e, 0);
    h16(&mut e, 0);
    for (off, addr, filesz, memsz, flags) in [
        (text_off, CODE, text.len() as u32, text.len() as u32, 5),
        (data_off, SCRATCH, SCRATCH_LEN as u32, 0x1000, 6),
    ] {
        for v in [1, off, addr, addr, filesz, memsz, flags, 0x1000] {
            h32(&mut e, v);
        }
    }
    e.resize(text_off as usize, 0);
    e.extend(&text);
    e.resize(data_off as usize, 0);
    e.extend(scratch);
    e
}

fn run_qemu(
    qemu: &Path,
    dir: &Path,
    seed: u64,
    code: &Code,
    scratch: &[u8],
) -> Result<State, String> {
    let mut c = Code(code.0.clone());
    epilogue(&mut c);
    let path = dir.join(format!("p{seed}.elf"));
    std::fs::write(&path, elf(&c, scratch)).map_err(|e| e.to_string())?;
    // (qemu-user loads only files it may execute)
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
    }
    let out = run_bounded(Command::new(qemu).arg(&path))?;
    if out.status.success() {
        let _ = std::fs::remove_file(&path);
    }
    let want = SCRATCH_LEN + 4 * DUMP_WORDS;
    if !out.status.success() || out.stdout.len() != want {
        return Err(format!(
            "qemu: {} with {} bytes of output: {}",
            out.status,
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let regs = out.stdout[SCRATCH_LEN..]
        .chunks(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(State {
        regs,
        mem: out.stdout[..SCRATCH_LEN].to_vec(),
    })
}

/// Run `cmd` to its end, or kill it after 20 s.
fn run_bounded(cmd: &mut Command) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let t0 = std::time::Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if t0.elapsed().as_secs() >= 20 {
            let _ = child.kill();
            let _ = child.wait();
            return Err("qemu: no exit within 20 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

/// Name of dump word `k` (x1..x30, f0..f31, fcsr).
fn reg_name(k: usize) -> String {
    match k {
        0..30 => format!("x{}", k + 1),
        30..62 => format!("f{}", k - 30),
        _ => "fcsr".into(),
    }
}

fn find_qemu() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("qemu-riscv32"))
        .find(|p| p.is_file())
}

#[test]
fn random_programs_end_in_the_same_state_as_under_qemu() {
    let Some(qemu) = find_qemu() else {
        assert!(
            std::env::var_os("REDMULE_VP_REQUIRE_QEMU").is_none(),
            "REDMULE_VP_REQUIRE_QEMU is set but qemu-riscv32 is not on PATH"
        );
        eprintln!("skipped: qemu-riscv32 not found (apt-get install qemu-user)");
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("qemu_diff");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for seed in 1..=300u64 {
        let (code, scratch) = program(seed, 200);
        let ours = run_ours(&code, &scratch);
        let theirs = run_qemu(&qemu, &dir, seed, &code, &scratch);
        match (ours, theirs) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(a), Ok(b)) => {
                let regs: Vec<String> = (0..DUMP_WORDS)
                    .filter(|&k| a.regs[k] != b.regs[k])
                    .map(|k| {
                        format!(
                            "{} ours {:#010x} qemu {:#010x}",
                            reg_name(k),
                            a.regs[k],
                            b.regs[k]
                        )
                    })
                    .collect();
                let bytes = (0..SCRATCH_LEN).filter(|&k| a.mem[k] != b.mem[k]).count();
                failures.push(format!(
                    "seed {seed}: {} (memory: {bytes} bytes differ)",
                    regs.join(", ")
                ));
            }
            (a, b) => failures.push(format!(
                "seed {seed}: ours {:?} / qemu {:?}",
                a.err(),
                b.err()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 300 programs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
