#!/usr/bin/env bash
# Build the CV32E40P RTL (not part of this repository) with the testbench beside it:
#   build.sh CV32E40P_CHECKOUT OUT_DIR
# gives OUT_DIR/int/sim (cv32e40p_core, no FPU), OUT_DIR/fpu/sim (cv32e40p_top with
# FPU = 1, FPU_ADDMUL_LAT = 2 as in the PULP cluster, on an ungated FPU clock, see below)
# and OUT_DIR/divsqrt/sim (that FPU alone, for its divide/square-root unit:
# divsqrt_tb.cpp). Needs Verilator 5 (Debian's
# `verilator`). Checked with openhwgroup/cv32e40p 6033d2b and Verilator 5.006.
set -euo pipefail
src=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tb=$here/cv32e40p_tb.cpp
flist() { # the manifest's files, without the testbench-only ones
    grep -v '^//' "$src/$1" | grep -v '^\s*$' | grep -v 'tb_wrapper\|tracer' |
        sed "s|\${DESIGN_RTL_DIR}|$src/rtl|g"
    echo "$src/bhv/cv32e40p_sim_clock_gate.sv"
}
common=(--cc --exe --build -j 2 -O2 -Wno-fatal -Wno-lint -Wno-style -Wno-BLKANDNBLK -Wno-MULTIDRIVEN)
flist cv32e40p_manifest.flist | grep -v 'cv32e40p_top.sv' > "$out/int.f"
verilator "${common[@]}" --top-module cv32e40p_core -CFLAGS "-DVTOP=Vcv32e40p_core -DVTOP_HEADER='\"Vcv32e40p_core.h\"'" \
    -Mdir "$out/int" -f "$out/int.f" "$tb" -o sim > "$out/int.log" 2>&1 || { tail -20 "$out/int.log"; exit 1; }
# The FPU build runs the FPU on the core's clock, not on cv32e40p_top.sv's gated `apu_clk`
# (enabled while the FPU has a request or a result outstanding): with the gate, the divider
# never finishes under Verilator 5.006 (openhwgroup/cv32e40p#1049). The gate saves power
# and changes no cycle: programs without fdiv/fsqrt take the same cycles on both builds.
# The edit is made in a copy; the checkout stays as it is.
sed 's/^\( *\.clk_i *\)(apu_clk),/\1(clk_i),/' "$src/rtl/cv32e40p_top.sv" > "$out/cv32e40p_top.sv"
[ "$(diff "$src/rtl/cv32e40p_top.sv" "$out/cv32e40p_top.sv" | grep -c '^>')" = 1 ] ||
    { echo "build.sh: cv32e40p_top.sv no longer clocks the FPU wrapper by apu_clk" >&2; exit 1; }
flist cv32e40p_fpu_manifest.flist | sed "s|^$src/rtl/cv32e40p_top.sv\$|$out/cv32e40p_top.sv|" > "$out/fpu.f"
grep -qx "$out/cv32e40p_top.sv" "$out/fpu.f" ||
    { echo "build.sh: the FPU manifest does not name cv32e40p_top.sv" >&2; exit 1; }
verilator "${common[@]}" --top-module cv32e40p_top -GFPU=1 -GFPU_ADDMUL_LAT=2 -GFPU_OTHERS_LAT=0 \
    -CFLAGS "-DVTOP=Vcv32e40p_top -DVTOP_HEADER='\"Vcv32e40p_top.h\"'" \
    -Mdir "$out/fpu" -f "$out/fpu.f" "$tb" -o sim > "$out/fpu.log" 2>&1 || { tail -20 "$out/fpu.log"; exit 1; }
# the FPU without the core (to compare every divide and square-root operation): the
# wrapper and what it instantiates
grep -v 'cv32e40p_top.sv\|cv32e40p_core.sv\|_stage.sv' "$out/fpu.f" > "$out/divsqrt.f"
verilator "${common[@]}" --top-module cv32e40p_fp_wrapper -GFPU_ADDMUL_LAT=2 -GFPU_OTHERS_LAT=0 \
    -Mdir "$out/divsqrt" -f "$out/divsqrt.f" "$here/divsqrt_tb.cpp" -o sim > "$out/divsqrt.log" 2>&1 ||
    { tail -20 "$out/divsqrt.log"; exit 1; }
echo "built $out/int/sim, $out/fpu/sim and $out/divsqrt/sim"
