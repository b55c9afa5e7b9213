#!/usr/bin/env bash
# Build the cores' peripheral path of pulp_cluster (not part of this repository) with the
# testbench beside it:
#   build_pe.sh [--ext-lat L] PULP_CLUSTER COMMON_CELLS OUT_DIR
# with checkouts of pulp-platform/pulp_cluster (checked with caaa973) and the common_cells
# its Bender.yml names (v1.35.0). Gives OUT_DIR/sim; set PE_SIM to it (and PE_EXT_LAT to
# L) and run `cargo test -p vp-interconnect --test periph_rtl_compare`.
# Needs Verilator 5 (checked with Debian's 5.006). The FIFO's clock gate is left out
# (PULP_FPGA_EMUL): it only gates registers that would keep their value.
set -euo pipefail
lat=0
if [ "${1:-}" = "--ext-lat" ]; then lat=$2; shift 2; fi
pc=$(cd "$1" && pwd); cc=$(cd "$2" && pwd)
out=$(mkdir -p "$3" && cd "$3" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
files=(
    "$cc/src/cf_math_pkg.sv" "$cc/src/lzc.sv" "$cc/src/rr_arb_tree.sv"
    "$cc/src/stream_demux.sv" "$cc/src/stream_mux.sv" "$cc/src/onehot_to_bin.sv"
    "$cc/src/deprecated/generic_fifo.sv"
    "$pc/include/pulp_interfaces.sv" "$here/pe_tb_top.sv"
    "$pc/rtl/periph_FIFO.sv" "$pc/rtl/data_periph_demux.sv" "$pc/rtl/xbar_pe_wrap.sv"
)
verilator --cc --exe --build -j 2 -O2 -Wno-fatal -Wno-lint -Wno-style -Wno-BLKANDNBLK \
    -Wno-MULTIDRIVEN -DSYNTHESIS -DPULP_FPGA_EMUL -DCLUSTER_ALIAS -DNB_CORES=8 \
    -GEXT_LAT="$lat" -I"$cc/include" -I"$pc/include" --top-module pe_tb_top \
    "${files[@]}" "$here/pe_tb.cpp" -Mdir "$out/obj" -o ../sim > "$out/build.log" 2>&1 ||
    { tail -30 "$out/build.log"; exit 1; }
echo "built $out/sim"
