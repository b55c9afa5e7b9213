//! The cores' timing against the CV32E40P RTL: random RV32IMC programs (progen: ALU, M,
//! loads and stores at any offset, CSRs, compressed forms, forward branches and jumps)
//! must take as many cycles between two marker stores on our hart as on the RTL under
//! Verilator, with data grants delayed by 0 to 3 cycles in half of the scratch memory.
//!
//! The RTL is not part of this repository. To run it: fetch openhwgroup/cv32e40p, then
//! `components/core/tests/rtl/build.sh CHECKOUT OUT` and set `CV32E40P_SIM=OUT/int/sim`
//! (`OUT/fpu/sim`, the FPU build, works as well: integer programs agree on both). Programs
//! with F instructions run on the FPU build when `CV32E40P_SIM_FPU=OUT/fpu/sim` is set
//! (`RTL_FP_RUNS`: programs per grant delay, 100 by default). Without them the tests say
//! they were skipped.
//!
//! Programs with fdiv.s and fsqrt.s run on the same build (`RTL_DIVSQRT_PROGRAMS`: how
//! many per grant delay, 100 by default). build.sh runs its FPU on the ungated clock:
//! with cv32e40p_top.sv's clock gate the divider never finishes under Verilator 5.006
//! (openhwgroup/cv32e40p#1049). The divide/square-root unit is also compared on its own
//! (`CV32E40P_SIM_DIVSQRT=OUT/divsqrt/sim`): latency, result and flags of operations of
//! every kind, which random programs reach too rarely.

mod common;
mod progen;
use common::*;
use progen::*;
use std::path::Path;
use std::process::Command;
use vp_core::Stop;
use vp_kernel::testkit::{env_count, pipe_through, rtl_sim};

/// Marker and end stores, through x31 (cv32e40p_tb.cpp MARK / END).
const MARK: u32 = TCDM + 0xff0;
/// Data requests in this window are granted after `GNT_DELAY` cycles (as the testbench).
const SLOW: std::ops::Range<u32> = TCDM + 0x400..TCDM + 0x800;

const OPTS: Opts = Opts {
    fp: false,
    divsqrt: false,
    misaligned: true,
    // machine-mode CSRs whose values agree between the two (mcountinhibit and the
    // counters read differently under Verilator, mtvec's mode bit too)
    csrs: &[
        (0x300, 2, false),
        (0xF14, 2, false),
        (0x340, 1, true),
        (0x340, 2, false),
        (0x341, 2, false),
    ],
};

/// The FPU build's programs: F instructions too (fdiv/fsqrt apart, see
/// [`random_divsqrt_programs_take_as_many_cycles_as_on_the_rtl`]), and the CSRs of the
/// FPU instead of mstatus (whose FS field the programs set).
const FP_OPTS: Opts = Opts {
    fp: true,
    divsqrt: false,
    misaligned: true,
    csrs: &[
        (0x001, 2, false),
        (0x002, 2, false),
        (0x003, 2, false),
        (0xF14, 2, false),
        (0x340, 1, true),
        (0x341, 2, false),
    ],
};

/// Registers (with `o.fp`: first FS on and the f registers), two nops, a marker, `n`
/// random instructions, three nops, a marker, the end.
fn program(seed: u64, n: usize, o: &Opts) -> (Vec<u16>, Vec<u8>) {
    let mut g = Rng(seed);
    let mut c = Code::default();
    if o.fp {
        c.li(5, 3 << 13);
        c.w(i(0x300, 5, 2, 0, 0x73)); // csrrs x0, mstatus, x5
        for f in 0..32 {
            let v = g.fval();
            c.li(5, v);
            c.w(r(0x78, 0, 5, 0, f, 0x53)); // fmv.w.x
        }
    }
    for x in 1..32 {
        let v = match x {
            2 => TCDM + 0x100,
            9 => TCDM + 0x200,
            27 => TCDM + 0x400,
            31 => MARK,
            _ => g.xval(),
        };
        c.li(x, v);
    }
    let (nop, mark, end) = (0x13, s(0, 0, 31, 2, 0x23), s(4, 0, 31, 2, 0x23));
    for w in [nop, nop, mark] {
        c.w(w);
    }
    c.0.extend(body(&mut g, n, o).0);
    for w in [nop, nop, nop, mark, end] {
        c.w(w);
    }
    let data = (0..0x800).map(|_| g.next() as u8).collect();
    (c.0, data)
}

/// Cycles between the two markers on our hart.
fn ours(code: &[u16], data: &[u8], delay: u64) -> Result<u64, String> {
    let (mut h, mut bus) = setup_halves(code);
    // mstatus as the RTL resets it (setup_halves turns the FPU on, as crt0 does)
    h.csrs.mstatus &= !(3 << 13);
    bus.tcdm[..data.len()].copy_from_slice(data);
    let mut marks = vec![];
    loop {
        match h.run(&mut bus, 5_000_000) {
            Stop::Timed(p) => {
                if p.req.write && p.req.addr == MARK {
                    marks.push(p.cycle);
                }
                if p.req.write && p.req.addr == MARK + 4 {
                    break;
                }
                let v = bus.perform(&p.req);
                let stall = if SLOW.contains(&p.req.addr) { delay } else { 0 };
                h.complete_access(v, stall).map_err(|e| e.to_string())?;
            }
            other => return Err(format!("{other:?} at pc {:#x}", h.pc)),
        }
    }
    match marks[..] {
        [a, b] => Ok(b - a),
        _ => Err(format!("markers {marks:?}")),
    }
}

/// Cycles between the two markers on the RTL.
fn rtl(sim: &Path, dir: &Path, code: &[u16], data: &[u8], delay: u64) -> Result<u64, String> {
    let (cf, df) = (dir.join("code.bin"), dir.join("data.bin"));
    let bytes: Vec<u8> = code.iter().flat_map(|h| h.to_le_bytes()).collect();
    std::fs::write(&cf, bytes).map_err(|e| e.to_string())?;
    std::fs::write(&df, data).map_err(|e| e.to_string())?;
    let out = Command::new(sim)
        .arg(&cf)
        .arg(&df)
        .env("GNT_DELAY", delay.to_string())
        .output()
        .map_err(|e| format!("{}: {e}", sim.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let marks: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("MARK ")?.parse().ok())
        .collect();
    match (out.status.success(), &marks[..]) {
        (true, [a, b]) => Ok(b - a),
        _ => Err(format!("{}: {text}", out.status)),
    }
}

/// Run `runs` random programs per grant delay (0 to 3) on our hart and on the simulator
/// named by `var`, program `seed` of delay `d` drawn from seed `seed_of(seed, d)`; all must
/// take as many cycles. `name` names the directory of the simulator's input files (one
/// per test: the tests run at once).
fn compare(name: &str, var: &str, opts: &Opts, runs: u64, seed_of: impl Fn(u64, u64) -> u64) {
    let Some(sim) = rtl_sim(var, "components/core/tests/rtl/build.sh") else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rtl_compare_{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = vec![];
    for delay in 0..4u64 {
        for seed in 1..=runs {
            let (code, data) = program(seed_of(seed, delay), 80, opts);
            match (
                ours(&code, &data, delay),
                rtl(&sim, &dir, &code, &data, delay),
            ) {
                (Ok(a), Ok(b)) if a == b => {}
                (a, b) => failures.push(format!(
                    "seed {seed}, grant delay {delay}: ours {a:?}, RTL {b:?}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} programs differ:\n{}",
        failures.len(),
        4 * runs,
        failures.join("\n")
    );
}

#[test]
fn random_programs_take_as_many_cycles_as_on_the_rtl() {
    compare("int", "CV32E40P_SIM", &OPTS, 100, |seed, delay| {
        seed + 1000 * delay
    });
}

/// Programs with F instructions on the FPU build (`CV32E40P_SIM_FPU=OUT/fpu/sim`).
#[test]
fn random_fp_programs_take_as_many_cycles_as_on_the_rtl() {
    let runs = env_count("RTL_FP_RUNS", 100);
    compare("fp", "CV32E40P_SIM_FPU", &FP_OPTS, runs, |seed, delay| {
        50_000 + seed + 100_000 * delay
    });
}

/// Programs with fdiv.s and fsqrt.s too, on the FPU build. They found that a taken branch
/// flushing a CSR access held in ID waits for it (hart.rs, the branch arm).
#[test]
fn random_divsqrt_programs_take_as_many_cycles_as_on_the_rtl() {
    let runs = env_count("RTL_DIVSQRT_PROGRAMS", 100);
    let opts = Opts {
        divsqrt: true,
        ..FP_OPTS
    };
    compare("divsqrt", "CV32E40P_SIM_FPU", &opts, runs, |seed, delay| {
        900_000 + seed + 100_000 * delay
    });
}

/// One random fdiv.s/fsqrt.s operation `(sqrt, a, b, rm)` of every kind the unit's
/// latency tells apart (fpu::divsqrt_cycles): specials, exponents near the overflow and
/// underflow skips, subnormals, exact quotients and roots of every length, and random
/// bits.
fn divsqrt_case(g: &mut Rng) -> (bool, u32, u32, u8) {
    let rm = g.below(5) as u8;
    let bits = |g: &mut Rng| g.next() as u32;
    let enc = |s: u32, e: u32, m: u32| s << 31 | e << 23 | (m & 0x7F_FFFF);
    // an integer significand of exactly `k` bits (its highest and lowest set)
    let sig = |g: &mut Rng, k: u32| -> u64 {
        let top = 1u64 << (k - 1);
        top | (g.next() & (top - 1)) | 1
    };
    match g.below(6) {
        0 => {
            const SPECIAL: [u32; 12] = [
                0,
                0x8000_0000,
                0x7f80_0000,
                0xff80_0000,
                0x7fc0_0000,
                0x7f80_0001,
                0xffc0_0000,
                1,
                0x8000_0001,
                0x007f_ffff,
                0x0080_0000,
                0x7f7f_ffff,
            ];
            let a = if g.below(3) == 0 {
                bits(g)
            } else {
                g.pick(&SPECIAL)
            };
            let b = if g.below(3) == 0 {
                bits(g)
            } else {
                g.pick(&SPECIAL)
            };
            (g.below(2) == 1, a, b, rm)
        }
        1 => {
            // exponents differing by about 129 (overflow) or -150 (underflow), some
            // significands with trailing zeros
            let ea = g.below(255) as i32;
            let off = g.pick(&[126, 127, 128, 129, 130, -125, -127, -149, -150, -151, -152]);
            let eb = (ea - off + g.below(51) as i32 - 25).clamp(0, 254) as u32;
            let mut m = || {
                let m = bits(g);
                if g.below(3) == 0 {
                    m & !((1 << g.below(24)) - 1)
                } else {
                    m
                }
            };
            let (ma, mb) = (m(), m());
            (
                false,
                enc(g.below(2), ea as u32, ma),
                enc(g.below(2), eb, mb),
                rm,
            )
        }
        2 => {
            // an exact quotient of `k` bits: a = q * mb, both exact, maybe subnormal
            let k = 1 + g.below(24);
            let q = sig(g, k);
            let mb = (g.next() & ((1 << (1 + g.below(12))) - 1)) | 1;
            let p = q * mb;
            if p >> 24 != 0 {
                return (false, 0x3f80_0000, 0x4040_0000, rm);
            }
            let f = |m: u64, x: i32| (m as f64 * (x as f64).exp2()) as f32;
            let (xa, xb) = (g.below(260) as i32 - 160, g.below(260) as i32 - 160);
            let (a, b) = (f(p, xa), f(mb, xb));
            // (not exact in binary32: some other division)
            (false, a.to_bits(), b.to_bits(), rm)
        }
        3 => {
            // an exact root of `k` bits, or a subnormal or random radicand
            let k = 1 + g.below(12);
            let r = sig(g, k) as f64 * ((g.below(120) as i32 - 60) as f64).exp2();
            let a = match g.below(3) {
                0 => (r * r) as f32,
                1 => f32::from_bits(bits(g) & 0x807f_ffff),
                _ => f32::from_bits(bits(g)),
            };
            (true, a.to_bits(), 0, rm)
        }
        _ => (g.below(2) == 1, bits(g), bits(g), rm),
    }
}

/// The divide/square-root unit against the RTL's (`CV32E40P_SIM_DIVSQRT=OUT/divsqrt/sim`,
/// `RTL_DIVSQRT_RUNS` operations, 40,000 by default): every operation's cycles, result
/// and flags.
#[test]
fn divsqrt_against_the_rtl() {
    use vp_core::fpu;
    let var = "CV32E40P_SIM_DIVSQRT";
    let Some(sim) = rtl_sim(var, "components/core/tests/rtl/build.sh") else {
        return;
    };
    let runs = env_count("RTL_DIVSQRT_RUNS", 40_000);
    let mut g = Rng(0xd1f5_0a7e);
    let cases: Vec<_> = (0..runs).map(|_| divsqrt_case(&mut g)).collect();
    let mut input = String::new();
    for &(sqrt, a, b, rm) in &cases {
        input += &format!("{} {a:08x} {b:08x} {rm}\n", if sqrt { 5 } else { 4 });
    }
    let out = pipe_through(&sim, input);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        out.status.success() && lines.len() == cases.len(),
        "{}: {} of {} answered, then: {:?}",
        out.status,
        lines.len(),
        cases.len(),
        lines.last()
    );
    let mut failures = vec![];
    for (&(sqrt, a, b, rm), line) in cases.iter().zip(&lines) {
        let f: Vec<u32> = line
            .split(' ')
            .enumerate()
            .map(|(i, w)| u32::from_str_radix(w, if i < 2 { 16 } else { 10 }).unwrap())
            .collect();
        let mode = fpu::Rounding::from_bits(rm).unwrap();
        let (r, fl) = if sqrt {
            fpu::sqrt(f32::from_bits(a), mode)
        } else {
            fpu::div(f32::from_bits(a), f32::from_bits(b), mode)
        };
        // the RTL counts the unit's cycles; usable one later, as an add's (rtl/divsqrt_tb.cpp)
        let ours = [r.to_bits(), fl as u32, fpu::divsqrt_cycles(sqrt, a, b) - 1];
        if ours[..] != f[..] {
            failures.push(format!(
                "{} {a:08x} {b:08x} rm {rm}: ours {:08x} {:02x} {}, RTL {:08x} {:02x} {}",
                if sqrt { "sqrt" } else { "div" },
                ours[0],
                ours[1],
                ours[2],
                f[0],
                f[1],
                f[2]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} operations differ:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}
