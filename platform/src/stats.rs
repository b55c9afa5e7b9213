//! The human-readable run summary (`--stats table`). The JSON document (`--stats json`) is
//! built in [`crate::assembly`]; its schema is documented in the README:
//! `{scenario, seed, end: {kind, ...}, cycles, time_ps, clock_mhz, components: {name: {...}},
//! warnings, errors, first_error}`.

use std::fmt::Write;

use serde_json::Value;

use crate::assembly::{describe_end, Outcome};

/// Render the summary table.
pub fn table(name: &str, out: &Outcome) -> String {
    let mut s = String::new();
    let st = &out.stats;
    let _ = writeln!(s, "scenario   {name} (seed {})", st["seed"]);
    let _ = writeln!(
        s,
        "end        {}",
        describe_end(&out.report.end, out.cycles)
    );
    let ps = out.report.time.ps();
    let _ = writeln!(
        s,
        "simulated  {} cycles, {}.{:03} us at {:.1} MHz",
        out.cycles,
        ps / 1_000_000,
        (ps / 1000) % 1000,
        st["clock_mhz"].as_f64().unwrap_or(0.0)
    );
    // Headlines: every component's `summary` lines first.
    if let Some(Value::Object(comps)) = st.get("components") {
        for (cname, v) in comps {
            if let Some(Value::Array(lines)) = v.get("summary") {
                for l in lines.iter().filter_map(|l| l.as_str()) {
                    let _ = writeln!(s, "{cname:<10} {l}");
                }
            }
        }
    }
    if let Some(Value::Object(comps)) = st.get("components") {
        for (cname, v) in comps {
            let mut lines = Vec::new();
            flatten("", v, &mut lines);
            if lines.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{cname}");
            for (k, v) in lines {
                let _ = writeln!(s, "  {k:<34} {v}");
            }
        }
    }
    if st["warnings"].as_u64().unwrap_or(0) > 0 {
        let _ = writeln!(s, "warnings   {}", st["warnings"]);
    }
    s
}

/// Flatten nested objects into dotted keys; arrays and scalars are printed inline (long
/// arrays are summarised).
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if prefix.is_empty() && k == "summary" {
                    continue;
                }
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(a) if a.len() > 16 => {
            out.push((prefix.to_string(), format!("[{} values]", a.len())))
        }
        Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        Value::Null => {}
        Value::Number(n) => {
            let t = match n.as_f64() {
                Some(f) if n.is_f64() => format!("{f:.4}"),
                _ => n.to_string(),
            };
            out.push((prefix.to_string(), t));
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
