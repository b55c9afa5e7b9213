//! SVG line charts: one per metric against the plot's x field, one series per value of the
//! series fields. Rows that are not `ok` are left out; rows with the same x and series
//! (repeats, or fields that are neither x nor series) are averaged. Deterministic bytes:
//! plotters' SVG backend with its built-in text estimate (no system fonts).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use serde_json::Value;

use super::output::Manifest;

const W: u32 = 880;
const H: u32 = 540;

const COLORS: &[RGBColor] = &[
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// An x axis with given tick positions (the swept values, or category indices).
struct TickAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        (limit.0 as f64 + t * (limit.1 - limit.0) as f64).round() as i32
    }
    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }
    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Round ticks over [lo, hi], about `n` of them.
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let raw = (hi - lo) / n.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return vec![lo];
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

fn fmt_num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// A file-name-safe version of a metric path.
pub fn file_name(metric: &str) -> String {
    let s: String = metric
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("plot-{s}.svg")
}

/// (file name, SVG text) of every plot.
pub fn plots(m: &Manifest, rows: &[(usize, Value)]) -> Vec<(String, String)> {
    let Some(x) = &m.plot_x else {
        return vec![];
    };
    let ok: Vec<&Value> = rows
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["status"] == "ok")
        .collect();
    // X positions: numeric when every value is a number, else categories in point order.
    let xs: Vec<&Value> = ok.iter().map(|r| &r["params"][x]).collect();
    let numeric = xs.iter().all(|v| v.is_number());
    let mut cats: Vec<String> = Vec::new();
    for v in &xs {
        let l = label(v);
        if !cats.contains(&l) {
            cats.push(l);
        }
    }
    let xpos = |v: &Value| -> f64 {
        if numeric {
            v.as_f64().unwrap_or(0.0)
        } else {
            let l = label(v);
            cats.iter().position(|c| *c == l).unwrap_or(0) as f64
        }
    };
    let series_key = |r: &Value| -> String {
        m.plot_series
            .iter()
            .map(|s| format!("{}={}", short(s), label(&r["params"][s])))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut series_names: Vec<String> = Vec::new();
    for r in &ok {
        let k = series_key(r);
        if !series_names.contains(&k) {
            series_names.push(k);
        }
    }
    let mut out = Vec::new();
    for metric in &m.metrics {
        // series -> sorted (x, sum, n)
        let mut data: Vec<Vec<(f64, f64, u32)>> = vec![Vec::new(); series_names.len()];
        for r in &ok {
            let Some(y) = r["metrics"][metric].as_f64() else {
                continue;
            };
            let si = series_names
                .iter()
                .position(|s| *s == series_key(r))
                .unwrap_or(0);
            let xv = xpos(&r["params"][x]);
            match data[si].iter_mut().find(|(px, _, _)| *px == xv) {
                Some(e) => {
                    e.1 += y;
                    e.2 += 1;
                }
                None => data[si].push((xv, y, 1)),
            }
        }
        let pts: Vec<Vec<(f64, f64)>> = data
            .into_iter()
            .map(|mut d| {
                d.sort_by(|a, b| a.0.total_cmp(&b.0));
                d.into_iter().map(|(x, s, n)| (x, s / n as f64)).collect()
            })
            .collect();
        if pts.iter().all(|p| p.is_empty()) {
            continue;
        }
        let svg = chart(m, x, metric, numeric, &cats, &series_names, &pts);
        out.push((file_name(metric), svg));
    }
    out
}

/// The last two segments of a path, enough for a legend.
fn short(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    if segs.len() <= 2 {
        path.to_string()
    } else {
        segs[segs.len() - 2..].join(".")
    }
}

fn chart(
    m: &Manifest,
    x: &str,
    metric: &str,
    numeric: bool,
    cats: &[String],
    series: &[String],
    pts: &[Vec<(f64, f64)>],
) -> String {
    let all = pts.iter().flatten();
    let (mut xlo, mut xhi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut ylo, mut yhi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (px, py) in all {
        xlo = xlo.min(*px);
        xhi = xhi.max(*px);
        ylo = ylo.min(*py);
        yhi = yhi.max(*py);
    }
    let axis = if numeric {
        let mut distinct: Vec<f64> = pts.iter().flatten().map(|p| p.0).collect();
        distinct.sort_by(|a, b| a.total_cmp(b));
        distinct.dedup();
        let pad = if xhi > xlo { (xhi - xlo) * 0.04 } else { 1.0 };
        let ticks = if distinct.len() <= 10 {
            distinct
        } else {
            nice_ticks(xlo, xhi, 8)
        };
        TickAxis {
            lo: xlo - pad,
            hi: xhi + pad,
            ticks,
        }
    } else {
        TickAxis {
            lo: -0.5,
            hi: cats.len() as f64 - 0.5,
            ticks: (0..cats.len()).map(|i| i as f64).collect(),
        }
    };
    let span = yhi - ylo;
    let (ylo, yhi) = if span > 0.0 {
        (ylo - span * 0.08, yhi + span * 0.08)
    } else {
        let d = if ylo.abs() > 0.0 {
            ylo.abs() * 0.1
        } else {
            1.0
        };
        (ylo - d, yhi + d)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let title = format!("{}: {metric}", m.name);
        let built = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(axis, ylo..yhi);
        let Ok(mut ch) = built else {
            return svg_fallback(metric);
        };
        let ch_ranges = (ch.x_range(), ylo..yhi);
        let cat_fmt = |v: &f64| -> String {
            if numeric {
                fmt_num(*v)
            } else {
                cats.get(v.round().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default()
            }
        };
        let _ = ch
            .configure_mesh()
            .x_desc(x)
            .y_desc(metric)
            .x_label_formatter(&cat_fmt)
            .y_label_formatter(&|v| fmt_num(*v))
            .max_light_lines(0)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw();
        for (i, (name, p)) in series.iter().zip(pts).enumerate() {
            if p.is_empty() {
                continue;
            }
            let color = COLORS[i % COLORS.len()];
            let style = ShapeStyle::from(&color).stroke_width(2);
            let label = if name.is_empty() {
                metric.to_string()
            } else {
                name.clone()
            };
            if let Ok(a) = ch.draw_series(LineSeries::new(p.iter().copied(), style)) {
                a.label(label).legend(move |(lx, ly)| {
                    PathElement::new(vec![(lx, ly), (lx + 18, ly)], color.stroke_width(2))
                });
            }
            let _ = ch.draw_series(
                p.iter()
                    .map(move |(px, py)| Circle::new((*px, *py), 3, color.filled())),
            );
        }
        let _ = ch
            .configure_series_labels()
            .position(legend_corner(pts, &ch_ranges))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

/// The corner of the plot with the fewest data points, for the legend.
fn legend_corner(pts: &[Vec<(f64, f64)>], r: &(Range<f64>, Range<f64>)) -> SeriesLabelPosition {
    let (xr, yr) = r;
    let fx = |x: f64| (x - xr.start) / (xr.end - xr.start);
    let fy = |y: f64| (y - yr.start) / (yr.end - yr.start);
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let mut best = 0;
    let mut best_n = usize::MAX;
    for (i, (_, right, upper)) in corners.iter().enumerate() {
        let n = pts
            .iter()
            .flatten()
            .filter(|(x, y)| {
                let (a, b) = (fx(*x), fy(*y));
                (if *right { a > 0.45 } else { a < 0.55 })
                    && (if *upper { b > 0.55 } else { b < 0.45 })
            })
            .count();
        if n < best_n {
            best_n = n;
            best = i;
        }
    }
    corners
        .into_iter()
        .nth(best)
        .map(|c| c.0)
        .unwrap_or(SeriesLabelPosition::UpperRight)
}

fn svg_fallback(metric: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\"><text x=\"10\" y=\"20\">{metric}: no plot</text></svg>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let t: Vec<String> = nice_ticks(0.0, 1.0, 5)
            .iter()
            .map(|v| fmt_num(*v))
            .collect();
        assert_eq!(t, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(fmt_num(16.0), "16");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(
            file_name("components.redmule.jobs.0.utilization"),
            "plot-components.redmule.jobs.0.utilization.svg"
        );
    }
}
