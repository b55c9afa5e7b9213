//! `redmule-vp run-elf FILE.elf`: run a binary on the default cluster.
//!
//! Builds the default cluster from a generated scenario (`program: {elf: FILE}`: one `core`
//! component per core, the first loads the ELF), runs it to the end, prints what the firmware
//! printed (the stdout block's lines, `[core N] text`) and then the run summary (the table,
//! or with `--stats json` the JSON document instead of both), and exits with:
//!
//! * the firmware's return value (cluster control RETURN without bit 31, low 8 bits as every
//!   process exit code; 0 when the run ended without RETURN being written) when the run ended
//!   normally (EOC, or every core parked);
//! * 3 on a fault (illegal instruction, access fault), a deadlock or the cycle limit, with
//!   the report on stderr;
//! * 2 on bad input (missing or invalid ELF, a bad option).
//!
//! Firmware return values 2 and 3 are therefore indistinguishable from those errors by the
//! exit code alone; the stderr report (or `--stats json`, `end` and
//! `components.cluster_ctrl.exit_code`) tells them apart.

use std::path::PathBuf;

use serde_json::Value;
use vp_kernel::Registry;

use crate::assembly::{describe_end, Overrides, Platform};
use crate::cli::{StatsFormat, EXIT_BAD_INPUT, EXIT_FAULT};
use crate::scenario::Loaded;

/// Arguments of `run-elf`.
#[derive(clap::Args, Debug, Clone)]
pub struct RunElfArgs {
    /// The ELF file (RV32IMC(F), linked for the PULP cluster: L2 at 0x1C000000, TCDM at
    /// 0x10000000).
    pub elf: PathBuf,
    /// Write a Chrome trace-event timeline (opens in ui.perfetto.dev).
    #[arg(long, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,
    /// Write a VCD waveform.
    #[arg(long, value_name = "FILE.vcd")]
    pub vcd: Option<PathBuf>,
    /// Statistics format: a table after the firmware's output, or one JSON document.
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    pub stats: StatsFormat,
    /// Stop after this many cluster cycles (exit code 3).
    #[arg(long)]
    pub max_cycles: Option<u64>,
    /// Number of cores of the cluster (1..=16, default 8). The SDK's firmware is built for
    /// 8 (firmware/README.md, NUM_CORES): on more cores the others sleep from boot; on fewer,
    /// the work meant for the missing cores is not done.
    #[arg(long)]
    pub cores: Option<u32>,
    /// Record every retired instruction (pc, disassembly, cycle) on the cores' timeline
    /// tracks (needs --trace or --vcd to be seen).
    #[arg(long)]
    pub trace_instructions: bool,
}

/// The scenario `run-elf` builds for `elf` (absolute path).
pub fn scenario_yaml(
    elf: &std::path::Path,
    cores: Option<u32>,
    trace_instructions: bool,
) -> String {
    let path = Value::String(elf.display().to_string()).to_string();
    let mut s = String::from("name: run-elf\n");
    if let Some(c) = cores {
        s += &format!("platform:\n  cores: {c}\n");
    }
    s += &format!("program:\n  elf: {path}\n");
    if trace_instructions {
        s += "  core_params:\n    trace_instructions: true\n";
    }
    s
}

/// Run the command; returns the exit code.
pub fn run(reg: &Registry, a: &RunElfArgs) -> i32 {
    let elf = match std::fs::canonicalize(&a.elf) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}: {e}", a.elf.display());
            return EXIT_BAD_INPUT;
        }
    };
    match std::fs::read(&elf) {
        Ok(b) => {
            if let Err(e) = vp_core::Elf::parse(&b) {
                eprintln!("error: {}: not a usable RISC-V ELF: {e}", a.elf.display());
                return EXIT_BAD_INPUT;
            }
        }
        Err(e) => {
            eprintln!("error: {}: {e}", a.elf.display());
            return EXIT_BAD_INPUT;
        }
    }
    if a.max_cycles == Some(0) {
        eprintln!("error: --max-cycles: expected at least 1");
        return EXIT_BAD_INPUT;
    }
    let text = scenario_yaml(&elf, a.cores, a.trace_instructions);
    let l = match Loaded::from_str(&text, "<run-elf>", std::path::Path::new(".")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let o = Overrides {
        seed: None,
        max_cycles: a.max_cycles,
        chrome: a.trace.clone(),
        vcd: a.vcd.clone(),
    };
    let p = match Platform::build(&l, reg, &o) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let traces: Vec<PathBuf> = p.chrome.iter().chain(p.vcd.iter()).cloned().collect();
    let out = p.run();
    let lines: Vec<String> = out.stats["components"]["stdout"]["lines"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match a.stats {
        StatsFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&out.stats).unwrap_or_default()
        ),
        StatsFormat::Table => {
            for line in &lines {
                println!("{line}");
            }
            // The lines were just printed: keep only their count in the table.
            let mut shown = crate::assembly::Outcome {
                report: out.report.clone(),
                cycles: out.cycles,
                stats: out.stats.clone(),
                finish_errors: Vec::new(),
                trace_errors: Vec::new(),
            };
            if let Some(Value::Object(m)) = shown.stats["components"].get_mut("stdout") {
                m.insert("lines".into(), Value::from(lines.len()));
            }
            print!("{}", crate::stats::table("run-elf", &shown));
            for t in &traces {
                println!(
                    "trace: {} (open it in https://ui.perfetto.dev)",
                    t.display()
                );
            }
        }
    }
    for e in &out.trace_errors {
        eprintln!("error: trace: {e}");
    }
    if out.report.end.is_failure() || !out.finish_errors.is_empty() {
        if out.report.end.is_failure() {
            eprintln!("error: {}", describe_end(&out.report.end, out.cycles));
        }
        for e in &out.finish_errors {
            eprintln!("error: {e}");
        }
        return EXIT_FAULT;
    }
    let code = out.stats["components"]["cluster_ctrl"]["exit_code"]
        .as_u64()
        .unwrap_or(0);
    (code & 0xFF) as i32
}

/// Repetitions of the `cores8` benchmark (one run of matmul_int is ~0.45 M cycles).
pub const BENCH_CORES8_RUNS: u32 = 10;

/// The `cores8` benchmark: firmware/prebuilt/matmul_int.elf on the default cluster (8 cores,
/// TCDM through the interconnect), run [`BENCH_CORES8_RUNS`] times; reports simulated
/// cycles per second and, as extra figures, aggregate simulated instructions per second
/// (all cores) in millions.
pub fn bench_cores8(reg: &Registry) -> Result<crate::bench::BenchResult, String> {
    let elf =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware/prebuilt/matmul_int.elf");
    if !elf.exists() {
        return Err(format!("{} is missing", elf.display()));
    }
    let yaml = scenario_yaml(&elf, None, false);
    let l =
        Loaded::from_str(&yaml, "cores8", std::path::Path::new(".")).map_err(|e| e.to_string())?;
    let (mut cycles, mut instrs, mut wall) = (0u64, 0u64, 0f64);
    for _ in 0..BENCH_CORES8_RUNS {
        let p = Platform::build(&l, reg, &Overrides::default()).map_err(|e| e.to_string())?;
        let t0 = std::time::Instant::now();
        let out = p.run();
        wall += t0.elapsed().as_secs_f64();
        if out.failed() || out.stats["components"]["cluster_ctrl"]["exit_code"] != 0 {
            return Err(format!("matmul_int failed: {:?}", out.report.end));
        }
        cycles += out.cycles;
        if let Some(Value::Object(m)) = out.stats.get("components") {
            instrs += m
                .iter()
                .filter(|(k, _)| k.starts_with("core"))
                .filter_map(|(_, v)| v["instructions"].as_u64())
                .sum::<u64>();
        }
    }
    Ok(crate::bench::BenchResult {
        name: "cores8",
        cycles,
        wall_s: wall,
        extra: vec![
            ("instructions".into(), instrs as f64, ""),
            (
                "mips_aggregate".into(),
                instrs as f64 / wall.max(1e-12) / 1e6,
                "M instructions/s",
            ),
        ],
    })
}
