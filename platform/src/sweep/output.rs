//! Result files: `results.jsonl` (the canonical rows), `results.csv` (derived from them),
//! `sweep.json` (what merge needs) and the plots.
//!
//! Every file is produced from the JSON lines' text, parsed back, so that a run and a
//! merge of shards give the same bytes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::def::Sweep;

/// What a folder of results describes; everything `merge` needs to rewrite the files.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub fingerprint: String,
    pub fields: Vec<String>,
    pub metrics: Vec<String>,
    pub repeats: u32,
    pub points: usize,
    pub plot_x: Option<String>,
    pub plot_series: Vec<String>,
    /// (index, count) of a shard.
    pub shard: Option<(usize, usize)>,
    pub interrupted: bool,
}

impl Manifest {
    pub fn of(s: &Sweep, shard: Option<(usize, usize)>) -> Manifest {
        Manifest {
            name: s.name.clone(),
            description: s.description.clone(),
            fingerprint: s.fingerprint.clone(),
            fields: s.fields(),
            metrics: s.metrics.clone(),
            repeats: s.repeats,
            points: s.len(),
            plot_x: s.plot_x.clone(),
            plot_series: s.plot_series.clone(),
            shard,
            interrupted: false,
        }
    }

    /// Indices this manifest's folder should hold.
    pub fn expected(&self) -> usize {
        match self.shard {
            None => self.points,
            Some((i, n)) => (0..self.points).filter(|p| p % n == i).count(),
        }
    }

    fn to_json(&self, rows: &[(usize, Value)]) -> Value {
        let mut counts = Map::new();
        for st in ["ok", "fault", "limit", "error"] {
            let n = rows.iter().filter(|(_, r)| r["status"] == st).count();
            counts.insert(st.into(), json!(n));
        }
        json!({
            "name": self.name,
            "description": self.description,
            "fingerprint": self.fingerprint,
            "fields": self.fields,
            "metrics": self.metrics,
            "repeats": self.repeats,
            "points": self.points,
            "plot": {"x": self.plot_x, "series": self.plot_series},
            "shard": self.shard.map(|(i, n)| json!({"index": i, "count": n})),
            "rows": rows.len(),
            "complete": rows.len() == self.expected() && !self.interrupted,
            "status": counts,
        })
    }

    fn from_json(v: &Value) -> Option<Manifest> {
        let strs = |v: &Value| -> Option<Vec<String>> {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        Some(Manifest {
            name: v["name"].as_str()?.to_string(),
            description: v["description"].as_str()?.to_string(),
            fingerprint: v["fingerprint"].as_str()?.to_string(),
            fields: strs(&v["fields"])?,
            metrics: strs(&v["metrics"])?,
            repeats: v["repeats"].as_u64()? as u32,
            points: v["points"].as_u64()? as usize,
            plot_x: v["plot"]["x"].as_str().map(str::to_string),
            plot_series: strs(&v["plot"]["series"])?,
            shard: match &v["shard"] {
                Value::Null => None,
                s => Some((s["index"].as_u64()? as usize, s["count"].as_u64()? as usize)),
            },
            interrupted: false,
        })
    }
}

/// One CSV cell.
fn cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv_header(m: &Manifest) -> String {
    let mut cols: Vec<String> = vec!["index".into()];
    cols.extend(m.fields.iter().cloned());
    cols.extend(["seed".into(), "repeat".into()]);
    cols.extend(m.metrics.iter().cloned());
    cols.extend(["status".into(), "error".into()]);
    cols.iter()
        .map(|c| cell(&Value::String(c.clone())))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn csv_row(m: &Manifest, r: &Value) -> String {
    let mut cells = vec![cell(&r["index"])];
    for f in &m.fields {
        cells.push(cell(&r["params"][f]));
    }
    cells.push(cell(&r["seed"]));
    cells.push(cell(&r["repeat"]));
    for k in &m.metrics {
        cells.push(cell(&r["metrics"][k]));
    }
    cells.push(cell(&r["status"]));
    cells.push(cell(&r["error"]));
    cells.join(",")
}

/// Write every file of a result folder from its rows (sorted by index here).
pub fn write_all(dir: &Path, m: &Manifest, rows: &mut [(usize, Value)]) -> Result<(), String> {
    rows.sort_by_key(|(i, _)| *i);
    let e = |p: &str, err: std::io::Error| format!("{}: {err}", dir.join(p).display());
    let mut jsonl = String::new();
    let mut csv = csv_header(m) + "\n";
    for (_, r) in rows.iter() {
        jsonl.push_str(&serde_json::to_string(r).unwrap_or_default());
        jsonl.push('\n');
        csv.push_str(&csv_row(m, r));
        csv.push('\n');
    }
    std::fs::write(dir.join("results.jsonl"), jsonl).map_err(|x| e("results.jsonl", x))?;
    std::fs::write(dir.join("results.csv"), csv).map_err(|x| e("results.csv", x))?;
    let man = serde_json::to_string_pretty(&m.to_json(rows)).unwrap_or_default() + "\n";
    std::fs::write(dir.join("sweep.json"), man).map_err(|x| e("sweep.json", x))?;
    // Plots: old ones first go, so the folder holds exactly this sweep's.
    if let Ok(rd) = std::fs::read_dir(dir) {
        for ent in rd.flatten() {
            let n = ent.file_name().to_string_lossy().to_string();
            if n.starts_with("plot-") && n.ends_with(".svg") {
                let _ = std::fs::remove_file(ent.path());
            }
        }
    }
    for (name, svg) in super::plot::plots(m, rows) {
        std::fs::write(dir.join(&name), svg).map_err(|x| e(&name, x))?;
    }
    Ok(())
}

/// Streaming writer used during a run: rows are appended in index order as soon as every
/// earlier row of the run is in; `write_all` rewrites the folder at the end.
pub struct Stream {
    csv: std::io::BufWriter<std::fs::File>,
    jsonl: std::io::BufWriter<std::fs::File>,
    manifest: Manifest,
    order: Vec<usize>,
    next: usize,
    pending: BTreeMap<usize, Value>,
    pub rows: Vec<(usize, Value)>,
}

impl Stream {
    /// `order`: the indices of the run, ascending.
    pub fn create(dir: &Path, m: &Manifest, order: Vec<usize>) -> Result<Stream, String> {
        let open = |n: &str| {
            std::fs::File::create(dir.join(n))
                .map(std::io::BufWriter::new)
                .map_err(|e| format!("{}: {e}", dir.join(n).display()))
        };
        let mut csv = open("results.csv")?;
        let jsonl = open("results.jsonl")?;
        let _ = writeln!(csv, "{}", csv_header(m));
        let _ = csv.flush();
        Ok(Stream {
            csv,
            jsonl,
            manifest: m.clone(),
            order,
            next: 0,
            pending: BTreeMap::new(),
            rows: Vec::new(),
        })
    }

    /// Add a row (its JSON line, re-parsed so that every file derives from the same text).
    pub fn push(&mut self, index: usize, row: &Value) {
        let line = serde_json::to_string(row).unwrap_or_default();
        let parsed: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        self.pending.insert(index, parsed);
        while self.next < self.order.len() {
            let Some(r) = self.pending.remove(&self.order[self.next]) else {
                break;
            };
            let _ = writeln!(
                self.jsonl,
                "{}",
                serde_json::to_string(&r).unwrap_or_default()
            );
            let _ = writeln!(self.csv, "{}", csv_row(&self.manifest, &r));
            let _ = self.jsonl.flush();
            let _ = self.csv.flush();
            self.rows.push((self.order[self.next], r));
            self.next += 1;
        }
    }

    /// Every row received, in index order (rows after a gap included).
    pub fn finish(mut self) -> Vec<(usize, Value)> {
        let mut rows = std::mem::take(&mut self.rows);
        rows.extend(std::mem::take(&mut self.pending));
        rows
    }
}

/// Read a result folder: its manifest and rows.
pub fn read_dir(dir: &Path) -> Result<(Manifest, Vec<(usize, Value)>), String> {
    let mp = dir.join("sweep.json");
    let text = std::fs::read_to_string(&mp).map_err(|e| format!("{}: {e}", mp.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", mp.display()))?;
    let m =
        Manifest::from_json(&v).ok_or_else(|| format!("{}: not a sweep manifest", mp.display()))?;
    let rp = dir.join("results.jsonl");
    let text = std::fs::read_to_string(&rp).map_err(|e| format!("{}: {e}", rp.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", rp.display(), n + 1))?;
        let i = r["index"]
            .as_u64()
            .ok_or_else(|| format!("{}:{}: a row without an index", rp.display(), n + 1))?;
        rows.push((i as usize, r));
    }
    Ok((m, rows))
}

/// Rows by point index.
pub type Rows = Vec<(usize, Value)>;

/// Combine shard folders into the manifest and rows one run would give, and how many
/// points are missing.
pub fn merge(dirs: &[&Path]) -> Result<(Manifest, Rows, usize), String> {
    let mut first: Option<(Manifest, String)> = None;
    let mut all: BTreeMap<usize, (Value, String)> = BTreeMap::new();
    for d in dirs {
        let (mut m, rows) = read_dir(d)?;
        m.shard = None;
        let here = d.display().to_string();
        match &first {
            None => first = Some((m.clone(), here.clone())),
            Some((f, fd)) => {
                if *f != m {
                    return Err(format!(
                        "{here}: not a shard of the same sweep as {fd} (name, definition or scenario differ)"
                    ));
                }
            }
        }
        for (i, r) in rows {
            if let Some((prev, pd)) = all.get(&i) {
                if *prev != r {
                    return Err(format!(
                        "point {i} is in both {pd} and {here} with different results"
                    ));
                }
                continue;
            }
            all.insert(i, (r, here.clone()));
        }
    }
    let (m, _) = first.ok_or("merge: no folders given")?;
    if let Some(i) = all.keys().find(|i| **i >= m.points) {
        return Err(format!(
            "point {i} is out of range (the sweep has {} points)",
            m.points
        ));
    }
    let missing = m.points - all.len();
    Ok((
        m,
        all.into_iter().map(|(i, (r, _))| (i, r)).collect(),
        missing,
    ))
}
