//! The command line: `redmule-vp [run] [FILE]`, `validate`, `list-components`, `bench`.
//!
//! Exit codes: 0 success, 2 bad input (scenario, arguments, files), 3 simulation fault
//! (fault, deadlock, cycle limit, a component's failed check).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use vp_kernel::Registry;

use crate::assembly::{describe_end, Outcome, Overrides, Platform};
use crate::bench;
use crate::scenario::Loaded;
use crate::stats;

pub const EXIT_OK: i32 = 0;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_FAULT: i32 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "redmule-vp",
    version,
    about = "Virtual platform of the PULP cluster with the RedMulE matrix engine",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// With no subcommand: run FILE, or the embedded default scenario.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a scenario (no FILE: the embedded default scenario).
    Run(RunArgs),
    /// Check a scenario without running it.
    Validate {
        /// Scenario file (YAML).
        file: PathBuf,
    },
    /// List the registered component kinds and their parameters.
    ListComponents,
    /// Run one RedMulE job on the default cluster and print cycles, accesses, utilization, GFLOPS.
    Gemm(crate::gemm::GemmArgs),
    /// Run an ELF binary on the default cluster; exits with the firmware's return value.
    RunElf(crate::run_elf::RunElfArgs),
    /// Run a parameter sweep (points in parallel) and write CSV, JSON lines and SVG plots.
    Sweep(crate::sweep::SweepArgs),
    /// Merge the outputs of sweep shards into the files one run would give.
    Merge(crate::sweep::MergeArgs),
    /// Run named benchmarks (none: all) and print simulated cycles per second.
    Bench {
        /// Benchmarks to run.
        names: Vec<String>,
        /// One JSON object per benchmark on stdout.
        #[arg(long)]
        json: bool,
        /// Run each benchmark N times and report the median run, with the slowest and the
        /// fastest (wall figures swing with the machine's load and state).
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeat: u32,
    },
}

#[derive(clap::Args, Debug, Default, Clone)]
pub struct RunArgs {
    /// Scenario file (YAML); the embedded default when absent.
    pub file: Option<PathBuf>,
    /// Write a Chrome trace-event timeline (opens in ui.perfetto.dev).
    #[arg(long, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,
    /// Write a VCD waveform.
    #[arg(long, value_name = "FILE.vcd")]
    pub vcd: Option<PathBuf>,
    /// Statistics format: a table on stdout, or one JSON document on stdout.
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    pub stats: StatsFormat,
    /// Stop after this many cluster cycles.
    #[arg(long)]
    pub max_cycles: Option<u64>,
    /// Override the scenario seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatsFormat {
    #[default]
    Table,
    Json,
}

/// Entry point with a registry (so a user's binary can add its own kinds).
pub fn main_with(reg: Registry) -> i32 {
    let cli = Cli::parse();
    match cli.cmd {
        None => run_cmd(&reg, &cli.run),
        Some(Cmd::Run(a)) => run_cmd(&reg, &a),
        Some(Cmd::Validate { file }) => validate(&reg, &file),
        Some(Cmd::ListComponents) => {
            list_components(&reg);
            EXIT_OK
        }
        Some(Cmd::Bench {
            names,
            json,
            repeat,
        }) => bench::run_cli(&reg, &names, json, repeat),
        Some(Cmd::Gemm(a)) => crate::gemm::run(&reg, &a),
        Some(Cmd::RunElf(a)) => crate::run_elf::run(&reg, &a),
        Some(Cmd::Sweep(a)) => crate::sweep::run(&reg, &a),
        Some(Cmd::Merge(a)) => crate::sweep::merge(&a),
    }
}

fn load(file: &Option<PathBuf>) -> Result<Loaded, i32> {
    match file {
        Some(f) => Loaded::from_file(f).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }),
        None => Ok(Loaded::default_scenario()),
    }
}

/// Build and run a scenario; print the summary or the JSON stats. Returns the exit code.
pub fn run_cmd(reg: &Registry, a: &RunArgs) -> i32 {
    let l = match load(&a.file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let o = Overrides {
        seed: a.seed,
        max_cycles: a.max_cycles,
        chrome: a.trace.clone(),
        vcd: a.vcd.clone(),
    };
    if a.max_cycles == Some(0) {
        eprintln!("error: --max-cycles: expected at least 1");
        return EXIT_BAD_INPUT;
    }
    let p = match Platform::build(&l, reg, &o) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let progress = std::io::stderr().is_terminal();
    if progress {
        p.enable_progress();
    }
    let traces: Vec<PathBuf> = p.chrome.iter().chain(p.vcd.iter()).cloned().collect();
    let out = p.run();
    if progress {
        eprint!("\r\x1b[K");
    }
    report(&l, &out, a.stats, &traces)
}

fn report(l: &Loaded, out: &Outcome, fmt: StatsFormat, traces: &[PathBuf]) -> i32 {
    match fmt {
        StatsFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&out.stats).unwrap_or_default()
            );
        }
        StatsFormat::Table => {
            print!("{}", stats::table(&l.scenario.name, out));
            for t in traces {
                println!(
                    "trace: {} (open it in https://ui.perfetto.dev)",
                    t.display()
                );
            }
        }
    }
    let failed = out.report.end.is_failure();
    if failed {
        eprintln!("error: {}", describe_end(&out.report.end, out.cycles));
    }
    for e in &out.finish_errors {
        eprintln!("error: {e}");
    }
    for e in &out.trace_errors {
        eprintln!("error: trace: {e}");
    }
    if failed || !out.finish_errors.is_empty() {
        EXIT_FAULT
    } else if !out.trace_errors.is_empty() {
        EXIT_BAD_INPUT
    } else {
        EXIT_OK
    }
}

fn validate(reg: &Registry, file: &std::path::Path) -> i32 {
    let l = match Loaded::from_file(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    match Platform::build(&l, reg, &Overrides::default()) {
        Ok(p) => {
            println!(
                "{}: ok ({} components, {} mapped ranges)",
                file.display(),
                p.components.len(),
                p.bus.mappings().len()
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn list_components(reg: &Registry) {
    for k in reg.kinds() {
        println!("{:<16} {}", k.name, k.summary);
        for line in k.params.lines().filter(|l| !l.trim().is_empty()) {
            println!("{:<16}   {}", "", line.trim());
        }
    }
}
