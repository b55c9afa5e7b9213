//! # L2 memory
//!
//! The cluster's L2 (SoC memory at 0x1C000000; pulp-runtime binaries run from it). A
//! loosely-timed memory target: data really stored, byte enables, a fixed access latency
//! in cluster cycles added to the annotated delay, address errors past its end.
//!
//! Exports `mem` (a "target" port) so that loaders and other components can reach it
//! directly, and maps itself on the cluster bus at `base`.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use vp_kernel::component::{parse_params, MapEntry};
use vp_kernel::tlm::{Memory, Payload, Target};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, SimTime};

/// Params of the `l2` kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    #[serde(default = "d_size_kib")]
    size_kib: u32,
    #[serde(default)]
    latency_cycles: u64,
}
fn d_base() -> u32 {
    0x1C00_0000
}
fn d_size_kib() -> u32 {
    1024
}

/// Counts accesses on top of a [`Memory`].
struct L2Target {
    mem: Memory,
    reads: u64,
    writes: u64,
}

impl Target for L2Target {
    fn b_transport(&mut self, p: &mut Payload, delay: &mut SimTime) {
        match p.command {
            vp_kernel::tlm::Command::Read => self.reads += 1,
            vp_kernel::tlm::Command::Write => self.writes += 1,
        }
        self.mem.b_transport(p, delay);
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        self.mem.debug_transport(p)
    }
}

/// The L2 component.
pub struct L2 {
    base: u32,
    size: u32,
    target: Rc<RefCell<L2Target>>,
}

impl Component for L2 {
    fn kind(&self) -> &'static str {
        "l2"
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "mem" => Ok(PortRef::target(self.target.clone())),
            _ => Err(format!("l2 exports 'mem', not '{port}'")),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "mem".into(),
            base: self.base as u64,
            size: self.size as u64,
            target: self.target.clone(),
        }]
    }
    fn stats(&self) -> serde_json::Value {
        let t = self.target.borrow();
        json!({"reads": t.reads, "writes": t.writes})
    }
}

fn build(
    ctx: &BuildCtx<'_>,
    _name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    if p.size_kib == 0 || p.size_kib > 256 * 1024 {
        return Err(format!(
            "size_kib: expected 1 to 262144 KiB, got {}",
            p.size_kib
        ));
    }
    let size = p.size_kib * 1024;
    if (p.base as u64) + size as u64 > 1 << 32 {
        return Err(format!(
            "base: {:#x} + {} KiB runs past the 32-bit address space",
            p.base, p.size_kib
        ));
    }
    let latency = ctx.clock.cycles(p.latency_cycles);
    Ok(Box::new(L2 {
        base: p.base,
        size,
        target: Rc::new(RefCell::new(L2Target {
            mem: Memory::new(size as usize, latency),
            reads: 0,
            writes: 0,
        })),
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "l2",
        summary: "L2 memory (loosely timed, fixed latency)",
        params: "base: start address (0x1C000000)\nsize_kib: size in KiB (1024)\nlatency_cycles: cycles added per access (0)",
        build,
    }]
}
