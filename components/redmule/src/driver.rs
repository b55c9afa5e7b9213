//! `redmule_driver`: a firmware-free workload for RedMulE. It places matrices in the TCDM
//! (seeded random, constant, zeros or a `.npy` file), programs jobs through RedMulE's real
//! registers the way the calibration runs did (one register write per cycle: X, W, Z,
//! MCFG0, MCFG1, ARITH, then TRIGGER in the next cycle), waits for completion, and can
//! check each result against the slow exact oracle (`redmule_numerics::reference`) and
//! write it to `.npy`.
//!
//! ```yaml
//! - name: driver
//!   kind: redmule_driver
//!   params:
//!     matrices:
//!       X: { rows: 96, cols: 96, addr: 0x10000000, init: random }
//!       W: { rows: 96, cols: 96, addr: 0x10004800, init: random }
//!       Z: { rows: 96, cols: 96, addr: 0x10009000, init: random }   # Y, overwritten by Z
//!     jobs:
//!       - { x: X, w: W, z: Z, op: gemm, fmt: fp16, check: true, out: z.npy }
//!   bind: { regs: redmule.regs, done: redmule.done, tcdm: interconnect.tcdm }
//! ```

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use indexmap::IndexMap;
use rand_core::Rng;
use rand_pcg::Pcg64Mcg;
use redmule_numerics::{reference, Dims, Format, Op};
use serde::Deserialize;
use serde_json::{json, Value};
use vp_kernel::component::{parse_params, ElabCtx, PortInfo};
use vp_kernel::tlm::{Payload, TargetRef};
use vp_kernel::{BuildCtx, Component, ComponentKind, Event, PortRef, SimTime};

use crate::npy::Npy;
use crate::regs;
use crate::schedule::Geometry;

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct MatrixSpec {
    rows: usize,
    cols: usize,
    addr: u32,
    #[serde(default = "d_dtype")]
    dtype: String,
    #[serde(default)]
    init: Option<serde_yaml::Value>,
}
fn d_dtype() -> String {
    "fp16".into()
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct JobSpec {
    x: String,
    w: String,
    z: String,
    #[serde(default = "d_op")]
    op: String,
    #[serde(default = "d_dtype")]
    fmt: String,
    /// Compare Z with the oracle after the job.
    #[serde(default)]
    check: bool,
    /// Write Z to this `.npy` file after the job.
    #[serde(default)]
    out: Option<PathBuf>,
    /// Wait for this job to finish before programming the next one (false: queue it).
    #[serde(default = "d_true")]
    wait: bool,
}
fn d_op() -> String {
    "gemm".into()
}
fn d_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    matrices: IndexMap<String, MatrixSpec>,
    jobs: Vec<JobSpec>,
    /// Cycle of the first register access (the calibration runs: SOFT_CLEAR at 20, ACQUIRE
    /// at 29, the job registers at 30..35, TRIGGER at 36).
    #[serde(default = "d_start")]
    start_cycle: u64,
    /// The core the driver stands for (the completion event goes to it).
    #[serde(default)]
    core: u32,
    /// Register base of RedMulE on the bus (used when `regs` is not bound).
    #[serde(default = "d_regs")]
    regs_base: u32,
}
fn d_start() -> u64 {
    20
}
fn d_regs() -> u32 {
    0x1020_1000
}

/// Parse a format name as the command line and scenarios write it.
pub fn parse_fmt(s: &str) -> Result<Format, String> {
    match s {
        "fp16" => Ok(Format::Fp16),
        "fp8" | "e5m2" => Ok(Format::Fp8E5M2),
        "fp8alt" | "e4m3" => Ok(Format::Fp8E4M3),
        _ => Err(format!(
            "unknown format '{s}', expected fp16, fp8 (E5M2) or fp8alt (E4M3)"
        )),
    }
}

/// Parse an op name.
pub fn parse_op(s: &str) -> Result<Op, String> {
    Ok(match s {
        "matmul" => Op::Matmul,
        "gemm" => Op::Gemm,
        "addmax" => Op::AddMax,
        "addmin" => Op::AddMin,
        "mulmax" => Op::MulMax,
        "mulmin" => Op::MulMin,
        "maxmin" => Op::MaxMin,
        "minmax" => Op::MinMax,
        _ => {
            return Err(format!(
                "unknown op '{s}', expected matmul, gemm, addmax, addmin, mulmax, mulmin, maxmin or minmax"
            ))
        }
    })
}

/// How a matrix is filled.
#[derive(Clone, Debug)]
enum Init {
    Zeros,
    /// Uniform in [min, max), rounded to the format.
    Random {
        min: f64,
        max: f64,
    },
    Const(f64),
    Npy(PathBuf),
}

fn parse_init(v: &Option<serde_yaml::Value>, base: &std::path::Path) -> Result<Init, String> {
    use serde_yaml::Value as Y;
    let Some(v) = v else {
        return Ok(Init::Random { min: 0.0, max: 1.0 });
    };
    match v {
        Y::String(s) if s == "random" => Ok(Init::Random { min: 0.0, max: 1.0 }),
        Y::String(s) if s == "zeros" => Ok(Init::Zeros),
        Y::String(s) if s.ends_with(".npy") => Ok(Init::Npy(base.join(s))),
        Y::Mapping(m) if m.len() == 1 => {
            let (k, val) = m.iter().next().expect("one entry");
            match (k.as_str(), val) {
                (Some("const"), v) => v.as_f64().map(Init::Const).ok_or_else(|| "init.const: expected a number".to_string()),
                (Some("npy"), Y::String(p)) => Ok(Init::Npy(base.join(p))),
                (Some("random"), Y::Mapping(r)) => {
                    let get = |key: &str, d: f64| -> Result<f64, String> {
                        match r.get(key) {
                            None => Ok(d),
                            Some(v) => v.as_f64().ok_or_else(|| format!("init.random.{key}: expected a number")),
                        }
                    };
                    for key in r.keys() {
                        if !matches!(key.as_str(), Some("min" | "max")) {
                            return Err(format!("init.random: unknown key {key:?}, expected min or max"));
                        }
                    }
                    let (min, max) = (get("min", 0.0)?, get("max", 1.0)?);
                    if min.partial_cmp(&max) != Some(std::cmp::Ordering::Less) {
                        return Err(format!("init.random: expected min < max, got {min} and {max}"));
                    }
                    Ok(Init::Random { min, max })
                }
                _ => Err(format!("init: unknown form {k:?}, expected random, zeros, a .npy path, {{const: x}}, {{npy: path}} or {{random: {{min, max}}}}")),
            }
        }
        _ => Err("init: expected random, zeros, a .npy path, {const: x}, {npy: path} or {random: {min, max}}".into()),
    }
}

/// A job with its matrices resolved to addresses and sizes.
#[derive(Clone)]
struct Resolved {
    xa: u32,
    wa: u32,
    za: u32,
    dims: Dims,
    op: Op,
    fmt: Format,
    check: bool,
    out: Option<PathBuf>,
    wait: bool,
}

/// Inputs captured at TRIGGER for the oracle: (job index, X, W, Y bytes).
type Snapshot = (usize, Vec<u8>, Vec<u8>, Vec<u8>);

struct Matrix {
    name: String,
    rows: usize,
    cols: usize,
    addr: u32,
    fmt: Format,
    init: Init,
}

struct JobPlan {
    x: usize,
    w: usize,
    z: usize,
    op: Op,
    fmt: Format,
    check: bool,
    out: Option<PathBuf>,
    wait: bool,
}

#[derive(Default)]
struct Results {
    checked: u64,
    mismatches: u64,
    first_mismatch: Option<String>,
    jobs_done: u64,
    errors: Vec<String>,
}

/// The driver component.
pub struct Driver {
    name: String,
    matrices: Vec<Matrix>,
    jobs: Vec<JobPlan>,
    start: u64,
    core: u32,
    regs_base: u32,
    seed: u64,
    regs: Option<TargetRef>,
    done: Option<Event>,
    tcdm: Option<TargetRef>,
    results: Rc<RefCell<Results>>,
}

fn read_tcdm(t: &TargetRef, addr: u32, len: usize) -> Vec<u8> {
    let mut p = Payload::read(addr as u64, len);
    t.borrow_mut().debug_transport(&mut p);
    p.data
}

fn fill(mx: &Matrix, rng: &mut Pcg64Mcg) -> Result<Vec<u8>, String> {
    let n = mx.rows * mx.cols;
    let eb = mx.fmt.bytes_per_elem();
    let enc = |v: f64| -> u16 { mx.fmt.from_fp16(redmule_numerics::fp16::from_f64(v)) };
    let mut out = Vec::with_capacity(n * eb);
    let mut push = |h: u16| {
        if eb == 2 {
            out.extend_from_slice(&h.to_le_bytes());
        } else {
            out.push(h as u8);
        }
    };
    match &mx.init {
        Init::Zeros => (0..n).for_each(|_| push(0)),
        Init::Const(c) => (0..n).for_each(|_| push(enc(*c))),
        Init::Random { min, max } => {
            for _ in 0..n {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                push(enc(min + (max - min) * u));
            }
        }
        Init::Npy(p) => {
            let a = Npy::read(p)?;
            if a.rows != mx.rows || a.cols != mx.cols || a.elem_bytes() != eb {
                return Err(format!(
                    "{}: shape ({}, {}) of {} does not match matrix {} ({}, {}) of {:?}",
                    p.display(),
                    a.rows,
                    a.cols,
                    a.descr,
                    mx.name,
                    mx.rows,
                    mx.cols,
                    mx.fmt
                ));
            }
            return Ok(a.data);
        }
    }
    Ok(out)
}

impl Component for Driver {
    fn kind(&self) -> &'static str {
        "redmule_driver"
    }
    fn ports(&self) -> Vec<PortInfo> {
        vec![
            PortInfo {
                name: "tcdm",
                kind: "target",
                required: true,
                doc: "TCDM for loading and checking (interconnect.tcdm)",
            },
            PortInfo {
                name: "done",
                kind: "event",
                required: true,
                doc: "RedMulE's completion (redmule.done)",
            },
            PortInfo {
                name: "regs",
                kind: "target",
                required: false,
                doc: "RedMulE's registers (redmule.regs; default: the bus)",
            },
        ]
    }
    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        match port {
            "tcdm" => self.tcdm = Some(peer.get_target()?),
            "regs" => self.regs = Some(peer.get_target()?),
            "done" => self.done = Some((*peer.get::<Event>("event")?).clone()),
            _ => {
                return Err(format!(
                    "redmule_driver has ports tcdm, done and regs, not '{port}'"
                ))
            }
        }
        Ok(())
    }
    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        let tcdm = self.tcdm.clone().ok_or("port 'tcdm' is not bound")?;
        let done = self.done.clone().ok_or("port 'done' is not bound")?;
        // Load the matrices now, at time 0 (zero-time debug writes).
        let mut rng = Pcg64Mcg::new(self.seed as u128 | 1);
        for mx in &self.matrices {
            let data = fill(mx, &mut rng).map_err(|e| format!("matrix {}: {e}", mx.name))?;
            let mut p = Payload::write(mx.addr as u64, &data);
            if tcdm.borrow_mut().debug_transport(&mut p) != data.len() {
                return Err(format!(
                    "matrix {} at {:#010x} does not fit in the TCDM",
                    mx.name, mx.addr
                ));
            }
        }
        let sim = cx.sim.clone();
        let clock = cx.clock;
        let bus = cx.bus.clone();
        let regs = self.regs.clone();
        let (core, start, regs_base) = (self.core, self.start, self.regs_base);
        let plans: Vec<Resolved> = self
            .jobs
            .iter()
            .map(|j| {
                let (x, w, z) = (
                    &self.matrices[j.x],
                    &self.matrices[j.w],
                    &self.matrices[j.z],
                );
                Resolved {
                    xa: x.addr,
                    wa: w.addr,
                    za: z.addr,
                    dims: Dims {
                        m: x.rows,
                        n: x.cols,
                        k: w.cols,
                    },
                    op: j.op,
                    fmt: j.fmt,
                    check: j.check,
                    out: j.out.clone(),
                    wait: j.wait,
                }
            })
            .collect();
        let results = self.results.clone();
        let name = self.name.clone();
        cx.sim.spawn(self.name.clone(), async move {
            // One register access; `off` is relative to RedMulE's base.
            let access = |off: u32, write: Option<u32>| -> Result<u32, String> {
                let mut d = SimTime::ZERO;
                let (addr, mut p) = match (&regs, write) {
                    (Some(_), Some(v)) => (off, Payload::write_u32(off as u64, v)),
                    (Some(_), None) => (off, Payload::read_u32(off as u64)),
                    (None, Some(v)) => (
                        regs_base + off,
                        Payload::write_u32((regs_base + off) as u64, v),
                    ),
                    (None, None) => (regs_base + off, Payload::read_u32((regs_base + off) as u64)),
                };
                p = p.with_initiator(core);
                match &regs {
                    Some(t) => t.borrow_mut().b_transport(&mut p, &mut d),
                    None => bus.b_transport(&mut p, &mut d),
                }
                if !p.response.is_ok() {
                    return Err(format!(
                        "register access at {addr:#010x} failed: {:?}",
                        p.response
                    ));
                }
                Ok(p.data_u32())
            };
            let fail = |e: String| sim.fault(name.clone(), e);
            sim.wait_until(clock.time_of(start)).await;
            if let Err(e) = access(regs::SOFT_CLEAR, Some(0)) {
                return fail(e);
            }
            sim.wait_cycles(clock, 9).await;
            let mut pending: Vec<Snapshot> = Vec::new();
            let mut finished_seen = done.count();
            let mut triggered = 0u64;
            for (ji, j) in plans.iter().enumerate() {
                let Resolved {
                    xa,
                    wa,
                    za,
                    op,
                    fmt,
                    check,
                    wait,
                    ..
                } = j.clone();
                let Dims { m, n, k } = j.dims;
                // ACQUIRE until a context is free.
                loop {
                    match access(regs::ACQUIRE, None) {
                        Ok(v) if (v as i32) >= 0 => break,
                        Ok(_) => sim.wait_cycles(clock, 1).await,
                        Err(e) => return fail(e),
                    }
                }
                let eb = fmt.bytes_per_elem();
                let regs_v = regs::Job {
                    x: xa,
                    w: wa,
                    z: za,
                    m: m as u32,
                    n: n as u32,
                    k: k as u32,
                    op,
                    fmt,
                }
                .registers();
                for (i, v) in regs_v.iter().enumerate() {
                    sim.wait_cycles(clock, 1).await;
                    if let Err(e) = access(regs::X_PTR + 4 * i as u32, Some(*v)) {
                        return fail(e);
                    }
                }
                sim.wait_cycles(clock, 1).await;
                if check {
                    pending.push((
                        ji,
                        read_tcdm(&tcdm, xa, m * n * eb),
                        read_tcdm(&tcdm, wa, n * k * eb),
                        read_tcdm(&tcdm, za, m * k * eb),
                    ));
                }
                if let Err(e) = access(regs::TRIGGER, Some(0)) {
                    return fail(e);
                }
                triggered += 1;
                if wait {
                    while done.count() < finished_seen + 1 {
                        done.wait().await;
                    }
                    finished_seen += 1;
                    results.borrow_mut().jobs_done += 1;
                }
            }
            while done.count() < finished_seen + (triggered - results.borrow().jobs_done) {
                done.wait().await;
            }
            results.borrow_mut().jobs_done = triggered;
            // Checks and outputs.
            for (ji, j) in plans.iter().enumerate() {
                let Resolved {
                    za, op, fmt, out, ..
                } = j.clone();
                let Dims { m, k, .. } = j.dims;
                let eb = fmt.bytes_per_elem();
                let z = read_tcdm(&tcdm, za, m * k * eb);
                if let Some((_, x, w, y)) = pending.iter().find(|p| p.0 == ji) {
                    // The oracle: the slow, exact reference path of redmule-numerics.
                    let want = match reference::gemm(op, fmt, j.dims, x, w, y) {
                        Ok(z) => z,
                        Err(e) => {
                            results
                                .borrow_mut()
                                .errors
                                .push(format!("job {ji}: oracle: {e:?}"));
                            continue;
                        }
                    };
                    let mut r = results.borrow_mut();
                    r.checked += (m * k) as u64;
                    for e in 0..m * k {
                        if z[e * eb..(e + 1) * eb] != want[e * eb..(e + 1) * eb] {
                            r.mismatches += 1;
                            if r.first_mismatch.is_none() {
                                r.first_mismatch = Some(format!(
                                    "job {ji}: Z[{}][{}] = {:02x?}, oracle {:02x?}",
                                    e / k,
                                    e % k,
                                    &z[e * eb..(e + 1) * eb],
                                    &want[e * eb..(e + 1) * eb]
                                ));
                            }
                        }
                    }
                }
                if let Some(path) = out {
                    let a = Npy {
                        rows: m,
                        cols: k,
                        descr: if eb == 2 { "<f2".into() } else { "|u1".into() },
                        data: z,
                    };
                    if let Err(e) = a.write(&path) {
                        results.borrow_mut().errors.push(e);
                    }
                }
            }
        });
        Ok(())
    }
    fn stats(&self) -> Value {
        let r = self.results.borrow();
        json!({
            "jobs_done": r.jobs_done,
            "elements_checked": r.checked,
            "mismatches": r.mismatches,
            "first_mismatch": r.first_mismatch,
        })
    }
    fn finish(&mut self, _sim: &vp_kernel::Sim) -> Result<(), String> {
        let r = self.results.borrow();
        if let Some(e) = r.errors.first() {
            return Err(e.clone());
        }
        if r.mismatches > 0 {
            return Err(format!(
                "{} of {} result elements differ from the oracle; first: {}",
                r.mismatches,
                r.checked,
                r.first_mismatch.clone().unwrap_or_default()
            ));
        }
        Ok(())
    }
}

fn build(
    ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    let mut matrices = Vec::new();
    for (mname, s) in &p.matrices {
        let fmt = parse_fmt(&s.dtype).map_err(|e| format!("matrices.{mname}.dtype: {e}"))?;
        let init =
            parse_init(&s.init, ctx.base_dir).map_err(|e| format!("matrices.{mname}.{e}"))?;
        if s.rows == 0 || s.cols == 0 || s.rows > 0xFFFF || s.cols > 0xFFFF {
            return Err(format!(
                "matrices.{mname}: rows and cols must be 1 to 65535"
            ));
        }
        let bytes = (s.rows * s.cols * fmt.bytes_per_elem()) as u64;
        let (lo, hi) = (
            ctx.tcdm_base as u64,
            ctx.tcdm_base as u64 + ctx.tcdm_size as u64,
        );
        if (s.addr as u64) < lo || s.addr as u64 + bytes > hi {
            return Err(format!(
                "matrices.{mname}: [{:#010x}, {:#010x}) is outside the TCDM [{lo:#010x}, {hi:#010x})",
                s.addr,
                s.addr as u64 + bytes
            ));
        }
        if !(s.addr as usize).is_multiple_of(fmt.bytes_per_elem()) {
            return Err(format!(
                "matrices.{mname}.addr: {:#010x} is not element aligned",
                s.addr
            ));
        }
        matrices.push(Matrix {
            name: mname.clone(),
            rows: s.rows,
            cols: s.cols,
            addr: s.addr,
            fmt,
            init,
        });
    }
    let find = |n: &str, ji: usize, f: &str| -> Result<usize, String> {
        p.matrices
            .get_index_of(n)
            .ok_or_else(|| format!("jobs[{ji}].{f}: no matrix named '{n}'"))
    };
    // The geometry of the cluster's RedMulE (`platform.redmule`, the component's defaults).
    let red = ctx.platform.get("redmule");
    let dim = |key: &str, d: u32| {
        red.and_then(|r| r.get(key))
            .and_then(Value::as_u64)
            .map_or(d, |v| v.min(u64::from(u32::MAX)) as u32)
    };
    let g = Geometry::REDMULE;
    let geom = Geometry {
        rows: dim("rows", g.rows),
        cols: dim("cols", g.cols),
        stages: dim("stages", g.stages),
    };
    let mut jobs = Vec::new();
    for (ji, j) in p.jobs.iter().enumerate() {
        let (x, w, z) = (
            find(&j.x, ji, "x")?,
            find(&j.w, ji, "w")?,
            find(&j.z, ji, "z")?,
        );
        let op = parse_op(&j.op).map_err(|e| format!("jobs[{ji}].op: {e}"))?;
        let fmt = parse_fmt(&j.fmt).map_err(|e| format!("jobs[{ji}].fmt: {e}"))?;
        let (mx, mw, mz) = (&matrices[x], &matrices[w], &matrices[z]);
        if mx.cols != mw.rows || mz.rows != mx.rows || mz.cols != mw.cols {
            return Err(format!(
                "jobs[{ji}]: shapes do not chain: X {}x{}, W {}x{}, Z {}x{} (need X MxN, W NxK, Z MxK)",
                mx.rows, mx.cols, mw.rows, mw.cols, mz.rows, mz.cols
            ));
        }
        for m in [mx, mw, mz] {
            if m.fmt != fmt {
                return Err(format!(
                    "jobs[{ji}]: matrix {} is {:?} but the job's fmt is {:?}",
                    m.name, m.fmt, fmt
                ));
            }
        }
        // The RTL's counter limits (at most 65,535 Z stores and X chunk reads, see
        // `regs::Job::decode_checked`), on the cluster's RedMulE geometry: a job past them would
        // never complete (Z) or leave a stream running (X), so it is refused at load time.
        let job = regs::Job {
            x: mx.addr,
            w: mw.addr,
            z: mz.addr,
            m: mx.rows as u32,
            n: mx.cols as u32,
            k: mw.cols as u32,
            op,
            fmt,
        };
        job.check_rtl_limits(geom).map_err(|e| {
            format!(
                "jobs[{ji}]: the RTL cannot run it on the {}x{}x{} RedMulE (platform.redmule rows x cols x stages): {e}",
                geom.rows, geom.cols, geom.stages
            )
        })?;
        let out = j.out.as_ref().map(|o| {
            if o.is_absolute() {
                o.clone()
            } else {
                ctx.base_dir.join(o)
            }
        });
        jobs.push(JobPlan {
            x,
            w,
            z,
            op,
            fmt,
            check: j.check,
            out,
            wait: j.wait,
        });
    }
    if jobs.is_empty() {
        return Err("jobs: expected at least one job".into());
    }
    Ok(Box::new(Driver {
        name: name.to_string(),
        matrices,
        jobs,
        start: p.start_cycle,
        core: p.core,
        regs_base: p.regs_base,
        seed: ctx.seed_for(name),
        regs: None,
        done: None,
        tcdm: None,
        results: Rc::default(),
    }))
}

/// The `redmule_driver` kind.
pub fn kind() -> ComponentKind {
    ComponentKind {
        name: "redmule_driver",
        summary: "firmware-free RedMulE workload: loads matrices, programs jobs through the registers, checks results",
        params: "matrices: {NAME: {rows, cols, addr, dtype: fp16|fp8|fp8alt, init: random|zeros|file.npy|{const: x}|{random: {min, max}}}}\njobs: [{x, w, z, op: gemm|matmul|addmax|..., fmt, check: bool, out: z.npy, wait: bool}]\nstart_cycle: first register access (20)\ncore: the core it stands for (0)",
        build,
    }
}
