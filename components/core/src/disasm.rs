//! A compact disassembler for instruction traces, in the GNU style with ABI
//! register names (`addi a0, a0, 1`, `lw a5, 8(sp)`, `jal ra, 0x1c008100`).
//! Compressed instructions print as their 32-bit expansion with a `c.` marker
//! left to the caller (the raw width is in [`Instr::len`]).

use crate::decode::{Instr, Op};

/// ABI names of the integer registers.
pub const XNAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// ABI names of the FP registers.
pub const FNAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// Mnemonic of an operation.
pub fn mnemonic(op: Op) -> &'static str {
    use Op::*;
    match op {
        Lui => "lui",
        Auipc => "auipc",
        Jal => "jal",
        Jalr => "jalr",
        Beq => "beq",
        Bne => "bne",
        Blt => "blt",
        Bge => "bge",
        Bltu => "bltu",
        Bgeu => "bgeu",
        Lb => "lb",
        Lh => "lh",
        Lw => "lw",
        Lbu => "lbu",
        Lhu => "lhu",
        Sb => "sb",
        Sh => "sh",
        Sw => "sw",
        Addi => "addi",
        Slti => "slti",
        Sltiu => "sltiu",
        Xori => "xori",
        Ori => "ori",
        Andi => "andi",
        Slli => "slli",
        Srli => "srli",
        Srai => "srai",
        Add => "add",
        Sub => "sub",
        Sll => "sll",
        Slt => "slt",
        Sltu => "sltu",
        Xor => "xor",
        Srl => "srl",
        Sra => "sra",
        Or => "or",
        And => "and",
        Fence => "fence",
        FenceI => "fence.i",
        Ecall => "ecall",
        Ebreak => "ebreak",
        Mret => "mret",
        Wfi => "wfi",
        Mul => "mul",
        Mulh => "mulh",
        Mulhsu => "mulhsu",
        Mulhu => "mulhu",
        Div => "div",
        Divu => "divu",
        Rem => "rem",
        Remu => "remu",
        Csrrw => "csrrw",
        Csrrs => "csrrs",
        Csrrc => "csrrc",
        Csrrwi => "csrrwi",
        Csrrsi => "csrrsi",
        Csrrci => "csrrci",
        Flw => "flw",
        Fsw => "fsw",
        FmaddS => "fmadd.s",
        FmsubS => "fmsub.s",
        FnmsubS => "fnmsub.s",
        FnmaddS => "fnmadd.s",
        FaddS => "fadd.s",
        FsubS => "fsub.s",
        FmulS => "fmul.s",
        FdivS => "fdiv.s",
        FsqrtS => "fsqrt.s",
        FsgnjS => "fsgnj.s",
        FsgnjnS => "fsgnjn.s",
        FsgnjxS => "fsgnjx.s",
        FminS => "fmin.s",
        FmaxS => "fmax.s",
        FcvtWS => "fcvt.w.s",
        FcvtWuS => "fcvt.wu.s",
        FmvXW => "fmv.x.w",
        FeqS => "feq.s",
        FltS => "flt.s",
        FleS => "fle.s",
        FclassS => "fclass.s",
        FcvtSW => "fcvt.s.w",
        FcvtSWu => "fcvt.s.wu",
        FmvWX => "fmv.w.x",
        Illegal => "illegal",
    }
}

fn csr_name(num: u32) -> Option<&'static str> {
    Some(match num {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x300 => "mstatus",
        0x301 => "misa",
        0x304 => "mie",
        0x305 => "mtvec",
        0x340 => "mscratch",
        0x341 => "mepc",
        0x342 => "mcause",
        0x343 => "mtval",
        0x344 => "mip",
        0xB00 => "mcycle",
        0xB02 => "minstret",
        0xB80 => "mcycleh",
        0xB82 => "minstreth",
        0xC00 => "cycle",
        0xC02 => "instret",
        0xF14 => "mhartid",
        _ => return None,
    })
}

const RM: [&str; 8] = ["rne", "rtz", "rdn", "rup", "rmm", "rm5", "rm6", "dyn"];

/// Disassemble `i` located at `pc` (branch and jump targets are printed absolute).
pub fn disasm(i: &Instr, pc: u32) -> String {
    use Op::*;
    let x = |r: u8| XNAMES[(r & 31) as usize];
    let f = |r: u8| FNAMES[(r & 31) as usize];
    let m = mnemonic(i.op);
    let target = pc.wrapping_add(i.imm as u32);
    let rm = |s: String| {
        if i.rm == 7 {
            s
        } else {
            format!("{s}, {}", RM[(i.rm & 7) as usize])
        }
    };
    match i.op {
        Lui | Auipc => format!("{m} {}, {:#x}", x(i.rd), (i.imm as u32) >> 12),
        Jal => format!("{m} {}, {target:#x}", x(i.rd)),
        Jalr => format!("{m} {}, {}({})", x(i.rd), i.imm, x(i.rs1)),
        Beq | Bne | Blt | Bge | Bltu | Bgeu => {
            format!("{m} {}, {}, {target:#x}", x(i.rs1), x(i.rs2))
        }
        Lb | Lh | Lw | Lbu | Lhu => format!("{m} {}, {}({})", x(i.rd), i.imm, x(i.rs1)),
        Sb | Sh | Sw => format!("{m} {}, {}({})", x(i.rs2), i.imm, x(i.rs1)),
        Flw => format!("{m} {}, {}({})", f(i.rd), i.imm, x(i.rs1)),
        Fsw => format!("{m} {}, {}({})", f(i.rs2), i.imm, x(i.rs1)),
        Addi | Slti | Sltiu | Xori | Ori | Andi | Slli | Srli | Srai => {
            format!("{m} {}, {}, {}", x(i.rd), x(i.rs1), i.imm)
        }
        Add | Sub | Sll | Slt | Sltu | Xor | Srl | Sra | Or | And | Mul | Mulh | Mulhsu | Mulhu
        | Div | Divu | Rem | Remu => format!("{m} {}, {}, {}", x(i.rd), x(i.rs1), x(i.rs2)),
        Fence | FenceI | Ecall | Ebreak | Mret | Wfi => m.to_string(),
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => {
            let num = i.imm as u32 & 0xfff;
            let csr = csr_name(num)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{num:#x}"));
            if matches!(i.op, Csrrw | Csrrs | Csrrc) {
                format!("{m} {}, {csr}, {}", x(i.rd), x(i.rs1))
            } else {
                format!("{m} {}, {csr}, {}", x(i.rd), i.rs1)
            }
        }
        FmaddS | FmsubS | FnmsubS | FnmaddS => rm(format!(
            "{m} {}, {}, {}, {}",
            f(i.rd),
            f(i.rs1),
            f(i.rs2),
            f(i.rs3)
        )),
        FaddS | FsubS | FmulS | FdivS => rm(format!("{m} {}, {}, {}", f(i.rd), f(i.rs1), f(i.rs2))),
        FsqrtS => rm(format!("{m} {}, {}", f(i.rd), f(i.rs1))),
        FsgnjS | FsgnjnS | FsgnjxS | FminS | FmaxS => {
            format!("{m} {}, {}, {}", f(i.rd), f(i.rs1), f(i.rs2))
        }
        FcvtWS | FcvtWuS => rm(format!("{m} {}, {}", x(i.rd), f(i.rs1))),
        FmvXW | FclassS => format!("{m} {}, {}", x(i.rd), f(i.rs1)),
        FeqS | FltS | FleS => format!("{m} {}, {}, {}", x(i.rd), f(i.rs1), f(i.rs2)),
        FcvtSW | FcvtSWu => rm(format!("{m} {}, {}", f(i.rd), x(i.rs1))),
        FmvWX => format!("{m} {}, {}", f(i.rd), x(i.rs1)),
        Illegal => {
            if i.len == 2 {
                format!("illegal {:#06x}", i.raw)
            } else {
                format!("illegal {:#010x}", i.raw)
            }
        }
    }
}

/// One line of an instruction trace:
/// `cycle pc raw  disassembly  (cycles taken) <symbol+offset>`, e.g.
/// `        12 1c008084 00a50513  addi a0, a0, 10            1 <main+0x4>`.
pub fn trace_line(r: &crate::Retired, elf: Option<&crate::Elf>) -> String {
    let raw = if r.instr.len == 2 {
        format!("    {:04x}", r.instr.raw)
    } else {
        format!("{:08x}", r.instr.raw)
    };
    let mut line = format!(
        "{:>10} {:08x} {raw}  {:<28} {:>3}",
        r.cycle,
        r.pc,
        disasm(&r.instr, r.pc),
        r.cycles
    );
    if let Some((name, off)) = elf.and_then(|e| e.symbolize(r.pc)) {
        if off == 0 {
            line.push_str(&format!(" <{name}>"));
        } else {
            line.push_str(&format!(" <{name}+{off:#x}>"));
        }
    }
    line
}
