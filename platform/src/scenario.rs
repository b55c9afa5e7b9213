//! Scenarios: the YAML description of one simulation.
//!
//! ```yaml
//! name: contention-demo          # shown in summaries
//! seed: 1                        # every random stream derives from it
//! platform:                      # the cluster; every key has the paper's default
//!   clock_mhz: 613
//!   cores: 8
//!   tcdm_size_kib: 128
//!   tcdm_banks: 16
//!   interconnect: { max_stall: 4 }   # params of the built-in interconnect
//! components:                    # workload and extra blocks
//!   - name: gen0
//!     kind: traffic
//!     params: { pattern: random, intensity: 0.5, count: 1000 }
//!     bind: { tcdm: interconnect.narrow }
//! run:
//!   max_cycles: 1000000
//! trace:
//!   chrome: out/run.json
//!   vcd: out/run.vcd
//! ```
//! Unknown keys are rejected everywhere; errors name the file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A scenario as written in YAML.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub platform: PlatformParams,
    #[serde(default)]
    pub components: Vec<ComponentSpec>,
    /// Firmware for the cores: an ELF file run by some or all cores.
    #[serde(default)]
    pub program: Option<ProgramSpec>,
    #[serde(default)]
    pub run: RunParams,
    #[serde(default)]
    pub trace: TraceParams,
}

fn default_name() -> String {
    "unnamed".into()
}
fn default_seed() -> u64 {
    1
}

/// The cluster. Defaults reproduce the paper's cluster: 8 cores, 16 banks, 128 KiB TCDM,
/// RedMulE 12 x 4 x 3, 613 MHz.
/// Unknown keys are caught by the assembly (a key must name a built-in block): serde's
/// `deny_unknown_fields` does not combine with the flattened `blocks`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PlatformParams {
    /// Cluster clock in MHz.
    #[serde(default = "d_clock")]
    pub clock_mhz: f64,
    /// Number of cores (1..=16).
    #[serde(default = "d_cores")]
    pub cores: u32,
    /// TCDM size in KiB.
    #[serde(default = "d_tcdm_kib")]
    pub tcdm_size_kib: u32,
    /// TCDM bank count.
    #[serde(default = "d_banks")]
    pub tcdm_banks: u32,
    /// TCDM base address.
    #[serde(default = "d_tcdm_base")]
    pub tcdm_base: u32,
    /// Params of the built-in blocks, by kind (`interconnect`, `redmule`, ...): passed to
    /// that kind, which validates them.
    #[serde(flatten)]
    pub blocks: IndexMap<String, serde_yaml::Value>,
}

fn d_clock() -> f64 {
    613.0
}
fn d_cores() -> u32 {
    8
}
fn d_tcdm_kib() -> u32 {
    128
}
fn d_banks() -> u32 {
    16
}
fn d_tcdm_base() -> u32 {
    0x1000_0000
}

impl Default for PlatformParams {
    fn default() -> Self {
        PlatformParams {
            clock_mhz: d_clock(),
            cores: d_cores(),
            tcdm_size_kib: d_tcdm_kib(),
            tcdm_banks: d_banks(),
            tcdm_base: d_tcdm_base(),
            blocks: IndexMap::new(),
        }
    }
}

/// One component instance.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    /// Unique name; its path in traces and stats.
    pub name: String,
    /// Registered kind (see `redmule-vp list-components`).
    pub kind: String,
    /// Kind-specific parameters.
    #[serde(default)]
    pub params: serde_yaml::Value,
    /// Port bindings: `port: component.export`.
    #[serde(default)]
    pub bind: IndexMap<String, String>,
}

/// Firmware to run on the cores.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    /// The ELF file (relative to the scenario's folder).
    pub elf: PathBuf,
    /// The cores that run it (default: all `platform.cores`); the others are not built, so
    /// their interconnect ports can go to traffic generators.
    #[serde(default)]
    pub cores: Option<Vec<u32>>,
    /// Params for every core (the `core` kind's params, e.g. timing).
    #[serde(default)]
    pub core_params: serde_yaml::Value,
}

/// Run limits.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunParams {
    /// Stop after this many cluster cycles (a fault-free stop, reported as a limit).
    #[serde(default)]
    pub max_cycles: Option<u64>,
}

/// Trace outputs (paths relative to the current directory).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TraceParams {
    /// Chrome trace-event JSON (opens in ui.perfetto.dev).
    #[serde(default)]
    pub chrome: Option<PathBuf>,
    /// VCD waveform.
    #[serde(default)]
    pub vcd: Option<PathBuf>,
}

/// A scenario that could not be loaded: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A loaded scenario with the text it came from (for locating later errors).
#[derive(Clone, Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    pub file: String,
    pub text: String,
    /// Folder that relative paths inside the scenario resolve from.
    pub base_dir: PathBuf,
}

/// The scenario `cargo run --release` runs when given no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.yaml");
pub const DEFAULT_NAME: &str = "<embedded default scenario>";

impl Loaded {
    /// Parse YAML text. `file` is used in error messages.
    pub fn from_str(text: &str, file: &str, base_dir: &Path) -> Result<Loaded, ScenarioError> {
        let scenario: Scenario = serde_yaml::from_str(text).map_err(|e| {
            let loc = e.location();
            ScenarioError {
                file: file.to_string(),
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                message: strip_location(&e.to_string()),
            }
        })?;
        let loaded = Loaded {
            scenario,
            file: file.to_string(),
            text: text.to_string(),
            base_dir: base_dir.to_path_buf(),
        };
        loaded.check()?;
        Ok(loaded)
    }

    /// Read and parse a scenario file.
    pub fn from_file(path: &Path) -> Result<Loaded, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: None,
            column: None,
            message: format!("cannot read the scenario: {e}"),
        })?;
        let base = path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("."));
        Loaded::from_str(&text, &file, &base)
    }

    /// The embedded default scenario.
    pub fn default_scenario() -> Loaded {
        Loaded::from_str(DEFAULT_SCENARIO, DEFAULT_NAME, Path::new("."))
            .expect("the embedded default scenario is valid (checked by a test)")
    }

    /// An error at the place where `key` (a dotted path such as
    /// `components.gen0.params.intensity` or `platform.tcdm_banks`) is written.
    pub fn error_at(&self, path: &[&str], message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate(&self.text, path);
        ScenarioError {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    /// Checks that need the whole scenario: values in range, unique names.
    fn check(&self) -> Result<(), ScenarioError> {
        let p = &self.scenario.platform;
        if !(p.clock_mhz.is_finite() && p.clock_mhz > 0.0 && p.clock_mhz <= 100_000.0) {
            return Err(self.error_at(
                &["platform", "clock_mhz"],
                format!(
                    "platform.clock_mhz: expected a frequency in (0, 100000] MHz, got {}",
                    p.clock_mhz
                ),
            ));
        }
        if p.cores == 0 || p.cores > 16 {
            return Err(self.error_at(
                &["platform", "cores"],
                format!("platform.cores: expected 1 to 16 cores, got {}", p.cores),
            ));
        }
        if p.tcdm_banks == 0 || !p.tcdm_banks.is_power_of_two() {
            return Err(self.error_at(
                &["platform", "tcdm_banks"],
                format!(
                    "platform.tcdm_banks: expected a non-zero power of two (the interconnect decodes the bank from address bits), got {}",
                    p.tcdm_banks
                ),
            ));
        }
        if p.tcdm_size_kib == 0 || p.tcdm_size_kib > 1024 || !p.tcdm_size_kib.is_power_of_two() {
            return Err(self.error_at(
                &["platform", "tcdm_size_kib"],
                format!(
                    "platform.tcdm_size_kib: expected a power of two from 1 to 1024 KiB, got {}",
                    p.tcdm_size_kib
                ),
            ));
        }
        if !(p.tcdm_size_kib as u64 * 1024).is_multiple_of(p.tcdm_banks as u64 * 4) {
            return Err(self.error_at(
                &["platform", "tcdm_size_kib"],
                "platform.tcdm_size_kib: the TCDM must hold a whole number of rows (banks x 4 bytes)",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.scenario.components.iter().enumerate() {
            if c.name.is_empty() || c.name.contains(['.', ' ']) {
                return Err(self.error_at(
                    &["components", &c.name],
                    format!("components[{i}].name: expected a non-empty name without dots or spaces, got '{}'", c.name),
                ));
            }
            if !seen.insert(c.name.clone()) {
                return Err(self.error_at(
                    &["components", &c.name],
                    format!("components[{i}].name: '{}' is used twice", c.name),
                ));
            }
        }
        if let Some(prog) = &self.scenario.program {
            if let Some(cores) = &prog.cores {
                for c in cores {
                    if *c >= p.cores {
                        return Err(self.error_at(
                            &["program", "cores"],
                            format!(
                                "program.cores: core {c} does not exist (platform.cores is {})",
                                p.cores
                            ),
                        ));
                    }
                }
            }
        }
        if self.scenario.run.max_cycles == Some(0) {
            return Err(self.error_at(
                &["run", "max_cycles"],
                "run.max_cycles: expected at least 1",
            ));
        }
        Ok(())
    }
}

/// serde_yaml appends " at line L column C" to messages; we print the location first.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Find where a key path is written in YAML text: a best-effort locator over the block
/// style we write scenarios in. `components.<name>` finds the list entry whose `name:` is
/// `<name>`. Returns 1-based (line, column) of the key, or of the closest enclosing key.
pub fn locate(text: &str, path: &[&str]) -> (Option<usize>, Option<usize>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut best: (Option<usize>, Option<usize>) = (None, None);
    // Search window: [start, end) lines, keys deeper than `indent`.
    let mut start = 0usize;
    let mut end = lines.len();
    let mut min_indent: Option<usize> = None;
    let mut i = 0;
    while i < path.len() {
        let key = path[i];
        let mut found = None;
        for (ln, line) in lines.iter().enumerate().take(end).skip(start) {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if let Some(mi) = min_indent {
                if indent < mi && !trimmed.is_empty() && !trimmed.starts_with('#') {
                    break;
                }
            }
            let t = trimmed.trim_start_matches("- ");
            let col = line.len() - t.len();
            // inline mappings: `key: { a: 1, b: 2 }` — look for `key:` anywhere after `{` too
            if t.starts_with(&format!("{key}:")) {
                found = Some((ln, col, indent));
                break;
            }
            if let Some(pos) = line
                .find(&format!("{{ {key}:"))
                .or_else(|| line.find(&format!(", {key}:")))
            {
                found = Some((ln, pos + 2, indent));
                break;
            }
        }
        let Some((ln, col, indent)) = found else {
            break;
        };
        best = (Some(ln + 1), Some(col + 1));
        // list entries named by `name:`: components.<name>
        if key == "components" && i + 1 < path.len() {
            let name = path[i + 1];
            for (ln2, line) in lines.iter().enumerate().skip(ln + 1) {
                let t = line.trim_start().trim_start_matches("- ").trim_start();
                if t.starts_with("name:")
                    && t["name:".len()..].trim().trim_matches(['"', '\'']) == name
                {
                    let col2 = line.find("name:").unwrap_or(0);
                    best = (Some(ln2 + 1), Some(col2 + 1));
                    start = ln2 + 1;
                    min_indent = Some(col2);
                    // the entry ends at the next list item at the same or lower indent
                    end = lines
                        .iter()
                        .enumerate()
                        .skip(ln2 + 1)
                        .find(|(_, l)| {
                            let tr = l.trim_start();
                            let ind = l.len() - tr.len();
                            tr.starts_with("- ") && ind + 2 <= col2
                        })
                        .map(|(n, _)| n)
                        .unwrap_or(lines.len());
                    break;
                }
            }
            i += 2;
            continue;
        }
        start = ln + 1;
        min_indent = Some(indent + 1);
        end = lines.len();
        i += 1;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_nested_keys_and_named_entries() {
        let text = "name: x\nplatform:\n  tcdm_banks: 3\ncomponents:\n  - name: a\n    kind: k\n  - name: b\n    kind: traffic\n    params:\n      intensity: 2\n";
        assert_eq!(
            locate(text, &["platform", "tcdm_banks"]),
            (Some(3), Some(3))
        );
        assert_eq!(
            locate(text, &["components", "b", "params", "intensity"]),
            (Some(10), Some(7))
        );
        assert_eq!(
            locate(text, &["components", "b", "kind"]),
            (Some(8), Some(5))
        );
        assert_eq!(
            locate(text, &["components", "a", "params"]),
            (Some(5), Some(5))
        );
    }
}
