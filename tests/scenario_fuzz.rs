//! Bad scenarios are errors, never panics: every scenario and sweep in scenarios/, mutated
//! at random one line at a time, must be rejected with an error or load; a scenario that
//! loads must build and run to an end (a cycle limit keeps the runs short), a sweep that
//! loads must check or reject its first and last points.
//!
//! A mutation replaces a `key: value` line's value, or a flow mapping's value, with a
//! hostile one (negative, zero, huge, fractional, a string, a list, empty), deletes a line,
//! or duplicates it. `SCENARIO_FUZZ_RUNS` sets how many mutations per file (default 60);
//! the seeds are fixed, so a failure repeats. `SCENARIO_FUZZ_SHOW` prints each rejection;
//! `SCENARIO_FUZZ_TRACE` names each mutated ELF before it runs (for an abort that takes
//! the test process down).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use redmule_vp::assembly::{Overrides, Platform};
use redmule_vp::scenario::Loaded;
use redmule_vp::sweep::Sweep;
use vp_kernel::testkit::{env_count, XorShift};

const VALUES: &[&str] = &[
    "-1",
    "0",
    "1",
    "3",
    "1e30",
    "-1e30",
    "0.5",
    "18446744073709551616",
    "4294967296",
    "0xFFFFFFFF",
    "0x",
    "nan",
    ".inf",
    "abc",
    "\"\"",
    "[]",
    "{}",
    "[1, 2]",
    "~",
    "true",
    "0x10000000",
    "0x1FFFFFFF",
    "65535",
];

type Outcome = std::thread::Result<Result<(), Box<dyn std::error::Error>>>;

/// What the mutations came to: runs, rejections, and the panics (the failures).
#[derive(Default)]
struct Tally {
    ran: u32,
    rejected: u32,
    panics: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: String, r: Outcome) {
        match r {
            Ok(Ok(())) => self.ran += 1,
            Ok(Err(e)) => {
                self.rejected += 1;
                if std::env::var("SCENARIO_FUZZ_SHOW").is_ok() {
                    eprintln!("{what}\n  => {e}");
                }
            }
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                self.panics.push(format!("{what}: {msg}"));
            }
        }
    }

    fn finish(self) {
        eprintln!("{} ran, {} rejected", self.ran, self.rejected);
        assert!(
            self.panics.is_empty(),
            "{} mutations panicked:\n{}",
            self.panics.len(),
            self.panics.join("\n")
        );
    }
}

fn scenarios() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut out = vec![];
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One mutation of `text`, and what it did.
fn mutate(text: &str, g: &mut XorShift) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let live: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            let t = lines[i].trim_start();
            !t.is_empty() && !t.starts_with('#')
        })
        .collect();
    let i = live[(g.next_u64() % live.len() as u64) as usize];
    let before = lines[i].clone();
    let v = VALUES[(g.next_u64() % VALUES.len() as u64) as usize];
    match g.next_u64() % 6 {
        0 => {
            lines.remove(i);
        }
        1 => lines.insert(i, before.clone()),
        _ => {
            // the value after the n-th `: ` of the line, up to `,` or `}` in a flow mapping
            let seps: Vec<usize> = before.match_indices(": ").map(|(k, _)| k + 2).collect();
            if seps.is_empty() {
                lines[i] = format!("{before} {v}");
            } else {
                let s = seps[(g.next_u64() % seps.len() as u64) as usize];
                let rest = &before[s..];
                let end = if before[..s].contains('{') {
                    rest.find([',', '}']).unwrap_or(rest.len())
                } else {
                    rest.len()
                };
                lines[i] = format!("{}{v}{}", &before[..s], &rest[end..]);
            }
        }
    }
    let after = lines.get(i).cloned().unwrap_or_default();
    (
        lines.join("\n") + "\n",
        format!("line {}: {before:?} -> {after:?}", i + 1),
    )
}

#[test]
fn mutated_scenarios_are_errors_or_runs_never_panics() {
    let runs = env_count("SCENARIO_FUZZ_RUNS", 60);
    let mut tally = Tally::default();
    for path in scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = path.parent().unwrap();
        let name = path.display().to_string();
        for k in 0..runs {
            let mut g = XorShift(0x9E37_79B9_7F4A_7C15 ^ (k + 1) ^ (name.len() as u64) << 32);
            let (yaml, what) = mutate(&text, &mut g);
            let sweep = text.lines().any(|l| l.starts_with("base:"));
            let r = catch_unwind(AssertUnwindSafe(|| {
                let reg = redmule_vp::builtin_registry();
                if sweep {
                    let s = Sweep::from_str(&yaml, &name, dir, "fuzz", &reg)?;
                    for i in [0, s.len().saturating_sub(1)] {
                        if i < s.len() {
                            s.check_point(&reg, &s.point(i))?;
                        }
                    }
                    return Ok(());
                }
                let l = Loaded::from_str(&yaml, &name, dir)?;
                let o = Overrides {
                    max_cycles: Some(3_000),
                    ..Overrides::default()
                };
                let p = Platform::build(&l, &reg, &o)?;
                p.run();
                Ok::<(), Box<dyn std::error::Error>>(())
            }));
            tally.record(format!("{name} {what}"), r);
        }
    }
    tally.finish();
}

/// Bad firmware is an error or a stopped run, never a panic: the prebuilt ELF files with a
/// few bytes changed (in the headers half the time) or cut short, loaded and run on the
/// cluster for a few thousand cycles (`SCENARIO_FUZZ_RUNS` per file, fixed seeds).
#[test]
fn mutated_elf_files_are_errors_or_runs_never_panics() {
    let runs = env_count("SCENARIO_FUZZ_RUNS", 60);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("elf_fuzz");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "elf"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut tally = Tally::default();
    for (f, path) in files.iter().enumerate() {
        let orig = std::fs::read(path).unwrap();
        for k in 0..runs {
            let mut g = XorShift(0xD1B5_4A32_D192_ED03 ^ (k + 1) ^ (f as u64) << 40);
            let mut b = orig.clone();
            let what = if g.below(10) == 0 {
                let n = g.below(b.len() as u64) as usize;
                b.truncate(n);
                format!("cut at {n}")
            } else {
                let mut w = vec![];
                for _ in 0..1 + g.below(4) {
                    // the ELF header and the program headers that follow it, or anywhere
                    let span = if g.below(2) == 0 {
                        0x34 + 0x20 * 4
                    } else {
                        b.len()
                    };
                    let i = g.below(span.min(b.len()) as u64) as usize;
                    b[i] = g.next_u64() as u8;
                    w.push(format!("[{i:#x}]={:#04x}", b[i]));
                }
                w.join(" ")
            };
            if std::env::var("SCENARIO_FUZZ_TRACE").is_ok() {
                eprintln!("TRY {} {k} {what}", path.display());
            }
            let file = tmp.join(format!("{f}_{k}.elf"));
            std::fs::write(&file, &b).unwrap();
            let yaml = redmule_vp::run_elf::scenario_yaml(&file, None, false);
            let r = catch_unwind(AssertUnwindSafe(|| {
                let l = Loaded::from_str(&yaml, "run-elf", &tmp)?;
                let o = Overrides {
                    max_cycles: Some(5_000),
                    ..Overrides::default()
                };
                let p = Platform::build(&l, &redmule_vp::builtin_registry(), &o)?;
                p.run();
                Ok::<(), Box<dyn std::error::Error>>(())
            }));
            let _ = std::fs::remove_file(&file);
            tally.record(format!("{} {what}", path.display()), r);
        }
    }
    tally.finish();
}
