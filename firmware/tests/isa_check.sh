#!/bin/sh
# Fails when an ELF's code uses an instruction outside RV32IMC (plus F with --f).
# Usage: isa_check.sh [--f] file.elf    (needs riscv64-unknown-elf-objdump)
F=
[ "$1" = --f ] && { F=1; shift; }
I="lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw lbu lhu sb sh sw addi slti sltiu xori ori andi
slli srli srai add sub sll slt sltu xor srl sra or and fence fence.i ecall ebreak csrrw csrrs csrrc csrrwi
csrrsi csrrci mret wfi mul mulh mulhsu mulhu div divu rem remu c.addi4spn c.lw c.sw c.nop c.addi c.jal
c.li c.addi16sp c.lui c.srli c.srai c.andi c.sub c.xor c.or c.and c.j c.beqz c.bnez c.slli c.lwsp c.jr
c.mv c.ebreak c.jalr c.add c.swsp"
FP="flw fsw fmadd.s fmsub.s fnmsub.s fnmadd.s fadd.s fsub.s fmul.s fdiv.s fsqrt.s fsgnj.s fsgnjn.s
fsgnjx.s fmin.s fmax.s fcvt.w.s fcvt.wu.s fmv.x.w feq.s flt.s fle.s fclass.s fcvt.s.w fcvt.s.wu fmv.w.x
c.flw c.fsw c.flwsp c.fswsp"
allowed=$(printf '%s %s\n' "$I" "${F:+$FP}" | tr ' ' '\n' | grep -v '^$' | sort -u)
used=$(riscv64-unknown-elf-objdump -d -M no-aliases "$1" | awk -F'\t' '/^ *[0-9a-f]+:\t/ {split($3, a, " "); print a[1]}' | sort -u)
[ -n "$used" ] || { echo "isa: cannot disassemble $1"; exit 1; }
bad=$(printf '%s\n' "$used" | grep -vxF "$allowed")
if [ -n "$bad" ]; then echo "isa: $1 uses" $bad; exit 1; fi
echo "isa ok: $1 (RV32IMC${F:+F})"
