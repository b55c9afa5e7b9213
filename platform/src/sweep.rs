//! `redmule-vp sweep FILE` and `redmule-vp merge`: parameter studies.
//!
//! A sweep file names a base scenario and the fields to vary:
//!
//! ```yaml
//! name: util-vs-intensity            # default: the file's stem
//! description: ...
//! base: ../contention/x.yaml         # relative to this file; or `scenario: {...}` inline
//! grid:                              # axes: field path -> values (Cartesian product)
//!   platform.interconnect.hci_variant: [pinned, v2_4]
//!   components.core*.params.intensity: [0.25, 0.5, 1.0]
//! samples:                           # optional seeded random points (rand_pcg)
//!   count: 8
//!   seed: 1
//!   fields:
//!     platform.interconnect.max_stall: {min: 0, max: 16}    # integers: inclusive
//!     components.driver.params.jobs.0.op: [gemm, addmax]    # choices
//! repeats: 2                         # seeds: the scenario's, then derived per repeat
//! metrics: [cycles, components.redmule.jobs.0.utilization, derived.core_slowdown]
//! run: { max_cycles: 200000 }        # per point
//! plot: { x: components.core*.params.intensity, series: platform.interconnect.hci_variant }
//! ```
//!
//! Field paths are dotted: mapping keys (created when absent), list indices, `*` (every
//! entry) and, in lists of named entries such as `components`, a name or a name glob
//! (`core*`). Points are the grid's product (last axis fastest) x the samples x the
//! repeats, numbered from 0. Every point's platform is built before anything runs;
//! a bad path or value is reported with the sweep file's line and column, the field and
//! the point.
//!
//! Outputs (`--out DIR`, default `sweep-<name>`): `results.jsonl` (canonical rows),
//! `results.csv` (the same rows), `sweep.json` (the manifest `merge` reads) and
//! `plot-<metric>.svg`.

mod def;
mod exec;
mod output;
mod plot;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vp_kernel::Registry;

pub use def::{json_path, repeat_seed, Point, Sweep, DERIVED};

use crate::cli::{EXIT_BAD_INPUT, EXIT_FAULT, EXIT_OK};

/// Exit code of a sweep stopped by Ctrl-C or SIGTERM (finished rows are written).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Arguments of `sweep`.
#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// The sweep file (YAML).
    pub file: PathBuf,
    /// Simulations run at once (default: the available parallelism).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Output folder (default: sweep-NAME, or sweep-NAME.shard-I-of-N).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only the points whose index % N == I (0 <= I < N), e.g. a Slurm array task.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Check every point (build its platform) and list the points; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Record points that fail the checks as error rows instead of refusing the sweep.
    #[arg(long)]
    pub allow_invalid: bool,
}

/// Arguments of `merge`.
#[derive(clap::Args, Debug, Clone)]
pub struct MergeArgs {
    /// Shard output folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged files.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard: expected I/N with 0 <= I < N, got '{s}'");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Run a sweep; returns the exit code: 0 every point ok, 2 bad input, 3 some point
/// failed (its row says why), 130 interrupted.
pub fn run(reg: &Registry, a: &SweepArgs) -> i32 {
    match run_inner(reg, a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn run_inner(reg: &Registry, a: &SweepArgs) -> Result<i32, String> {
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    let jobs = match a.jobs {
        Some(0) => return Err("--jobs: expected at least 1".into()),
        Some(j) => j,
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    let sweep = Sweep::load(&a.file, reg)?;
    let total = sweep.len();

    // Check every point (all shards alike) before anything runs.
    let mut scenarios = Vec::with_capacity(total);
    let mut errors = Vec::new();
    for i in 0..total {
        let p = sweep.point(i);
        let r = sweep.check_point(reg, &p);
        if let Err(e) = &r {
            errors.push(e.clone());
        }
        scenarios.push((p, r));
    }
    if !errors.is_empty() && !a.allow_invalid {
        for e in errors.iter().take(10) {
            eprintln!("error: {e}");
        }
        if errors.len() > 10 {
            eprintln!("error: ... and {} more invalid points", errors.len() - 10);
        }
        eprintln!(
            "error: {} of {total} points are invalid; nothing was run (--allow-invalid records them as error rows)",
            errors.len()
        );
        return Ok(EXIT_BAD_INPUT);
    }
    let selected: Vec<(Point, Result<def::PointScenario, String>)> = scenarios
        .into_iter()
        .filter(|(p, _)| shard.is_none_or(|(i, n)| p.index % n == i))
        .collect();

    if a.dry_run {
        use std::io::Write;
        // Errors writing (a closed pipe) end the listing quietly.
        let mut o = std::io::stdout().lock();
        let _ = writeln!(
            o,
            "{}: {total} points ({} in this shard), fields: {}; metrics: {}",
            sweep.file,
            selected.len(),
            sweep.fields().join(", "),
            sweep.metrics.join(", ")
        );
        for (p, r) in &selected {
            let st = if r.is_ok() { "ok" } else { "INVALID" };
            if writeln!(o, "  {:>5}  {st:<7}  {}", p.index, sweep.describe(p)).is_err() {
                break;
            }
        }
        return Ok(if errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_BAD_INPUT
        });
    }

    let out = a.out.clone().unwrap_or_else(|| match shard {
        None => PathBuf::from(format!("sweep-{}", sweep.name)),
        Some((i, n)) => PathBuf::from(format!("sweep-{}.shard-{i}-of-{n}", sweep.name)),
    });
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut manifest = output::Manifest::of(&sweep, shard);
    let order: Vec<usize> = selected.iter().map(|(p, _)| p.index).collect();
    let stream = output::Stream::create(&out, &manifest, order)?;
    let jobs_list: Vec<exec::Job> = selected
        .iter()
        .map(|(p, r)| exec::Job::new(&sweep, p, r.clone()))
        .collect();
    let n = jobs_list.len();
    let ctx = exec::Ctx {
        reg: Arc::new(reg.clone()),
        base_dir: sweep.base_dir.clone(),
        metrics: sweep.metrics.clone(),
    };
    let label = match shard {
        Some((i, k)) => format!("{} {i}/{k}", sweep.name),
        None => sweep.name.clone(),
    };
    let summary = exec::execute(ctx, jobs_list, jobs.min(n.max(1)), stream, &label)?;
    let mut rows = summary.rows;
    manifest.interrupted = summary.interrupted;
    output::write_all(&out, &manifest, &mut rows)?;
    warn_empty_metrics(&sweep.metrics, &rows);
    eprintln!(
        "{}: {} of {n} points in {:.1} s with {} jobs ({}) -> {}",
        sweep.name,
        rows.len(),
        summary.wall_s,
        jobs.min(n.max(1)),
        exec::counts(&rows),
        out.display()
    );
    if summary.interrupted {
        eprintln!("interrupted: running points were abandoned; finished rows are written");
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(if rows.iter().all(|(_, r)| r["status"] == "ok") {
        EXIT_OK
    } else {
        EXIT_FAULT
    })
}

fn warn_empty_metrics(metrics: &[String], rows: &[(usize, serde_json::Value)]) {
    let ok: Vec<_> = rows.iter().filter(|(_, r)| r["status"] == "ok").collect();
    if ok.is_empty() {
        return;
    }
    for m in metrics {
        if ok.iter().all(|(_, r)| r["metrics"][m].is_null()) {
            eprintln!("warning: metric '{m}' is absent from the stats of every point");
        }
    }
}

/// Merge shard outputs; returns the exit code (0, 2 bad input, 3 points missing).
pub fn merge(a: &MergeArgs) -> i32 {
    let dirs: Vec<&Path> = a.dirs.iter().map(|p| p.as_path()).collect();
    let (m, mut rows, missing) = match output::merge(&dirs) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("error: {}: {e}", a.out.display());
        return EXIT_BAD_INPUT;
    }
    if let Err(e) = output::write_all(&a.out, &m, &mut rows) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    eprintln!(
        "{}: merged {} folders, {} of {} points ({}) -> {}",
        m.name,
        dirs.len(),
        rows.len(),
        m.points,
        exec::counts(&rows),
        a.out.display()
    );
    if missing > 0 {
        eprintln!("error: {missing} points are missing (a shard did not finish?)");
        return EXIT_FAULT;
    }
    EXIT_OK
}
