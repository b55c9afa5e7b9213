//! The sweep file: parsing, the points it describes, and how a point edits the scenario.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Deserialize;
use serde_yaml::Value as Y;
use vp_kernel::Registry;

use crate::assembly::{Overrides, Platform, CLUSTER_BLOCKS};
use crate::scenario::{locate, Loaded};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    base: Option<PathBuf>,
    #[serde(default)]
    scenario: Option<Y>,
    #[serde(default)]
    set: IndexMap<String, Y>,
    #[serde(default)]
    grid: IndexMap<String, Vec<Y>>,
    #[serde(default)]
    samples: Option<RawSamples>,
    #[serde(default)]
    repeats: Option<u32>,
    #[serde(default)]
    metrics: Vec<String>,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    plot: Option<RawPlot>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRun {
    #[serde(default)]
    max_cycles: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSamples {
    count: u32,
    #[serde(default)]
    seed: Option<u64>,
    fields: IndexMap<String, Y>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlot {
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    series: Option<Y>,
}

/// Derived metrics: computed from the stats document and the point's scenario.
pub const DERIVED: &[(&str, &str)] = &[
    (
        "derived.redmule_utilization",
        "CE utilization over all RedMulE jobs: sum(M*N*K) / (rows*cols*sum(cycles))",
    ),
    ("derived.redmule_cycles", "sum of the RedMulE jobs' cycles"),
    (
        "derived.core_slowdown",
        "mean cycles per access of the narrow traffic generators (1.0 = never stalled)",
    ),
    (
        "derived.core_grants",
        "accesses granted to the narrow traffic generators",
    ),
    ("derived.bank_conflicts", "sum of the TCDM bank conflicts"),
];

/// Top-level keys of the stats document.
const STATS_KEYS: &[&str] = &[
    "scenario",
    "seed",
    "end",
    "cycles",
    "time_ps",
    "clock_mhz",
    "components",
    "warnings",
    "errors",
    "first_error",
];

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "platform",
    "components",
    "program",
    "run",
];

const PLATFORM_KEYS: &[&str] = &[
    "clock_mhz",
    "cores",
    "tcdm_size_kib",
    "tcdm_banks",
    "tcdm_base",
];

/// A parsed, checked sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub name: String,
    pub description: String,
    /// The sweep file as named on the command line (for messages).
    pub file: String,
    pub text: String,
    /// The base scenario with the sweep's `run` applied and `trace` removed.
    pub base: Y,
    /// Folder that the scenario's relative paths resolve from.
    pub base_dir: PathBuf,
    pub grid: Vec<(String, Vec<Y>)>,
    /// Grid axes that are named, not field paths: each value is a mapping of field paths
    /// to values (plus an optional `label`).
    pub compound: Vec<bool>,
    pub sample_fields: Vec<String>,
    /// Sampled values: one vector (in `sample_fields` order) per sample.
    pub samples: Vec<Vec<Y>>,
    pub repeats: u32,
    pub metrics: Vec<String>,
    pub plot_x: Option<String>,
    pub plot_series: Vec<String>,
    /// FNV-1a of the sweep and base texts: shards of one sweep share it.
    pub fingerprint: String,
}

/// One point of the sweep.
#[derive(Clone, Debug)]
pub struct Point {
    pub index: usize,
    /// Values of `Sweep::fields()`, in order.
    pub values: Vec<Y>,
    pub repeat: u32,
}

/// A point's scenario, ready to build.
#[derive(Clone, Debug)]
pub struct PointScenario {
    pub yaml: String,
    pub seed: u64,
    pub label: String,
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= *b as u64;
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// A value as shown in messages, CSV cells and legends.
pub fn show(v: &Y) -> String {
    match v {
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        Y::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn glob(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((head, tail)) => {
            if !s.starts_with(head) {
                return false;
            }
            let rest = &s[head.len()..];
            (0..=rest.len()).any(|i| rest.is_char_boundary(i) && glob(tail, &rest[i..]))
        }
    }
}

fn kind_of(v: &Y) -> &'static str {
    match v {
        Y::Null => "empty",
        Y::Bool(_) => "a boolean",
        Y::Number(_) => "a number",
        Y::String(_) => "a string",
        Y::Sequence(_) => "a list",
        Y::Mapping(_) => "a mapping",
        Y::Tagged(_) => "a tagged value",
    }
}

/// Set `value` at `segs` under `node`; returns how many places were set.
/// Lists take an index, `*` (every entry) or a name glob (entries whose `name` matches);
/// missing mapping keys are created.
fn set_path(node: &mut Y, segs: &[&str], value: &Y, done: &str) -> Result<usize, String> {
    let Some((seg, rest)) = segs.split_first() else {
        *node = value.clone();
        return Ok(1);
    };
    let here = if done.is_empty() {
        seg.to_string()
    } else {
        format!("{done}.{seg}")
    };
    if seg.is_empty() {
        return Err(format!("'{here}': empty path segment"));
    }
    match node {
        Y::Sequence(items) => {
            let idx: Vec<usize> = if *seg == "*" {
                (0..items.len()).collect()
            } else if let Ok(i) = seg.parse::<usize>() {
                if i >= items.len() {
                    return Err(format!(
                        "'{here}': index {i} is out of range ('{done}' has {} entries)",
                        items.len()
                    ));
                }
                vec![i]
            } else {
                items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| {
                        it.get("name")
                            .and_then(|n| n.as_str())
                            .is_some_and(|n| glob(seg, n))
                    })
                    .map(|(i, _)| i)
                    .collect()
            };
            if idx.is_empty() {
                let names: Vec<&str> = items
                    .iter()
                    .filter_map(|it| it.get("name").and_then(|n| n.as_str()))
                    .collect();
                return Err(format!(
                    "'{here}': no entry of '{done}' is named '{seg}' (names: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            }
            let mut n = 0;
            for i in idx {
                n += set_path(&mut items[i], rest, value, &here)?;
            }
            Ok(n)
        }
        Y::Mapping(m) => {
            if *seg == "*" {
                let mut n = 0;
                for v in m.values_mut() {
                    n += set_path(v, rest, value, &here)?;
                }
                if n == 0 {
                    return Err(format!("'{here}': '{done}' is empty"));
                }
                return Ok(n);
            }
            let key = Y::String(seg.to_string());
            if !m.contains_key(&key) {
                m.insert(key.clone(), Y::Null);
            }
            let child = m.get_mut(&key).expect("inserted above");
            set_path(child, rest, value, &here)
        }
        Y::Null => {
            if *seg == "*" || seg.parse::<usize>().is_ok() {
                return Err(format!("'{here}': '{done}' is empty, nothing to index"));
            }
            *node = Y::Mapping(Default::default());
            set_path(node, segs, value, done)
        }
        other => Err(format!(
            "'{here}': '{done}' is {}, it has no field '{seg}'",
            kind_of(other)
        )),
    }
}

/// Walk a JSON document along a dotted path (numeric segments index arrays).
pub fn json_path<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut v = v;
    for seg in path.split('.') {
        v = match v {
            serde_json::Value::Object(m) => m.get(seg)?,
            serde_json::Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The seed of repeat `r` of a point whose scenario seed is `seed`: the seed itself for
/// repeat 0, else `derive_seed(seed, "repeat<r>")` cut to 53 bits (exact in JSON).
pub fn repeat_seed(seed: u64, r: u32) -> u64 {
    if r == 0 {
        seed
    } else {
        vp_kernel::rng::derive_seed(seed, &format!("repeat{r}")) & ((1u64 << 53) - 1)
    }
}

impl Sweep {
    fn err_at(&self, path: &[&str], msg: impl std::fmt::Display) -> String {
        at(&self.file, &self.text, path, msg)
    }

    /// Every swept field: grid axes, then sampled fields.
    pub fn fields(&self) -> Vec<String> {
        self.grid
            .iter()
            .map(|(k, _)| k.clone())
            .chain(self.sample_fields.iter().cloned())
            .collect()
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        let g: usize = self.grid.iter().map(|(_, v)| v.len()).product();
        g * self.samples.len().max(1) * self.repeats as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `index` (< len): grid axes in file order, the last varying fastest, then the
    /// sample, then the repeat.
    pub fn point(&self, index: usize) -> Point {
        let r = self.repeats as usize;
        let s = self.samples.len().max(1);
        let repeat = (index % r) as u32;
        let rest = index / r;
        let si = rest % s;
        let mut g = rest / s;
        let mut values = vec![Y::Null; self.grid.len()];
        for (i, (_, vals)) in self.grid.iter().enumerate().rev() {
            values[i] = vals[g % vals.len()].clone();
            g /= vals.len();
        }
        if let Some(sv) = self.samples.get(si) {
            values.extend(sv.iter().cloned());
        }
        Point {
            index,
            values,
            repeat,
        }
    }

    /// The value recorded for field `i` of a point: the value, or a compound axis' label
    /// (its `label`, else `key=value` of its entries).
    pub fn param_value(&self, i: usize, v: &Y) -> Y {
        if !self.compound.get(i).copied().unwrap_or(false) {
            return v.clone();
        }
        if let Some(l) = v.get("label") {
            return Y::String(show(l));
        }
        let Y::Mapping(m) = v else {
            return v.clone();
        };
        let parts: Vec<String> = m
            .iter()
            .map(|(k, vv)| {
                let k = k.as_str().unwrap_or("");
                format!("{}={}", k.rsplit('.').next().unwrap_or(k), show(vv))
            })
            .collect();
        Y::String(parts.join(" "))
    }

    /// `field=value, ...` of a point.
    pub fn describe(&self, p: &Point) -> String {
        let mut parts: Vec<String> = self
            .fields()
            .iter()
            .zip(&p.values)
            .enumerate()
            .map(|(i, (f, v))| format!("{f}={}", show(&self.param_value(i, v))))
            .collect();
        if self.repeats > 1 {
            parts.push(format!("repeat={}", p.repeat));
        }
        parts.join(", ")
    }

    /// The point's scenario text.
    pub fn scenario_for(&self, p: &Point) -> Result<PointScenario, String> {
        let mut tree = self.base.clone();
        for (i, (f, v)) in self.fields().iter().zip(&p.values).enumerate() {
            if self.compound.get(i).copied().unwrap_or(false) {
                if let Y::Mapping(m) = v {
                    for (k, vv) in m {
                        let Some(k) = k.as_str() else { continue };
                        if k == "label" {
                            continue;
                        }
                        let segs: Vec<&str> = k.split('.').collect();
                        set_path(&mut tree, &segs, vv, "")
                            .map_err(|e| self.field_error(p, f, &e))?;
                    }
                }
                continue;
            }
            let segs: Vec<&str> = f.split('.').collect();
            set_path(&mut tree, &segs, v, "").map_err(|e| self.field_error(p, f, &e))?;
        }
        let seed = match tree.get("seed") {
            None | Some(Y::Null) => 1,
            Some(v) => v.as_u64().ok_or_else(|| {
                self.field_error(
                    p,
                    "seed",
                    &format!("seed: expected an unsigned integer, got {}", show(v)),
                )
            })?,
        };
        let seed = repeat_seed(seed, p.repeat);
        if let Y::Mapping(m) = &mut tree {
            m.insert(Y::String("seed".into()), Y::Number(seed.into()));
        }
        let yaml = serde_yaml::to_string(&tree).map_err(|e| format!("{}: {e}", self.file))?;
        Ok(PointScenario {
            yaml,
            seed,
            label: format!("{} point {}", self.file, p.index),
        })
    }

    /// An error of point `p` attributed to the field whose path best matches `msg`.
    fn field_error(&self, p: &Point, field: &str, msg: &str) -> String {
        let (section, key): (Vec<&str>, &str) = if self.sample_fields.iter().any(|f| f == field) {
            (vec!["samples", "fields"], field)
        } else if self.grid.iter().any(|(f, _)| f == field) {
            (vec!["grid"], field)
        } else {
            (vec![], field)
        };
        let mut path = section.clone();
        path.push(key);
        let name = if section.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", section.join("."))
        };
        self.err_at(
            &path,
            format!("{name}: point {} ({}): {msg}", p.index, self.describe(p)),
        )
    }

    /// The field of `p` that an error message of the scenario most likely concerns.
    fn blame(&self, msg: &str) -> Option<String> {
        let head = msg.split([':', ' ']).next().unwrap_or("");
        let hs: Vec<&str> = head.split('.').collect();
        let mut best: Option<(usize, String)> = None;
        let mut candidates: Vec<(String, String)> = Vec::new();
        for (i, (f, vals)) in self.grid.iter().enumerate() {
            if self.compound[i] {
                for v in vals.iter().filter_map(|v| v.as_mapping()) {
                    for k in v.keys().filter_map(|k| k.as_str()) {
                        candidates.push((k.to_string(), f.clone()));
                    }
                }
            } else {
                candidates.push((f.clone(), f.clone()));
            }
        }
        for f in &self.sample_fields {
            candidates.push((f.clone(), f.clone()));
        }
        for (path, f) in candidates {
            let fs: Vec<&str> = path.split('.').collect();
            let common = fs
                .iter()
                .zip(&hs)
                .take_while(|(a, b)| glob(a, b) || a == b)
                .count();
            if common > 0 && best.as_ref().is_none_or(|(c, _)| common > *c) {
                best = Some((common, f));
            }
        }
        best.map(|(_, f)| f)
    }

    /// Build the point's platform (without running it): the checks of `validate`.
    pub fn check_point(&self, reg: &Registry, p: &Point) -> Result<PointScenario, String> {
        let ps = self.scenario_for(p)?;
        let wrap = |msg: String| match self.blame(&msg) {
            Some(f) => self.field_error(p, &f, &msg),
            None => self.err_at(
                &["grid"],
                format!("point {} ({}): {msg}", p.index, self.describe(p)),
            ),
        };
        let l =
            Loaded::from_str(&ps.yaml, &ps.label, &self.base_dir).map_err(|e| wrap(e.message))?;
        Platform::build(&l, reg, &Overrides::default()).map_err(|e| wrap(e.message))?;
        Ok(ps)
    }

    /// Parse and check a sweep file (not its points).
    pub fn load(path: &Path, reg: &Registry) -> Result<Sweep, String> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{file}: cannot read the sweep: {e}"))?;
        let dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "sweep".into());
        Sweep::from_str(&text, &file, &dir, &stem, reg)
    }

    /// Parse and check sweep text. `dir` resolves `base:`; `stem` is the default name.
    pub fn from_str(
        text: &str,
        file: &str,
        dir: &Path,
        stem: &str,
        reg: &Registry,
    ) -> Result<Sweep, String> {
        let raw: RawSweep = serde_yaml::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            };
            match e.location() {
                Some(l) => format!("{file}:{}:{}: {msg}", l.line(), l.column()),
                None => format!("{file}: {msg}"),
            }
        })?;
        let a = |p: &[&str], m: String| at(file, text, p, m);

        // The base scenario.
        let (base_text, base_dir, base_loaded) = match (&raw.base, &raw.scenario) {
            (Some(_), Some(_)) => {
                return Err(a(
                    &["scenario"],
                    "give either 'base' (a scenario file) or 'scenario' (an embedded scenario), not both".into(),
                ))
            }
            (None, None) => {
                return Err(a(
                    &[],
                    "missing the scenario: give 'base: file.yaml' or 'scenario: {...}'".into(),
                ))
            }
            (Some(b), None) => {
                let p = dir.join(b);
                let l = Loaded::from_file(&p).map_err(|e| e.to_string())?;
                (l.text.clone(), l.base_dir.clone(), l)
            }
            (None, Some(s)) => {
                let t = serde_yaml::to_string(s).map_err(|e| a(&["scenario"], e.to_string()))?;
                let l = Loaded::from_str(&t, &format!("{file}: scenario"), dir)
                    .map_err(|e| a(&["scenario"], format!("scenario: {}", e.message)))?;
                (t, dir.to_path_buf(), l)
            }
        };
        let base_platform =
            Platform::build(&base_loaded, reg, &Overrides::default()).map_err(|e| {
                if raw.base.is_some() {
                    e.to_string()
                } else {
                    a(&["scenario"], format!("scenario: {}", e.message))
                }
            })?;
        let component_names: Vec<String> = base_platform.components.keys().cloned().collect();
        drop(base_platform);
        let mut base: Y = serde_yaml::from_str(&base_text).map_err(|e| e.to_string())?;
        if base.is_null() {
            base = Y::Mapping(Default::default());
        }
        if let Y::Mapping(m) = &mut base {
            m.shift_remove("trace");
        }
        if let Some(mc) = raw.run.max_cycles {
            if mc == 0 {
                return Err(a(
                    &["run", "max_cycles"],
                    "run.max_cycles: expected at least 1".into(),
                ));
            }
            set_path(&mut base, &["run", "max_cycles"], &Y::Number(mc.into()), "")
                .map_err(|e| a(&["run"], e))?;
        }

        // Fields.
        let check_field = |base: &Y, section: &[&str], f: &str| -> Result<(), String> {
            let mut loc: Vec<&str> = section.to_vec();
            loc.push(f);
            let name = format!("{}.{f}", section.join("."));
            let segs: Vec<&str> = f.split('.').collect();
            if segs.iter().any(|s| s.is_empty()) {
                return Err(a(&loc, format!("{name}: empty segment in the path '{f}'")));
            }
            if segs[0] == "trace" {
                return Err(a(
                    &loc,
                    format!("{name}: sweeps do not write traces; 'trace' cannot be swept"),
                ));
            }
            if !SCENARIO_KEYS.contains(&segs[0]) {
                return Err(a(
                    &loc,
                    format!(
                        "{name}: unknown scenario field '{}', expected one of: {}",
                        segs[0],
                        SCENARIO_KEYS.join(", ")
                    ),
                ));
            }
            if segs[0] == "platform" {
                let Some(k) = segs.get(1) else {
                    return Err(a(&loc, format!("{name}: name a field of 'platform'")));
                };
                let blocks: Vec<&str> = CLUSTER_BLOCKS
                    .iter()
                    .filter(|(_, kind)| reg.get(kind).is_some())
                    .map(|(n, _)| *n)
                    .collect();
                if !PLATFORM_KEYS.contains(k) && !blocks.contains(k) {
                    return Err(a(
                        &loc,
                        format!(
                            "{name}: unknown platform field '{k}', expected one of: {}, {}",
                            PLATFORM_KEYS.join(", "),
                            blocks.join(", ")
                        ),
                    ));
                }
            }
            // The path must apply to the base scenario (names and indices exist).
            let mut probe = base.clone();
            set_path(&mut probe, &segs, &Y::Null, "")
                .map_err(|e| a(&loc, format!("{name}: {e}")))?;
            Ok(())
        };
        for (f, v) in &raw.set {
            check_field(&base, &["set"], f)?;
            let segs: Vec<&str> = f.split('.').collect();
            set_path(&mut base, &segs, v, "")
                .map_err(|e| a(&["set", f], format!("set.{f}: {e}")))?;
        }
        let mut grid = Vec::new();
        let mut compound = Vec::new();
        for (f, vals) in &raw.grid {
            if vals.is_empty() {
                return Err(a(
                    &["grid", f],
                    format!("grid.{f}: expected at least one value"),
                ));
            }
            let first = f.split('.').next().unwrap_or("");
            let is_compound = !SCENARIO_KEYS.contains(&first)
                && first != "trace"
                && vals.iter().all(|v| v.is_mapping());
            if is_compound {
                for v in vals {
                    let Y::Mapping(m) = v else { continue };
                    for (k, _) in m {
                        let Some(k) = k.as_str() else {
                            return Err(a(
                                &["grid", f],
                                format!("grid.{f}: expected field paths as keys"),
                            ));
                        };
                        if k != "label" {
                            check_field(&base, &["grid", f.as_str()], k)?;
                        }
                    }
                }
            } else {
                check_field(&base, &["grid"], f)?;
            }
            grid.push((f.clone(), vals.clone()));
            compound.push(is_compound);
        }
        let mut sample_fields = Vec::new();
        let mut samples = Vec::new();
        if let Some(s) = &raw.samples {
            if s.count == 0 {
                return Err(a(
                    &["samples", "count"],
                    "samples.count: expected at least 1".into(),
                ));
            }
            if s.fields.is_empty() {
                return Err(a(
                    &["samples", "fields"],
                    "samples.fields: expected at least one field".into(),
                ));
            }
            enum Spec {
                Int(i64, i64),
                Float(f64, f64),
                Choice(Vec<Y>),
            }
            let mut specs = Vec::new();
            for (f, spec) in &s.fields {
                let loc = ["samples", "fields", f.as_str()];
                check_field(&base, &["samples", "fields"], f)?;
                if raw.grid.contains_key(f) {
                    return Err(a(&loc, format!("samples.fields.{f}: also a grid axis")));
                }
                let bad = || {
                    a(
                        &loc,
                        format!("samples.fields.{f}: expected {{min, max}} (numbers, min <= max) or a non-empty list of choices"),
                    )
                };
                let sp = match spec {
                    Y::Sequence(c) if !c.is_empty() => Spec::Choice(c.clone()),
                    Y::Mapping(m) if m.len() == 2 => {
                        let (Some(lo), Some(hi)) = (m.get("min"), m.get("max")) else {
                            return Err(bad());
                        };
                        match (lo.as_i64(), hi.as_i64(), lo.as_f64(), hi.as_f64()) {
                            (Some(l), Some(h), _, _) if l <= h => Spec::Int(l, h),
                            (_, _, Some(l), Some(h))
                                if l <= h && l.is_finite() && h.is_finite() =>
                            {
                                Spec::Float(l, h)
                            }
                            _ => return Err(bad()),
                        }
                    }
                    _ => return Err(bad()),
                };
                sample_fields.push(f.clone());
                specs.push(sp);
            }
            let seed = s.seed.unwrap_or(1);
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            for _ in 0..s.count {
                let mut vals = Vec::new();
                for sp in &specs {
                    let x = rng.next_u64();
                    vals.push(match sp {
                        Spec::Int(l, h) => {
                            let span = (*h as i128 - *l as i128 + 1) as u128;
                            let off = ((x as u128 * span) >> 64) as i128;
                            Y::Number(((*l as i128 + off) as i64).into())
                        }
                        Spec::Float(l, h) => {
                            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                            Y::Number((l + (h - l) * u).into())
                        }
                        Spec::Choice(c) => {
                            c[((x as u128 * c.len() as u128) >> 64) as usize].clone()
                        }
                    });
                }
                samples.push(vals);
            }
        }
        let repeats = raw.repeats.unwrap_or(1);
        if repeats == 0 {
            return Err(a(&["repeats"], "repeats: expected at least 1".into()));
        }

        // Metrics.
        let metrics = if raw.metrics.is_empty() {
            vec!["cycles".to_string()]
        } else {
            raw.metrics.clone()
        };
        for (i, m) in metrics.iter().enumerate() {
            let segs: Vec<&str> = m.split('.').collect();
            let loc = ["metrics"];
            if metrics[..i].contains(m) {
                return Err(a(&loc, format!("metrics[{i}]: '{m}' is listed twice")));
            }
            if segs[0] == "derived" {
                if !DERIVED.iter().any(|(d, _)| d == m) {
                    let known: Vec<&str> = DERIVED.iter().map(|d| d.0).collect();
                    return Err(a(
                        &loc,
                        format!(
                            "metrics[{i}]: unknown derived metric '{m}', expected one of: {}",
                            known.join(", ")
                        ),
                    ));
                }
                continue;
            }
            if segs.iter().any(|s| s.is_empty()) || !STATS_KEYS.contains(&segs[0]) {
                return Err(a(
                    &loc,
                    format!(
                        "metrics[{i}]: '{m}' is not a path into the stats document (it starts with one of: {}, or derived.*)",
                        STATS_KEYS.join(", ")
                    ),
                ));
            }
            if segs[0] == "components" {
                match segs.get(1) {
                    Some(c) if component_names.iter().any(|n| n == c) => {}
                    _ => {
                        return Err(a(
                            &loc,
                            format!(
                            "metrics[{i}]: '{m}' does not name a component of the scenario ({})",
                            component_names.join(", ")
                        ),
                        ))
                    }
                }
            }
        }

        // Plot.
        let fields: Vec<String> = grid
            .iter()
            .map(|(k, _)| k.clone())
            .chain(sample_fields.iter().cloned())
            .collect();
        let (plot_x, plot_series) = match &raw.plot {
            None => match fields.first() {
                None => (None, vec![]),
                Some(x) => (Some(x.clone()), fields[1..].to_vec()),
            },
            Some(p) => {
                let x = match &p.x {
                    Some(x) => x.clone(),
                    None => fields.first().cloned().ok_or_else(|| {
                        a(
                            &["plot"],
                            "plot: there is no swept field to plot against".into(),
                        )
                    })?,
                };
                if !fields.contains(&x) {
                    return Err(a(
                        &["plot", "x"],
                        format!("plot.x: '{x}' is not a swept field ({})", fields.join(", ")),
                    ));
                }
                let series: Vec<String> = match &p.series {
                    None => fields.iter().filter(|f| **f != x).cloned().collect(),
                    Some(Y::String(s)) => vec![s.clone()],
                    Some(Y::Sequence(v)) => {
                        let mut out = Vec::new();
                        for s in v {
                            out.push(s.as_str().map(str::to_string).ok_or_else(|| {
                                a(
                                    &["plot", "series"],
                                    "plot.series: expected field paths".into(),
                                )
                            })?);
                        }
                        out
                    }
                    Some(_) => {
                        return Err(a(
                            &["plot", "series"],
                            "plot.series: expected a field path or a list of them".into(),
                        ))
                    }
                };
                for s in &series {
                    if !fields.contains(s) || *s == x {
                        return Err(a(
                            &["plot", "series"],
                            format!(
                                "plot.series: '{s}' is not a swept field other than plot.x ({})",
                                fields.join(", ")
                            ),
                        ));
                    }
                }
                (Some(x), series)
            }
        };

        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        fnv(&mut h, text.as_bytes());
        fnv(&mut h, &[0]);
        fnv(&mut h, base_text.as_bytes());
        let name = raw.name.clone().unwrap_or_else(|| stem.to_string());
        if name.is_empty() || name.contains(['/', '\\']) {
            return Err(a(
                &["name"],
                format!("name: expected a non-empty name without slashes, got '{name}'"),
            ));
        }
        Ok(Sweep {
            name,
            description: raw.description.clone(),
            file: file.to_string(),
            text: text.to_string(),
            base,
            base_dir,
            grid,
            compound,
            sample_fields,
            samples,
            repeats,
            metrics,
            plot_x,
            plot_series,
            fingerprint: format!("{h:016x}"),
        })
    }
}

/// `file:line:column: message`, located at `path` in `text` (best effort).
fn at(file: &str, text: &str, path: &[&str], msg: impl std::fmt::Display) -> String {
    if path.is_empty() {
        return format!("{file}: {msg}");
    }
    match locate(text, path) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}: {msg}"),
        (Some(l), None) => format!("{file}:{l}: {msg}"),
        _ => format!("{file}: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_and_paths() {
        assert!(glob("core*", "core3"));
        assert!(glob("*", ""));
        assert!(!glob("core*", "driver"));
        assert!(glob("a*b*c", "axxbyyc"));
        let mut y: Y = serde_yaml::from_str(
            "components:\n  - name: a\n    params: {x: 1}\n  - name: b\n    params: {jobs: [{op: gemm}]}\n",
        )
        .unwrap();
        let v = Y::Number(5.into());
        assert_eq!(
            set_path(&mut y, &["components", "*", "params", "x"], &v, ""),
            Ok(2)
        );
        assert_eq!(
            set_path(
                &mut y,
                &["components", "b", "params", "jobs", "0", "op"],
                &v,
                ""
            ),
            Ok(1)
        );
        assert!(set_path(&mut y, &["components", "c", "params"], &v, "")
            .unwrap_err()
            .contains("no entry"));
        assert!(
            set_path(&mut y, &["components", "b", "params", "jobs", "3"], &v, "")
                .unwrap_err()
                .contains("out of range")
        );
        assert_eq!(
            set_path(&mut y, &["platform", "interconnect", "max_stall"], &v, ""),
            Ok(1)
        );
        assert_eq!(y["platform"]["interconnect"]["max_stall"], v);
    }

    #[test]
    fn repeat_seeds_differ() {
        assert_eq!(repeat_seed(7, 0), 7);
        assert_ne!(repeat_seed(7, 1), repeat_seed(7, 2));
        assert!(repeat_seed(7, 1) < 1 << 53);
    }
}
