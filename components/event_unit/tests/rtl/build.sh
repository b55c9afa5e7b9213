#!/usr/bin/env bash
# Build event_unit_flex (not part of this repository) with the testbench beside it:
#   build.sh EVENT_UNIT_FLEX PULP_CLUSTER OUT_DIR
# with a checkout of pulp-platform/event_unit_flex at 28e0499 (as pulp_cluster pins it)
# and one of pulp-platform/pulp_cluster (for rtl/cluster_event_map.sv). Gives OUT_DIR/sim;
# set EVENT_UNIT_SIM to it and run `cargo test -p vp-event-unit --test rtl_compare`
# (EVENT_UNIT_RUNS: random scripts, see there). Needs Verilator 5 (checked with
# Debian's 5.006).
set -euo pipefail
eu=$(cd "$1/rtl" && pwd); pc=$(cd "$2/rtl" && pwd)
out=$(mkdir -p "$3" && cd "$3" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
files=("$here/eu_tb_top.sv" "$pc/cluster_event_map.sv")
for f in event_unit_core hw_barrier_unit hw_dispatch hw_mutex_unit interc_sw_evt_trig \
    periph_FIFO_id soc_periph_fifo event_unit_interface_mux event_unit_top; do
    files+=("$eu/$f.sv")
done
verilator --cc --exe --build -j 2 -O2 -Wno-fatal -Wno-lint -Wno-style -Wno-MULTIDRIVEN \
    --top-module eu_tb_top -Mdir "$out/obj" "${files[@]}" "$here/eu_tb.cpp" -o sim \
    > "$out/build.log" 2>&1 || { tail -20 "$out/build.log"; exit 1; }
cp "$out/obj/sim" "$out/sim"
echo "built $out/sim"
