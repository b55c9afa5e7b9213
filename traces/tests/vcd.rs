mod common;

use common::{out_path, FakeClock};
use tracing::{event, Level};
use tracing_subscriber::layer::SubscriberExt;

fn scenario(clk: &FakeClock) {
    clk.set(0);
    vp_traces::signal!("cluster.redmule", "busy", 0u64);
    vp_traces::signal!("cluster.redmule", "state", 0u64, 4);
    event!(target: "vp", Level::TRACE, track = "cluster.core0", ev = "signal",
           name = "irq", value = false);
    clk.set(1_000);
    vp_traces::signal!("cluster.redmule", "busy", 1u64);
    vp_traces::signal!("cluster.redmule", "state", 5u64);
    // Same time, emission order kept (two changes of one signal too).
    vp_traces::signal!("cluster.core0", "irq", true);
    vp_traces::signal!("cluster.core0", "irq", 0u64);
    // Not signals: ignored by the VCD.
    vp_traces::instant!("cluster.core0", "x");
    vp_traces::counter!("cluster.core0", "c", 1.5);
    event!(target: "other", Level::TRACE, track = "cluster.core0", ev = "signal", name = "no", value = 1u64);
    clk.set(2_500);
    // Masked to the width fixed by the first event (4 bits).
    vp_traces::signal!("cluster.redmule", "state", 0x1fu64, 8);
    vp_traces::signal!("cluster.redmule", "busy", 0u64);
    // A time going backwards is written at the last time.
    clk.set(2_000);
    vp_traces::signal!("cluster.dma", "done", 1u64);
}

fn run(name: &str) -> String {
    let path = out_path(name);
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::vcd_layer(&path, clk.clock()).unwrap();
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || scenario(&clk));
    guard.finish().unwrap();
    let mut tmp = path.clone().into_os_string();
    tmp.push(".body.tmp");
    assert!(
        !std::path::Path::new(&tmp).exists(),
        "temp body file left behind"
    );
    std::fs::read_to_string(&path).unwrap()
}

const EXPECTED: &str = "\
$version vp-traces $end
$timescale 1ps $end
$scope module cluster $end
$scope module redmule $end
$var wire 1 ! busy $end
$var wire 4 \" state $end
$upscope $end
$scope module core0 $end
$var wire 1 # irq $end
$upscope $end
$scope module dma $end
$var wire 1 $ done $end
$upscope $end
$upscope $end
$enddefinitions $end
#0
0!
b0000 \"
0#
#1000
1!
b0101 \"
1#
0#
#2500
b1111 \"
0!
1$
";

#[test]
fn vcd_structure() {
    let text = run("basic.vcd");
    assert_eq!(text, EXPECTED);

    // Structural checks that do not depend on the exact layout.
    let lines: Vec<&str> = text.lines().collect();
    let end_defs = lines
        .iter()
        .position(|l| *l == "$enddefinitions $end")
        .unwrap();
    assert!(lines[..end_defs]
        .iter()
        .any(|l| l.starts_with("$timescale 1ps")));
    let vars = lines[..end_defs]
        .iter()
        .filter(|l| l.starts_with("$var"))
        .count();
    assert_eq!(vars, 4);
    assert!(lines[end_defs + 1..].iter().all(|l| !l.starts_with('$')));
    let times: Vec<u64> = lines[end_defs + 1..]
        .iter()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|t| t.parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}

#[test]
fn vcd_identical_runs_give_identical_bytes() {
    assert_eq!(run("same_a.vcd"), run("same_b.vcd"));
}

#[test]
fn vcd_without_signals_is_still_a_valid_header() {
    let path = out_path("empty.vcd");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::vcd_layer(&path, clk.clock()).unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        vp_traces::instant!("a", "b");
    });
    drop(guard);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "$version vp-traces $end\n$timescale 1ps $end\n$enddefinitions $end\n"
    );
}

#[test]
fn vcd_many_signals_get_distinct_ids() {
    let path = out_path("many.vcd");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::vcd_layer(&path, clk.clock()).unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..300u64 {
            clk.set(i);
            vp_traces::signal!("cluster.bank", format!("b{i}"), i, 64);
        }
    });
    guard.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("$var"))
        .map(|l| l.split(' ').nth(3).unwrap())
        .collect();
    assert_eq!(ids.len(), 300);
    assert!(text.contains(&format!("b{:064b} ", 299u64)));
}
