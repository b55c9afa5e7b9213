#!/usr/bin/env bash
# Build the HCI RTL (not part of this repository) with the testbench beside it:
#   build.sh [--v24] [--banks N] [--words W] [--wide P] HCI CLUSTER_INTERCONNECT COMMON_CELLS HWPE_STREAM OUT_DIR
# with checkouts of pulp-platform/hci at 2a5a508 (as pinned by pulp_cluster) and the
# versions its Bender.yml names: cluster_interconnect 1284def, common_cells v1.24.0,
# hwpe-stream v1.9.0. Gives OUT_DIR/sim; set HCI_SIM to it and run
# `cargo test -p vp-interconnect rtl_compare` (HCI_RUNS sets the number of random runs).
# With --v24: an hci checkout with the v2.4 guard (1bcd802 on; checked with d6a4872 and
# hwpe-stream v1.10.0); set HCI_SIM_V24 to that build. --banks / --words give another
# bank count / wide-port width than the cluster's 16 / 9, --wide P wide ports instead of
# one; the test reads them from HCI_BANKS / HCI_WORDS / HCI_WIDE.
# Needs Verilator 5 (checked with Debian's 5.006).
#
# Two work-arounds, neither touching the checkouts:
# - hci_router.sv drives `postfifo.r_evalid` from itself (a combinational loop Verilator
#   rejects; an ECC handshake nobody reads here): a copy with it tied to 0 is compiled.
# - Verilator 5.006 at -O2 leaves the LIC's bank requests stale inside hci_interconnect
#   (the xbar's arbiters request, the interconnect's outputs never change): -O0 is right.
set -euo pipefail
define=()
while [ "${1:-}" != "" ] && [ "${1#--}" != "$1" ]; do
    case "$1" in
        --v24) define+=(-DHCI_V24); shift ;;
        --banks) define+=(-GNMEM="$2"); shift 2 ;;
        --words) define+=(-GWORDS="$2"); shift 2 ;;
        --wide) define+=(-GNHWPE="$2" -CFLAGS "-DNHWPE=$2"); shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
hci=$(cd "$1" && pwd); ci=$(cd "$2" && pwd); cc=$(cd "$3" && pwd); hs=$(cd "$4" && pwd)
out=$(mkdir -p "$5" && cd "$5" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
sed "s/assign postfifo.r_evalid = '{default: {postfifo.r_evalid}};/assign postfifo.r_evalid = '0;/" \
    "$hci/rtl/interco/hci_router.sv" > "$out/hci_router.sv"
t=$ci/rtl/tcdm_interconnect
files=(
    "$hs/rtl/hwpe_stream_package.sv" "$hs/rtl/hwpe_stream_interfaces.sv"
    "$hs/rtl/fifo/hwpe_stream_fifo_ctrl.sv" "$hs/rtl/fifo/hwpe_stream_fifo_scm.sv"
    "$hs/rtl/fifo/hwpe_stream_fifo.sv"
    "$cc/src/cf_math_pkg.sv" "$cc/src/lzc.sv" "$cc/src/rr_arb_tree.sv" "$cc/src/fifo_v3.sv"
    "$cc/src/addr_decode.sv" "$cc/src/stream_arbiter.sv" "$cc/src/stream_arbiter_flushable.sv"
    "$t/tcdm_interconnect_pkg.sv" "$t/addr_dec_resp_mux.sv" "$t/xbar.sv" "$t/amo_shim.sv"
    "$t/bfly_net.sv" "$t/clos_net.sv" "$t/tcdm_interconnect.sv"
    "$hci/rtl/common/hci_package.sv" "$hci/rtl/common/hci_interfaces.sv"
    "$hci/rtl/core/hci_core_assign.sv" "$hci/rtl/core/hci_core_fifo.sv"
    "$hci/rtl/core/hci_core_split.sv" "$hci/rtl/core/hci_core_r_valid_filter.sv"
    "$hci/rtl/core/hci_core_r_id_filter.sv" "$hci/rtl/interco/hci_log_interconnect.sv"
    "$hci/rtl/interco/hci_arbiter.sv" "$hci/rtl/interco/hci_arbiter_tree.sv"
    "$hci/rtl/interco/hci_router_reorder.sv" "$out/hci_router.sv"
    "$hci/rtl/hci_interconnect.sv" "$here/hci_tb_top.sv"
)
# (files that only some versions have)
for f in "$hci/rtl/core/hci_core_cut.sv" "$hci/rtl/interco/hci_log_interconnect_l2.sv"; do
    if [ -f "$f" ]; then files+=("$f"); fi
done
verilator --cc --exe --build -j 2 -O0 -Wno-fatal -Wno-lint -Wno-style -Wno-BLKANDNBLK \
    -Wno-MULTIDRIVEN -DSYNTHESIS "${define[@]}" -I"$hci/rtl/common" -I"$cc/include" --top-module hci_tb_top \
    "${files[@]}" "$here/hci_tb.cpp" -Mdir "$out/obj" -o ../sim > "$out/build.log" 2>&1 ||
    { tail -20 "$out/build.log"; exit 1; }
echo "built $out/sim"
