//! Running points: one `spawn_blocking` task per simulation on a tokio runtime, bounded by
//! a semaphore; results go over a bounded crossbeam channel to a collector thread that
//! writes them in point order and drives the progress bar.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};
use vp_kernel::{Registry, RunEnd};

use super::def::{json_path, Point, PointScenario, Sweep};
use super::output::Stream;
use crate::assembly::{describe_end, Overrides, Platform};
use crate::scenario::Loaded;

/// A point to run: what the blocking task needs (all `Send`).
pub struct Job {
    pub index: usize,
    pub params: Vec<(String, Value)>,
    pub repeat: u32,
    /// The scenario, or the reason it could not be made (an error row, not run).
    pub scenario: Result<PointScenario, String>,
}

impl Job {
    pub fn new(s: &Sweep, p: &Point, scenario: Result<PointScenario, String>) -> Job {
        Job {
            index: p.index,
            params: s
                .fields()
                .into_iter()
                .zip(&p.values)
                .enumerate()
                .map(|(i, (f, v))| {
                    (
                        f,
                        serde_json::to_value(s.param_value(i, v)).unwrap_or(Value::Null),
                    )
                })
                .collect(),
            repeat: p.repeat,
            scenario,
        }
    }
}

/// What the whole run needs to know.
pub struct Ctx {
    pub reg: Arc<Registry>,
    pub base_dir: PathBuf,
    pub metrics: Vec<String>,
}

fn row(
    job: &Job,
    seed: Option<u64>,
    metrics: Map<String, Value>,
    status: &str,
    error: Option<String>,
) -> Value {
    let params: Map<String, Value> = job.params.iter().cloned().collect();
    json!({
        "index": job.index,
        "params": params,
        "seed": seed,
        "repeat": job.repeat,
        "metrics": metrics,
        "status": status,
        "error": error,
    })
}

fn null_metrics(names: &[String]) -> Map<String, Value> {
    names.iter().map(|m| (m.clone(), Value::Null)).collect()
}

/// Derived metrics (see `def::DERIVED`).
fn derived(name: &str, stats: &Value, l: &Loaded) -> Value {
    let comps = &stats["components"];
    let f = |v: &Value| v.as_f64().unwrap_or(0.0);
    let narrow_traffic = || {
        l.scenario.components.iter().filter(|c| {
            c.kind == "traffic" && c.params.get("width").and_then(|w| w.as_str()) != Some("wide")
        })
    };
    match name {
        "derived.redmule_utilization" | "derived.redmule_cycles" => {
            let rm = &comps["redmule"];
            let Some(jobs) = rm["jobs"].as_array() else {
                return Value::Null;
            };
            if jobs.is_empty() {
                return Value::Null;
            }
            let cycles: f64 = jobs.iter().map(|j| f(&j["cycles"])).sum();
            if name == "derived.redmule_cycles" {
                return json!(cycles as u64);
            }
            let work: f64 = jobs
                .iter()
                .map(|j| f(&j["m"]) * f(&j["n"]) * f(&j["k"]))
                .sum();
            let ces = f(&rm["geometry"]["rows"]) * f(&rm["geometry"]["cols"]);
            if cycles <= 0.0 || ces <= 0.0 {
                return Value::Null;
            }
            json!(work / (ces * cycles))
        }
        "derived.core_slowdown" => {
            let (mut lat, mut grants) = (0.0, 0.0);
            for c in narrow_traffic() {
                let s = &comps[&c.name];
                lat += f(&s["latency_mean"]) * f(&s["grants"]);
                grants += f(&s["grants"]);
            }
            if grants > 0.0 {
                json!(lat / grants)
            } else {
                Value::Null
            }
        }
        "derived.core_grants" => {
            json!(narrow_traffic()
                .map(|c| comps[&c.name]["grants"].as_u64().unwrap_or(0))
                .sum::<u64>())
        }
        "derived.bank_conflicts" => match comps["interconnect"]["banks"]["conflicts"].as_array() {
            Some(a) => json!(a.iter().map(|v| v.as_u64().unwrap_or(0)).sum::<u64>()),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Build and run one point (on the calling thread). Never panics on bad input.
pub fn run_point(ctx: &Ctx, job: &Job) -> Value {
    let ps = match &job.scenario {
        Ok(ps) => ps,
        Err(e) => {
            return row(
                job,
                None,
                null_metrics(&ctx.metrics),
                "error",
                Some(e.clone()),
            )
        }
    };
    let err = |e: String| {
        row(
            job,
            Some(ps.seed),
            null_metrics(&ctx.metrics),
            "error",
            Some(e),
        )
    };
    let l = match Loaded::from_str(&ps.yaml, &ps.label, &ctx.base_dir) {
        Ok(l) => l,
        Err(e) => return err(e.message),
    };
    let p = match Platform::build(&l, &ctx.reg, &Overrides::default()) {
        Ok(p) => p,
        Err(e) => return err(e.message),
    };
    let out = p.run();
    let mut metrics = Map::new();
    for m in &ctx.metrics {
        let v = if m.starts_with("derived.") {
            derived(m, &out.stats, &l)
        } else {
            json_path(&out.stats, m).cloned().unwrap_or(Value::Null)
        };
        metrics.insert(m.clone(), v);
    }
    let (status, mut errors) = match &out.report.end {
        RunEnd::Finished | RunEnd::Stopped(_) => ("ok", vec![]),
        RunEnd::Limit => ("limit", vec![describe_end(&out.report.end, out.cycles)]),
        _ => ("fault", vec![describe_end(&out.report.end, out.cycles)]),
    };
    let status = if status == "ok" && !out.finish_errors.is_empty() {
        "fault"
    } else {
        status
    };
    errors.extend(out.finish_errors.iter().cloned());
    let error = if errors.is_empty() {
        None
    } else {
        Some(errors.join("; "))
    };
    row(job, Some(ps.seed), metrics, status, error)
}

/// How a run ended.
pub struct Summary {
    pub rows: Vec<(usize, Value)>,
    pub interrupted: bool,
    pub wall_s: f64,
}

enum Msg {
    Row(usize, Value),
    Stop,
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Run `jobs_list` (ascending indices) with at most `jobs` simulations at once, writing rows
/// to `stream` in index order. Ctrl-C (or SIGTERM) stops cleanly: no new point starts,
/// running points are abandoned, finished rows are kept.
pub fn execute(
    ctx: Ctx,
    jobs_list: Vec<Job>,
    jobs: usize,
    stream: Stream,
    label: &str,
) -> Result<Summary, String> {
    let total = jobs_list.len() as u64;
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(jobs.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;

    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} points, {msg}, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(label.to_string());
    bar.set_message("0 failed");

    let (tx, rx) = crossbeam_channel::bounded::<Msg>(2 * jobs.max(1));
    let collector_bar = bar.clone();
    let collector = std::thread::spawn(move || {
        let mut stream = stream;
        let mut failed = 0u64;
        while let Ok(Msg::Row(i, r)) = rx.recv() {
            if r["status"] != "ok" {
                failed += 1;
                collector_bar.set_message(format!("{failed} failed"));
            }
            stream.push(i, &r);
            collector_bar.inc(1);
        }
        stream.finish()
    });

    let ctx = Arc::new(ctx);
    let cancelled = Arc::new(AtomicBool::new(false));
    let interrupted = rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
        let spawn_all = {
            let sem = sem.clone();
            let tx = tx.clone();
            let ctx = ctx.clone();
            let cancelled = cancelled.clone();
            async move {
                for job in jobs_list {
                    let Ok(permit) = sem.clone().acquire_owned().await else {
                        return;
                    };
                    if cancelled.load(Ordering::SeqCst) {
                        return;
                    }
                    let tx = tx.clone();
                    let ctx = ctx.clone();
                    tokio::task::spawn_blocking(move || {
                        // The platform is built and run here: the kernel is !Send.
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            run_point(&ctx, &job)
                        }))
                        .unwrap_or_else(|p| {
                            row(
                                &job,
                                job.scenario.as_ref().ok().map(|s| s.seed),
                                null_metrics(&ctx.metrics),
                                "error",
                                Some(format!("panic: {}", panic_text(p.as_ref()))),
                            )
                        });
                        let _ = tx.send(Msg::Row(job.index, r));
                        drop(tx);
                        drop(permit);
                    });
                }
                // Every permit back: every result sent.
                let _ = sem.acquire_many(jobs.max(1) as u32).await;
            }
        };
        tokio::select! {
            _ = spawn_all => false,
            _ = stop_signal() => {
                cancelled.store(true, Ordering::SeqCst);
                true
            }
        }
    });
    let _ = tx.send(Msg::Stop);
    drop(tx);
    let rows = collector
        .join()
        .map_err(|p| format!("the collector failed: {}", panic_text(p.as_ref())))?;
    bar.finish_and_clear();
    // Abandon running points (their threads end with the process).
    rt.shutdown_background();
    Ok(Summary {
        rows,
        interrupted,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One line per status for the end-of-run message.
pub fn counts(rows: &[(usize, Value)]) -> String {
    ["ok", "fault", "limit", "error"]
        .iter()
        .map(|s| {
            let n = rows.iter().filter(|(_, r)| r["status"] == *s).count();
            format!("{n} {s}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
