//! Cross-check of the decoder against GNU objdump on random instruction words.
//! Runs only when `riscv64-unknown-elf-objdump` is on PATH (CI installs it for the
//! firmware); otherwise it prints why it skipped.
//!
//! Both sides are compared as operand token lists (registers and numbers), with
//! objdump's compressed syntax (`c.addi a0,1`, `c.beqz a0,x`) expanded to the
//! 32-bit form our decoder produces. Known, intended differences:
//! - `fence` / `fence.i` with non-zero reserved fields: legal on CV32E40P
//!   (cv32e40p_decoder.sv decodes funct3 only), rejected by objdump;
//! - D-extension compressed loads/stores, and shifts with shamt[5] = 1 (RV64 only):
//!   illegal here, decoded by objdump (whose `riscv:rv32` still accepts them);
//! - rounding mode 5/6: illegal here, printed as `unknown` by objdump.

use std::process::Command;
use vp_core::{decode, disasm};

const OBJDUMP: &str = "riscv64-unknown-elf-objdump";

/// Mnemonics of RV32IMF + Zicsr (what `disasm` prints).
const OURS: &[&str] = &[
    "lui",
    "auipc",
    "jal",
    "jalr",
    "beq",
    "bne",
    "blt",
    "bge",
    "bltu",
    "bgeu",
    "lb",
    "lh",
    "lw",
    "lbu",
    "lhu",
    "sb",
    "sh",
    "sw",
    "addi",
    "slti",
    "sltiu",
    "xori",
    "ori",
    "andi",
    "slli",
    "srli",
    "srai",
    "add",
    "sub",
    "sll",
    "slt",
    "sltu",
    "xor",
    "srl",
    "sra",
    "or",
    "and",
    "fence",
    "fence.i",
    "ecall",
    "ebreak",
    "mret",
    "wfi",
    "mul",
    "mulh",
    "mulhsu",
    "mulhu",
    "div",
    "divu",
    "rem",
    "remu",
    "csrrw",
    "csrrs",
    "csrrc",
    "csrrwi",
    "csrrsi",
    "csrrci",
    "flw",
    "fsw",
    "fmadd.s",
    "fmsub.s",
    "fnmsub.s",
    "fnmadd.s",
    "fadd.s",
    "fsub.s",
    "fmul.s",
    "fdiv.s",
    "fsqrt.s",
    "fsgnj.s",
    "fsgnjn.s",
    "fsgnjx.s",
    "fmin.s",
    "fmax.s",
    "fcvt.w.s",
    "fcvt.wu.s",
    "fmv.x.w",
    "feq.s",
    "flt.s",
    "fle.s",
    "fclass.s",
    "fcvt.s.w",
    "fcvt.s.wu",
    "fmv.w.x",
];

/// Words, or 16-bit parcels (`step` 2), in `bytes`: objdump's (mnemonic, operands) per item.
fn objdump(bytes: &[u8], tag: &str) -> Option<Vec<(String, String)>> {
    let path =
        std::env::temp_dir().join(format!("vp-core-objdump-{}-{tag}.bin", std::process::id()));
    std::fs::write(&path, bytes).ok()?;
    let out = Command::new(OBJDUMP)
        .args(["-D", "-b", "binary", "-m", "riscv:rv32", "-M", "no-aliases"])
        .arg(&path)
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut v = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() >= 3 && cols[0].trim_end().ends_with(':') {
            let ops = cols
                .get(3)
                .map_or("", |s| s.split('#').next().unwrap_or(""))
                .trim();
            v.push((cols[2].trim().to_string(), ops.to_string()));
        }
    }
    Some(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Reg(String),
    Num(u32),
}

fn tokens(s: &str) -> Vec<Tok> {
    s.split(|c: char| c == ',' || c == '(' || c == ')' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (neg, body) = t.strip_prefix('-').map_or((false, t), |b| (true, b));
            let n = if let Some(h) = body.strip_prefix("0x") {
                u32::from_str_radix(h, 16).ok()
            } else {
                body.parse::<u32>().ok()
            };
            match n {
                Some(n) => Tok::Num(if neg { n.wrapping_neg() } else { n }),
                None => Tok::Reg(t.to_string()),
            }
        })
        .collect()
}

fn reg(s: &str) -> Tok {
    Tok::Reg(s.to_string())
}

/// objdump's compressed mnemonic + operands -> 32-bit mnemonic + operands.
fn expand(mn: &str, ops: Vec<Tok>) -> (String, Vec<Tok>) {
    let Some(c) = mn.strip_prefix("c.") else {
        return (mn.to_string(), ops);
    };
    let o = |k: usize| ops.get(k).cloned().unwrap_or(Tok::Num(u32::MAX));
    let (m, t) = match c {
        "mv" => ("add", vec![o(0), reg("zero"), o(1)]),
        "li" => ("addi", vec![o(0), reg("zero"), o(1)]),
        "addi4spn" => ("addi", ops.clone()),
        "addi16sp" => ("addi", vec![reg("sp"), reg("sp"), o(1)]),
        "beqz" => ("beq", vec![o(0), reg("zero"), o(1)]),
        "bnez" => ("bne", vec![o(0), reg("zero"), o(1)]),
        "j" => ("jal", vec![reg("zero"), o(0)]),
        "jal" => ("jal", vec![reg("ra"), o(0)]),
        "jr" => ("jalr", vec![reg("zero"), Tok::Num(0), o(0)]),
        "jalr" => ("jalr", vec![reg("ra"), Tok::Num(0), o(0)]),
        "nop" => ("addi", vec![reg("zero"), reg("zero"), Tok::Num(0)]),
        "slli64" | "srli64" | "srai64" => (&c[..4], vec![o(0), o(0), Tok::Num(0)]),
        "lwsp" | "swsp" | "flwsp" | "fswsp" => (&c[..c.len() - 2], ops.clone()),
        "add" | "sub" | "and" | "or" | "xor" | "andi" | "addi" | "slli" | "srli" | "srai" => {
            (c, vec![o(0), o(0), o(1)])
        }
        _ => (c, ops.clone()),
    };
    (m.to_string(), t)
}

fn is_intended_difference(ours: &str, theirs: &str, ops: &str) -> bool {
    ours.starts_with("fence")
        || ops.contains("unknown")
        || ["c.fld", "c.fsd", "c.fldsp", "c.fsdsp", "c.unimp"].contains(&theirs)
        || (matches!(
            theirs,
            "c.slli" | "c.srli" | "c.srai" | "slli" | "srli" | "srai"
        ) && matches!(tokens(ops).last(), Some(Tok::Num(n)) if *n >= 32))
}

fn check(items: &[u32], step: u32, tag: &str) -> Option<usize> {
    let bytes: Vec<u8> = items
        .iter()
        .flat_map(|w| {
            if step == 2 {
                (*w as u16).to_le_bytes().to_vec()
            } else {
                w.to_le_bytes().to_vec()
            }
        })
        .collect();
    let theirs = objdump(&bytes, tag)?;
    assert_eq!(theirs.len(), items.len(), "objdump output length");
    let mut compared = 0;
    for (k, (&w, (mn, ops))) in items.iter().zip(&theirs).enumerate() {
        let pc = k as u32 * step;
        let ours = disasm(&decode(w), pc);
        let (our_mn, our_ops) = ours.split_once(' ').unwrap_or((ours.as_str(), ""));
        let theirs_legal = !mn.starts_with('.') && mn != "unimp";
        if is_intended_difference(our_mn, mn, ops) || (!theirs_legal && our_mn == "illegal") {
            continue;
        }
        // Instructions outside RV32IMCF + Zicsr (A, D, Zfh...) must be illegal here.
        let (mn32, toks) = expand(mn, tokens(ops));
        let ours_known = our_mn != "illegal";
        if !ours_known {
            assert!(
                !theirs_legal || !OURS.contains(&mn32.as_str()),
                "{w:08x}: we say illegal, objdump says {mn} {ops}"
            );
            continue;
        }
        assert!(
            theirs_legal,
            "{w:08x}: we decode `{ours}`, objdump says {mn} {ops}"
        );
        assert_eq!(our_mn, mn32, "{w:08x}: `{ours}` vs objdump `{mn} {ops}`");
        if !our_mn.starts_with("csr") {
            assert_eq!(
                tokens(our_ops),
                toks,
                "{w:08x}: `{ours}` vs objdump `{mn} {ops}`"
            );
        }
        compared += 1;
    }
    Some(compared)
}

#[test]
fn the_decoder_agrees_with_gnu_objdump() {
    if Command::new(OBJDUMP).arg("--version").output().is_err() {
        eprintln!("skipped: {OBJDUMP} not found");
        return;
    }
    // xorshift32 words steered to the RV32IMCF + Zicsr major opcodes.
    let opcodes = [
        0x37, 0x17, 0x6f, 0x67, 0x63, 0x03, 0x23, 0x13, 0x33, 0x73, 0x07, 0x27, 0x43, 0x47, 0x4b,
        0x4f, 0x53,
    ];
    let mut s = 0x2545_f491u32;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let mut words = Vec::new();
    for k in 0..8000 {
        let r = next();
        let mut w = (r & !0x7f) | opcodes[k % opcodes.len()];
        match w & 0x7f {
            // plausible funct7 for OP and OP-FP so that most words are valid
            0x33 => w = (w & 0x01ff_ffff) | ([0u32, 0x20, 1][(r >> 7) as usize % 3] << 25),
            0x53 => {
                let f7 = [
                    0u32, 4, 8, 0xc, 0x2c, 0x10, 0x14, 0x60, 0x70, 0x50, 0x68, 0x78,
                ][(r >> 3) as usize % 12];
                w = (w & 0x01ff_ffff) | (f7 << 25);
                if matches!(f7, 0x2c | 0x60 | 0x68 | 0x70 | 0x78) {
                    w = (w & !(0x1f << 20)) | (((r >> 9) & 1) << 20);
                }
            }
            0x43 | 0x47 | 0x4b | 0x4f => w &= !(3 << 25),
            _ => {}
        }
        words.push(w);
    }
    let n32 = check(&words, 4, "w32").expect("objdump runs");
    let parcels: Vec<u32> = (0..8000)
        .map(|_| next() & 0xffff)
        .filter(|h| h & 3 != 3)
        .collect();
    let n16 = check(&parcels, 2, "w16").expect("objdump runs");
    assert!(
        n32 > 4000 && n16 > 3000,
        "compared {n32} words and {n16} parcels"
    );
}
