//! # stdout: the putc channel of pulp-runtime's minimal libc
//!
//! pulp-runtime (`include/archi/stdout/stdout_v3.h`, `lib/libc/minimal/io.c`, memory map
//! `ARCHI_STDOUT_ADDR` 0x40000000) prints by storing one character per 32-bit store to
//! `0x40000000 + (core << 3) + (cluster << 7)` (the virtual stdout of GVSoC and of the PULP
//! RTL testbenches). This block maps `base` (0x40000000, 0x1000 bytes), keeps one line buffer
//! per (cluster, core) and completes a line at `\n` (`\r` is dropped).
//!
//! Every completed line is kept (see `stats()["lines"]`, in completion order), emitted as a
//! timeline instant on track `cluster.core<N>` (name `stdout`, field `text`) and, with
//! `echo: true`, printed to the process's stdout at once. Lines read `[core N] text`
//! (`[cluster C core N] text` for a cluster other than 0) with `prefix: true`, the bare text
//! otherwise. Partial lines are flushed at the end of the run (`finish`). Reads return 0.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use tracing::{event, Level};
use vp_kernel::clocked::DomainId;
use vp_kernel::component::{parse_params, MapEntry};
use vp_kernel::tlm::{Command, Payload, Response, Target};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, Sim, SimTime};

/// Size of the mapped window (cluster ids 0..31, cores 0..15).
pub const SIZE: u64 = 0x1000;

/// Params of the `stdout` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    /// Prefix lines with `[core N] ` (true).
    #[serde(default = "d_true")]
    prefix: bool,
    /// Print each completed line to the process's stdout (false; the CLI sets it).
    #[serde(default)]
    echo: bool,
    /// A line longer than this is completed anyway (4096 bytes).
    #[serde(default = "d_max")]
    max_line: usize,
}
fn d_base() -> u32 {
    0x4000_0000
}
fn d_true() -> bool {
    true
}
fn d_max() -> usize {
    4096
}

/// One completed line.
#[derive(Clone, Debug)]
pub struct Line {
    pub cluster: u32,
    pub core: u32,
    pub text: String,
    /// Cluster cycle of the character that completed it.
    pub cycle: u64,
    /// Completed by `finish` (no newline).
    pub partial: bool,
}

struct State {
    sim: Sim,
    domain: DomainId,
    prefix: bool,
    echo: bool,
    max_line: usize,
    buffers: BTreeMap<(u32, u32), Vec<u8>>,
    lines: Vec<Line>,
    chars: u64,
    reads: u64,
}

impl State {
    fn format(&self, l: &Line) -> String {
        match (self.prefix, l.cluster) {
            (false, _) => l.text.clone(),
            (true, 0) => format!("[core {}] {}", l.core, l.text),
            (true, c) => format!("[cluster {c} core {}] {}", l.core, l.text),
        }
    }

    fn complete(&mut self, cluster: u32, core: u32, partial: bool) {
        let bytes = self
            .buffers
            .get_mut(&(cluster, core))
            .map(std::mem::take)
            .unwrap_or_default();
        let line = Line {
            cluster,
            core,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            cycle: self.sim.cycle_now(self.domain),
            partial,
        };
        let track = if cluster == 0 {
            format!("cluster.core{core}")
        } else {
            format!("cluster{cluster}.core{core}")
        };
        event!(target: "vp", Level::TRACE, track = track.as_str(), ev = "instant",
            name = "stdout", text = line.text.as_str());
        if self.echo {
            let s = self.format(&line);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{s}");
            let _ = out.flush();
        }
        self.lines.push(line);
    }

    fn putc(&mut self, cluster: u32, core: u32, c: u8) {
        self.chars += 1;
        match c {
            b'\n' => self.complete(cluster, core, false),
            b'\r' => {}
            _ => {
                let b = self.buffers.entry((cluster, core)).or_default();
                b.push(c);
                if b.len() >= self.max_line {
                    self.complete(cluster, core, false);
                }
            }
        }
    }

    fn flush(&mut self) {
        let keys: Vec<(u32, u32)> = self
            .buffers
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(k, _)| *k)
            .collect();
        for (cl, c) in keys {
            self.complete(cl, c, true);
        }
    }
}

struct Chan(Rc<RefCell<State>>);

impl Target for Chan {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        let off = p.address as u32;
        let mut s = self.0.borrow_mut();
        match p.command {
            Command::Write => {
                if let Some(&c) = p.data.first() {
                    s.putc((off >> 7) & 0x1F, (off >> 3) & 0xF, c);
                }
            }
            Command::Read => {
                s.reads += 1;
                p.data.iter_mut().for_each(|b| *b = 0);
            }
        }
        p.response = Response::Ok;
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        // No side effects: debug writes print nothing.
        if p.command == Command::Read {
            p.data.iter_mut().for_each(|b| *b = 0);
        }
        p.response = Response::Ok;
        p.data.len()
    }
}

/// The stdout component.
pub struct Stdout {
    base: u32,
    state: Rc<RefCell<State>>,
    chan: Rc<RefCell<Chan>>,
}

impl Stdout {
    /// The lines completed so far.
    pub fn lines(&self) -> Vec<Line> {
        self.state.borrow().lines.clone()
    }
}

impl Component for Stdout {
    fn kind(&self) -> &'static str {
        "stdout"
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "chan" => Ok(PortRef::target(self.chan.clone())),
            _ => Err(format!("stdout exports 'chan', not '{port}'")),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "chan".into(),
            base: self.base as u64,
            size: SIZE,
            target: self.chan.clone(),
        }]
    }
    fn stats(&self) -> serde_json::Value {
        let s = self.state.borrow();
        let lines: Vec<String> = s.lines.iter().map(|l| s.format(l)).collect();
        let mut per_core: BTreeMap<String, u64> = BTreeMap::new();
        for l in &s.lines {
            let k = if l.cluster == 0 {
                l.core.to_string()
            } else {
                format!("{}.{}", l.cluster, l.core)
            };
            *per_core.entry(k).or_insert(0) += 1;
        }
        json!({
            "lines": lines,
            "lines_per_core": per_core,
            "chars": s.chars,
            "partial_lines": s.lines.iter().filter(|l| l.partial).count(),
            "reads": s.reads,
        })
    }
    fn finish(&mut self, _sim: &Sim) -> Result<(), String> {
        self.state.borrow_mut().flush();
        Ok(())
    }
}

fn build(
    ctx: &BuildCtx<'_>,
    _name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    if !p.base.is_multiple_of(8) || p.base as u64 + SIZE > 1 << 32 {
        return Err(format!(
            "base: {:#x} must be 8-byte aligned and leave {SIZE:#x} bytes below 4 GiB",
            p.base
        ));
    }
    if p.max_line == 0 {
        return Err("max_line: expected at least 1".into());
    }
    let state = Rc::new(RefCell::new(State {
        sim: ctx.sim.clone(),
        domain: ctx.domain,
        prefix: p.prefix,
        echo: p.echo,
        max_line: p.max_line,
        buffers: BTreeMap::new(),
        lines: Vec::new(),
        chars: 0,
        reads: 0,
    }));
    Ok(Box::new(Stdout {
        base: p.base,
        chan: Rc::new(RefCell::new(Chan(state.clone()))),
        state,
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "stdout",
        summary: "putc channel (0x40000000 + core*8 + cluster*128): line-buffered per core, lines in stats, echo optional",
        params: "base: start address (0x40000000, 0x1000 bytes)\nprefix: '[core N] ' before each line (true)\necho: print lines to stdout as they complete (false)\nmax_line: bytes after which a line is completed anyway (4096)",
        build,
    }]
}
