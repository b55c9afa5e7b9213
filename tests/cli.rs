//! The command line as a user meets it: exit codes, error messages with locations,
//! validation of every shipped scenario, and byte-identical traces run to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vp() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redmule-vp"))
}

fn run(args: &[&str]) -> Output {
    vp().args(args).output().expect("the binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redmule-vp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn write(name: &str, text: &str) -> PathBuf {
    let p = tmp(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn default_scenario_runs_and_exits_0() {
    let o = run(&["run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("scenario"), "{out}");
}

#[test]
fn no_subcommand_runs_the_default_scenario() {
    let o = run(&["--stats", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stats json");
    assert!(v["cycles"].as_u64().unwrap() > 0);
    assert!(v["components"].is_object());
    assert_eq!(
        v["end"]["kind"]
            .as_str()
            .map(|k| k == "finished" || k == "stopped"),
        Some(true)
    );
}

#[test]
fn yaml_syntax_error_names_file_line_and_column_and_exits_2() {
    let p = write("bad-syntax.yaml", "name: x\nplatform:\n  cores: [1, 2\n");
    let o = run(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad-syntax.yaml:"), "{e}");
}

#[test]
fn unknown_key_is_rejected_with_its_location() {
    let p = write("unknown-key.yaml", "name: x\nrun:\n  max_cycels: 10\n");
    let o = run(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("unknown-key.yaml:3:3"), "{e}");
    assert!(e.contains("max_cycels"), "{e}");
}

#[test]
fn wrong_type_is_rejected_with_its_location() {
    let p = write("wrong-type.yaml", "name: x\nplatform:\n  cores: many\n");
    let o = run(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("wrong-type.yaml:3:"), "{e}");
}

#[test]
fn out_of_range_platform_value_names_the_field() {
    let p = write("banks.yaml", "name: x\nplatform:\n  tcdm_banks: 12\n");
    let o = run(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("banks.yaml:3:3: platform.tcdm_banks"), "{e}");
    assert!(e.contains("power of two"), "{e}");
}

#[test]
fn missing_file_is_bad_input() {
    let o = run(&["run", "/nonexistent/scenario.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/scenario.yaml"));
}

#[test]
fn bad_arguments_are_bad_input() {
    let o = run(&["run", "--stats", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn cycle_limit_is_a_simulation_fault_with_a_report() {
    let o = run(&["run", "--max-cycles", "5"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("cycle limit"), "{}", stderr(&o));
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                // Sweep files (a `grid:` over a base scenario) are checked by a dry run.
                let text = std::fs::read_to_string(&p).unwrap();
                let is_sweep = text
                    .lines()
                    .any(|l| l.starts_with("grid:") || l.starts_with("base:"));
                let o = if is_sweep {
                    run(&["sweep", p.to_str().unwrap(), "--dry-run"])
                } else {
                    run(&["validate", p.to_str().unwrap()])
                };
                assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
                n += 1;
            }
        }
    }
    assert!(n >= 2, "expected scenarios under scenarios/, found {n}");
}

#[test]
fn list_components_names_the_builtin_kinds() {
    let o = run(&["list-components"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for k in ["interconnect", "traffic", "l2"] {
        assert!(
            out.lines().any(|l| l.starts_with(k)),
            "{k} missing in:\n{out}"
        );
    }
}

#[test]
fn same_scenario_and_seed_give_byte_identical_traces() {
    let (a, b) = (tmp("a.json"), tmp("b.json"));
    let (va, vb) = (tmp("a.vcd"), tmp("b.vcd"));
    for (t, v) in [(&a, &va), (&b, &vb)] {
        let o = run(&[
            "run",
            "--trace",
            t.to_str().unwrap(),
            "--vcd",
            v.to_str().unwrap(),
            "--seed",
            "7",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let (ja, jb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(ja.len() > 1000, "trace too small to mean anything");
    assert!(ja == jb, "Chrome traces differ");
    assert!(
        std::fs::read(&va).unwrap() == std::fs::read(&vb).unwrap(),
        "VCDs differ"
    );
    let v: serde_json::Value = serde_json::from_slice(&ja).expect("valid JSON");
    assert!(v["traceEvents"].as_array().is_some_and(|e| !e.is_empty()));
}

#[test]
fn a_run_stopped_by_the_cycle_limit_still_writes_a_valid_trace() {
    let t = tmp("limit.json");
    let o = run(&["run", "--max-cycles", "50", "--trace", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&t).unwrap()).expect("valid JSON");
    assert!(v["traceEvents"].is_array());
}

#[test]
fn bench_rejects_unknown_names() {
    let o = run(&["bench", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown benchmark 'nope'"));
}

#[test]
fn bench_repeat_reports_the_median_run_between_the_slowest_and_the_fastest() {
    let o = run(&["bench", "idle", "--repeat", "3", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one object per benchmark, not per run: {out}"
    );
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert_eq!(v["name"], "idle");
    assert_eq!(v["repeat"], 3.0);
    assert_eq!(v["cycles"], 1_000_000_000u64);
    let (median, slowest, fastest) = (
        v["cycles_per_s"].as_f64().unwrap() / 1e6,
        v["slowest"].as_f64().unwrap(),
        v["fastest"].as_f64().unwrap(),
    );
    assert!(
        slowest <= median && median <= fastest,
        "{slowest} <= {median} <= {fastest}"
    );
    // One run (the default) adds no spread figures.
    let o = run(&["bench", "idle", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert!(v.get("repeat").is_none() && v.get("slowest").is_none());
}

#[test]
fn bench_repeat_must_be_at_least_one() {
    let o = run(&["bench", "idle", "--repeat", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--repeat"), "{}", stderr(&o));
}
