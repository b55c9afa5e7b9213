//! A core alone on the interconnect (nothing else can act before the cycle after its
//! access) performs its TCDM accesses at once through the port's alone grant instead of
//! posting them and waiting for the grant. The run must be the same either way: every
//! prebuilt firmware, and runs cut by the cycle limit, give the same exit code, output and
//! statistics with the core param `alone_grants` on and off (its own counter aside, which
//! must show that alone grants did happen).

mod common;

use std::path::{Path, PathBuf};

use common::{prebuilt_elfs, stats_json, vp};
use serde_json::Value;

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("redmule-vp-alone-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A scenario running `elf` with alone grants on or off and the given run-ahead quantum.
fn scenario(dir: &Path, elf: &Path, on: bool, quantum: u64) -> PathBuf {
    let stem = elf.file_stem().unwrap().to_string_lossy();
    let f = dir.join(format!("{stem}-{on}-{quantum}.yaml"));
    let yaml = format!(
        "name: alone\nprogram:\n  elf: {}\n  core_params: {{alone_grants: {on}, quantum: {quantum}}}\n",
        Value::String(elf.display().to_string())
    );
    std::fs::write(&f, yaml).unwrap();
    f
}

/// Remove every core's `alone_grants` from the stats; return their sum.
fn take_alone_grants(v: &mut Value) -> u64 {
    let mut n = 0;
    if let Some(Value::Object(m)) = v.get_mut("components") {
        for (k, c) in m.iter_mut() {
            if let (true, Some(c)) = (k.starts_with("core"), c.as_object_mut()) {
                n += c
                    .remove("alone_grants")
                    .and_then(|x| x.as_u64())
                    .expect("a core's stats have alone_grants");
            }
        }
    }
    n
}

/// Exit code, stats (without alone_grants) and the alone grants of a run.
fn run_json(scenario: &Path, extra: &[&str]) -> (i32, Value, u64) {
    let (code, mut v, err) = stats_json(vp().arg("run").arg(scenario).args(extra));
    assert!(v.is_object(), "{}: {err}", scenario.display());
    let n = take_alone_grants(&mut v);
    (code, v, n)
}

/// Exit code and stdout of a run with the stats table, without the alone_grants lines.
fn run_table(scenario: &Path, extra: &[&str]) -> (i32, String) {
    let out = vp().arg("run").arg(scenario).args(extra).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("alone_grants"))
        .collect::<Vec<_>>()
        .join("\n");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn every_prebuilt_firmware_runs_the_same_with_and_without_alone_grants() {
    let dir = tmpdir().join("full");
    std::fs::create_dir_all(&dir).unwrap();
    for elf in prebuilt_elfs() {
        let name = elf.display().to_string();
        let (on, off) = (
            scenario(&dir, &elf, true, 10_000),
            scenario(&dir, &elf, false, 10_000),
        );
        let (c1, s1, n1) = run_json(&on, &[]);
        let (c2, s2, n2) = run_json(&off, &[]);
        assert_eq!(c1, c2, "{name}: exit code");
        assert_eq!(s1, s2, "{name}: stats");
        assert!(n1 > 0, "{name}: no access was granted alone");
        assert_eq!(n2, 0, "{name}: alone grants although switched off");
        assert_eq!(run_table(&on, &[]), run_table(&off, &[]), "{name}: stdout");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runs_cut_by_the_cycle_limit_are_the_same_with_and_without_alone_grants() {
    // Limits spread over matmul_int's start-up, its long stretches of core 0 alone and
    // the parallel phase; cuts one cycle apart catch a grant collected after the limit. A
    // run cut mid-quantum shows how far a core ran ahead: a short quantum makes that count
    // (a core continuing after an alone grant runs ahead from where it would have ticked).
    let dir = tmpdir().join("cut");
    std::fs::create_dir_all(&dir).unwrap();
    let elf = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt/matmul_int.elf");
    let mut cases: Vec<(u64, u64)> = (0..12).map(|k| (1_500 + 37_003 * k, 10_000)).collect();
    cases.extend((30_000..30_006).map(|m| (m, 10_000)));
    cases.extend((0..6).map(|k| (20_011 + 61_001 * k, 7)));
    let mut cut_alone = 0;
    for (max, quantum) in cases {
        let (on, off) = (
            scenario(&dir, &elf, true, quantum),
            scenario(&dir, &elf, false, quantum),
        );
        let m = max.to_string();
        let args = ["--max-cycles", m.as_str()];
        let (c1, s1, n1) = run_json(&on, &args);
        let (c2, s2, _) = run_json(&off, &args);
        assert_eq!(c1, 3, "limit {max}: the cycle limit's exit code");
        assert_eq!(c1, c2, "limit {max} quantum {quantum}: exit code");
        assert_eq!(s1, s2, "limit {max} quantum {quantum}: stats");
        cut_alone += (n1 > 0) as u32;
    }
    assert!(cut_alone > 0, "no cut run took alone grants");
    let _ = std::fs::remove_dir_all(&dir);
}
