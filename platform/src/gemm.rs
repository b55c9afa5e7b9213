//! `redmule-vp gemm M N K`: one RedMulE job on the default cluster, a what-if tool for
//! users and a stable interface for scripts.
//!
//! The job is driven through RedMulE's registers by the `redmule_driver` component exactly
//! as in the calibration runs; inputs are seeded random unless given as `.npy`; the result
//! is checked against the exact oracle. Printed figures: cycles from the granted TRIGGER
//! write to the completion event, 288-bit reads and writes on the wide port, CE utilization
//! M*N*K / (rows*cols * cycles), and GFLOPS at the cluster clock.

use std::path::{Path, PathBuf};

use serde_json::json;
use vp_kernel::Registry;

use crate::assembly::{describe_end, Overrides, Platform};
use crate::cli::{EXIT_BAD_INPUT, EXIT_FAULT, EXIT_OK};
use crate::scenario::Loaded;

/// Arguments of the `gemm` command.
#[derive(clap::Args, Debug, Clone)]
pub struct GemmArgs {
    /// Rows of X and Z.
    pub m: u32,
    /// Columns of X, rows of W.
    pub n: u32,
    /// Columns of W and Z.
    pub k: u32,
    /// GEMM-Op.
    #[arg(long, default_value = "gemm", value_parser = ["gemm", "matmul", "addmax", "addmin", "mulmax", "mulmin", "maxmin", "minmax"])]
    pub op: String,
    /// Element format: fp16, fp8 (E5M2) or fp8alt (E4M3, IEEE-style, max 240).
    #[arg(long, default_value = "fp16", value_parser = ["fp16", "fp8", "fp8alt"])]
    pub fmt: String,
    /// X as a .npy file (float16, or uint8 bit patterns for FP8), M x N.
    #[arg(long)]
    pub x: Option<PathBuf>,
    /// W as a .npy file, N x K.
    #[arg(long)]
    pub w: Option<PathBuf>,
    /// Y (the initial Z) as a .npy file, M x K.
    #[arg(long)]
    pub y: Option<PathBuf>,
    /// Write Z to this .npy file.
    #[arg(long)]
    pub z_out: Option<PathBuf>,
    /// Refuse this share (per mille) of the wide port's grants at random (seeded).
    #[arg(long, default_value_t = 0)]
    pub deny_permille: u32,
    /// Seed of the random inputs and refusals.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object: m n k op fmt cycles reads writes utilization gflops.
    #[arg(long)]
    pub json: bool,
}

fn abs(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// The scenario text of one job (also used by tests and benchmarks).
pub fn scenario_yaml(a: &GemmArgs) -> Result<String, String> {
    let eb: u64 = if a.fmt == "fp16" { 2 } else { 1 };
    let base: u64 = 0x1000_0000;
    let align = |v: u64| v.div_ceil(32) * 32;
    let (m, n, k) = (a.m as u64, a.n as u64, a.k as u64);
    if m == 0 || n == 0 || k == 0 {
        return Err("M, N and K must be at least 1".into());
    }
    let xa = base;
    let wa = align(xa + m * n * eb);
    let za = align(wa + n * k * eb);
    let end = za + m * k * eb;
    if end > base + 128 * 1024 {
        return Err(format!(
            "X, W and Z ({} bytes) do not fit in the 128 KiB TCDM",
            end - base
        ));
    }
    let init = |p: &Option<PathBuf>| match p {
        Some(p) => format!("{{ npy: \"{}\" }}", abs(p)),
        None => "random".to_string(),
    };
    let out = match &a.z_out {
        Some(p) => format!(", out: \"{}\"", p.display()),
        None => String::new(),
    };
    Ok(format!(
        r#"name: gemm-{m}x{n}x{k}
seed: {seed}
platform:
  redmule: {{ deny_permille: {deny} }}
components:
  - name: driver
    kind: redmule_driver
    params:
      matrices:
        X: {{ rows: {m}, cols: {n}, addr: {xa:#x}, dtype: {fmt}, init: {xi} }}
        W: {{ rows: {n}, cols: {k}, addr: {wa:#x}, dtype: {fmt}, init: {wi} }}
        Z: {{ rows: {m}, cols: {k}, addr: {za:#x}, dtype: {fmt}, init: {yi} }}
      jobs:
        - {{ x: X, w: W, z: Z, op: {op}, fmt: {fmt}, check: true{out} }}
    bind: {{ tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }}
"#,
        seed = a.seed,
        deny = a.deny_permille,
        fmt = a.fmt,
        op = a.op,
        xi = init(&a.x),
        wi = init(&a.w),
        yi = init(&a.y),
    ))
}

/// Run the command; returns the exit code.
pub fn run(reg: &Registry, a: &GemmArgs) -> i32 {
    if a.deny_permille >= 1000 {
        eprintln!(
            "error: --deny-permille: expected 0 to 999, got {}",
            a.deny_permille
        );
        return EXIT_BAD_INPUT;
    }
    let yaml = match scenario_yaml(a) {
        Ok(y) => y,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let l = match Loaded::from_str(&yaml, "<gemm command>", Path::new(".")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let p = match Platform::build(&l, reg, &Overrides::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", e.message);
            return EXIT_BAD_INPUT;
        }
    };
    let out = p.run();
    if out.report.end.is_failure() {
        eprintln!("error: {}", describe_end(&out.report.end, out.cycles));
        return EXIT_FAULT;
    }
    for e in &out.finish_errors {
        eprintln!("error: {e}");
    }
    if !out.finish_errors.is_empty() {
        return EXIT_FAULT;
    }
    let job = &out.stats["components"]["redmule"]["jobs"][0];
    if job.is_null() {
        eprintln!("error: the job did not finish");
        return EXIT_FAULT;
    }
    let o = json!({
        "m": a.m, "n": a.n, "k": a.k,
        "op": a.op, "fmt": a.fmt,
        "cycles": job["cycles"],
        "reads": job["reads"],
        "writes": job["writes"],
        "utilization": job["utilization"],
        "gflops": job["gflops"],
    });
    if a.json {
        println!("{o}");
    } else {
        println!(
            "RedMulE {}x{}x{} {} {}: {} cycles, {} reads, {} writes, utilization {:.2} %, {:.2} GFLOPS at {:.0} MHz",
            a.m,
            a.n,
            a.k,
            a.op,
            a.fmt,
            job["cycles"],
            job["reads"],
            job["writes"],
            job["utilization"].as_f64().unwrap_or(0.0) * 100.0,
            job["gflops"].as_f64().unwrap_or(0.0),
            out.stats["clock_mhz"].as_f64().unwrap_or(0.0)
        );
    }
    EXIT_OK
}
