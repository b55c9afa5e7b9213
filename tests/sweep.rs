//! `redmule-vp sweep` and `merge` end to end, on tiny sweeps (debug build).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_redmule-vp");

/// A small scenario: a 32 x 32 x 32 GEMM with two traffic generators.
const BASE: &str = r#"name: tiny
seed: 3
platform:
  interconnect: { max_stall: 4 }
components:
  - name: driver
    kind: redmule_driver
    params:
      matrices:
        X: { rows: 32, cols: 32, addr: 0x10000000 }
        W: { rows: 32, cols: 32, addr: 0x10000800 }
        Z: { rows: 32, cols: 32, addr: 0x10001000 }
      jobs:
        - { x: X, w: W, z: Z, op: gemm, fmt: fp16, check: true }
    bind: { tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }
  - name: gen0
    kind: traffic
    params: { pattern: random, intensity: 0.5, write_ratio: 0.25, range: { base: 0x10010000, size: 0x1000 }, duration: 800 }
    bind: { tcdm: interconnect.narrow }
  - name: gen1
    kind: traffic
    params: { pattern: random, intensity: 0.5, write_ratio: 0.25, range: { base: 0x10010000, size: 0x1000 }, duration: 800 }
    bind: { tcdm: interconnect.narrow }
"#;

const SWEEP: &str = r#"name: tiny-sweep
base: base.yaml
grid:
  components.gen*.params.intensity: [0.25, 1.0]
  platform.interconnect.hci_variant: [pinned, v2_4]
samples:
  count: 2
  seed: 5
  fields:
    platform.interconnect.max_stall: { min: 1, max: 16 }
repeats: 2
metrics:
  - cycles
  - components.redmule.jobs.0.utilization
  - derived.redmule_utilization
  - derived.core_slowdown
  - components.interconnect.hci.wide_wait_cycles
plot: { x: components.gen*.params.intensity, series: platform.interconnect.hci_variant }
"#;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redmule-vp-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn setup(name: &str, sweep: &str) -> PathBuf {
    let d = tmp(name);
    std::fs::write(d.join("base.yaml"), BASE).unwrap();
    std::fs::write(d.join("sweep.yaml"), sweep).unwrap();
    d
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Every file of a folder: name -> bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn rows(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn jobs_1_and_2_give_the_same_files_and_shards_merge_to_them() {
    let d = setup("jobs", SWEEP);
    let (c1, _, e1) = run(&d, &["sweep", "sweep.yaml", "--jobs", "1", "--out", "one"]);
    assert_eq!(c1, 0, "{e1}");
    let (c2, _, e2) = run(&d, &["sweep", "sweep.yaml", "--jobs", "2", "--out", "two"]);
    assert_eq!(c2, 0, "{e2}");
    let one = files(&d.join("one"));
    assert_eq!(one, files(&d.join("two")));
    // 2 x 2 grid x 2 samples x 2 repeats.
    let r = rows(&d.join("one"));
    assert_eq!(r.len(), 16);
    for (i, row) in r.iter().enumerate() {
        assert_eq!(row["index"], i);
        assert_eq!(row["status"], "ok", "{row}");
        let u = row["metrics"]["derived.redmule_utilization"]
            .as_f64()
            .unwrap();
        assert!(u > 0.0 && u <= 1.0);
        assert_eq!(
            row["metrics"]["derived.redmule_utilization"],
            row["metrics"]["components.redmule.jobs.0.utilization"]
        );
        assert!(row["metrics"]["derived.core_slowdown"].as_f64().unwrap() >= 1.0);
    }
    // Repeats run with different seeds; repeat 0 keeps the scenario's.
    assert_eq!(r[0]["seed"], 3);
    assert_ne!(r[0]["seed"], r[1]["seed"]);
    // Samples draw max_stall in [1, 16].
    let ms = r[0]["params"]["platform.interconnect.max_stall"]
        .as_u64()
        .unwrap();
    assert!((1..=16).contains(&ms));
    let csv = std::fs::read_to_string(d.join("one/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 17);
    assert!(csv.starts_with("index,components.gen*.params.intensity,platform.interconnect.hci_variant,platform.interconnect.max_stall,seed,repeat,cycles,"));

    // Shards in their own folders, merged (in any order) = one run.
    for i in 0..3 {
        let s = format!("{i}/3");
        let (c, _, e) = run(&d, &["sweep", "sweep.yaml", "--shard", &s, "-j", "2"]);
        assert_eq!(c, 0, "{e}");
        let n = rows(&d.join(format!("sweep-tiny-sweep.shard-{i}-of-3"))).len();
        assert_eq!(n, [6, 5, 5][i]);
    }
    let (c, _, e) = run(
        &d,
        &[
            "merge",
            "sweep-tiny-sweep.shard-2-of-3",
            "sweep-tiny-sweep.shard-0-of-3",
            "sweep-tiny-sweep.shard-1-of-3",
            "--out",
            "merged",
        ],
    );
    assert_eq!(c, 0, "{e}");
    assert_eq!(one, files(&d.join("merged")));
    // A missing shard is reported.
    let (c, _, e) = run(
        &d,
        &["merge", "sweep-tiny-sweep.shard-0-of-3", "--out", "partial"],
    );
    assert_eq!(c, 3);
    assert!(e.contains("10 points are missing"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn plots_are_well_formed_svg_with_one_line_per_series() {
    let d = setup(
        "plots",
        &SWEEP
            .replace("samples:\n  count: 2", "samples:\n  count: 1")
            .replace("repeats: 2", "repeats: 1"),
    );
    let (c, _, e) = run(&d, &["sweep", "sweep.yaml", "--out", "o"]);
    assert_eq!(c, 0, "{e}");
    for m in [
        "cycles",
        "components.redmule.jobs.0.utilization",
        "derived.core_slowdown",
    ] {
        let p = d.join(format!("o/plot-{m}.svg"));
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(svg.starts_with("<svg"), "{}", p.display());
        assert!(svg.trim_end().ends_with("</svg>"));
        // Balanced elements: every opened <text> is closed.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // Two series (pinned, v2_4): two data polylines.
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(svg.contains("hci_variant=pinned") && svg.contains("hci_variant=v2_4"));
        assert!(svg.contains("components.gen*.params.intensity"));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn failing_points_are_recorded_and_the_sweep_completes() {
    // max_cycles 300 stops the long-traffic points at the limit; 12 banks only fails at
    // build and is recorded with --allow-invalid.
    let sweep = r#"base: base.yaml
grid:
  components.gen0.params.duration: [100, 5000]
  platform.tcdm_banks: [16, 12]
metrics: [cycles, components.redmule.jobs.0.cycles]
run: { max_cycles: 300 }
"#;
    let d = setup("fail", sweep);
    let (c, _, e) = run(&d, &["sweep", "sweep.yaml", "--out", "o"]);
    assert_eq!(c, 2, "{e}");
    assert!(
        e.contains("sweep.yaml:4:3: grid.platform.tcdm_banks: point 1 (components.gen0.params.duration=100, platform.tcdm_banks=12)"),
        "{e}"
    );
    assert!(
        !d.join("o").exists(),
        "nothing runs when a point is invalid"
    );
    let (c, _, e) = run(
        &d,
        &["sweep", "sweep.yaml", "--out", "o", "--allow-invalid"],
    );
    assert_eq!(c, 3, "{e}");
    let r = rows(&d.join("o"));
    let st: Vec<&str> = r.iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["limit", "error", "limit", "error"]);
    assert!(r[0]["error"].as_str().unwrap().contains("cycle limit"));
    assert!(r[1]["error"].as_str().unwrap().contains("power of two"));
    assert_eq!(r[0]["metrics"]["cycles"], 300);
    let csv = std::fs::read_to_string(d.join("o/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.lines().nth(2).unwrap().contains(",error,"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn invalid_paths_are_rejected_before_running() {
    for (grid, want) in [
        (
            "platform.interconect.max_stall: [0, 4]",
            "sweep.yaml:3:3: grid.platform.interconect.max_stall: unknown platform field 'interconect'",
        ),
        (
            "components.gen7.params.intensity: [0.5]",
            "grid.components.gen7.params.intensity: 'components.gen7': no entry of 'components' is named 'gen7'",
        ),
        (
            "components.gen0.params.intensty: [0.5]",
            "grid.components.gen0.params.intensty: point 0 (components.gen0.params.intensty=0.5): components.gen0.params:",
        ),
        (
            "components.driver.params.jobs.3.op: [gemm]",
            "index 3 is out of range",
        ),
    ] {
        let d = setup("paths", &format!("base: base.yaml\ngrid:\n  {grid}\nmetrics: [cycles]\n"));
        let (c, _, e) = run(&d, &["sweep", "sweep.yaml", "--out", "o"]);
        assert_eq!(c, 2, "{grid}: {e}");
        assert!(e.contains(want), "{grid}: {e}");
        assert!(!d.join("o").exists());
        let _ = std::fs::remove_dir_all(&d);
    }
    // Unknown keys of the sweep file itself, with their place.
    let d = setup("keys", "base: base.yaml\ngird:\n  seed: [1]\n");
    let (c, _, e) = run(&d, &["sweep", "sweep.yaml", "--dry-run"]);
    assert_eq!(c, 2);
    assert!(e.contains("sweep.yaml:2:1: unknown field `gird`"), "{e}");
    // A metric that names no component.
    let d2 = setup(
        "metric",
        "base: base.yaml\nmetrics: [components.nope.cycles]\n",
    );
    let (c, _, e) = run(&d2, &["sweep", "sweep.yaml", "--dry-run"]);
    assert_eq!(c, 2);
    assert!(e.contains("does not name a component"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&d2);
}

#[test]
fn shipped_studies_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for s in ["util-vs-intensity", "banks", "geometry"] {
        let f = root.join(format!("scenarios/sweeps/{s}.yaml"));
        let (c, out, e) = run(root, &["sweep", f.to_str().unwrap(), "--dry-run"]);
        assert_eq!(c, 0, "{s}: {e}");
        assert!(!out.contains("INVALID"), "{out}");
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_keeps_finished_rows() {
    let sweep = "name: long\nbase: base.yaml\nrepeats: 400\nmetrics: [cycles]\n";
    let d = setup("sigint", sweep);
    let mut child = Command::new(BIN)
        .current_dir(&d)
        .args(["sweep", "sweep.yaml", "-j", "2", "--out", "o"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for a few finished rows, then interrupt.
    let t0 = std::time::Instant::now();
    loop {
        let n = std::fs::read_to_string(d.join("o/results.jsonl"))
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if n >= 3 || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let r = rows(&d.join("o"));
    assert!(r.len() >= 3 && r.len() < 400, "{} rows", r.len());
    let mut idx: Vec<u64> = r.iter().map(|x| x["index"].as_u64().unwrap()).collect();
    let sorted = idx.clone();
    idx.sort();
    assert_eq!(idx, sorted, "rows in point order");
    assert!(r.iter().all(|x| x["status"] == "ok"));
    let man: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("o/sweep.json")).unwrap()).unwrap();
    assert_eq!(man["complete"], false);
    assert_eq!(man["rows"], r.len());
    let _ = std::fs::remove_dir_all(&d);
}
