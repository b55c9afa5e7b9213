//! # SoC stub: the SoC event unit seen from a cluster without its SoC
//!
//! pulp-runtime, built for `pulp_cluster`, initialises the SoC event unit
//! (`include/archi/soc_eu/soc_eu_v2.h`, `ARCHI_SOC_EU_ADDR` = 0x1A100000 + 0x6000, written by
//! the runtime's start-up through `hal/soc_eu/soc_eu_v2.h`) although a stand-alone cluster
//! has no SoC behind it (see `shared/reference/pulp-cluster.md`, section 5). This block maps
//! `base` (0x1A106000) for `size` bytes (0x1000): writes are accepted, logged at debug level
//! and counted per offset, reads return 0. Nothing else of the SoC is modelled.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use tracing::debug;
use vp_kernel::component::{parse_params, MapEntry};
use vp_kernel::tlm::{Command, Payload, Response, Target};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, SimTime};

/// Track of this block's log records.
pub const TRACK: &str = "soc.event_unit";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
    #[serde(default = "d_size")]
    size: u32,
}
fn d_base() -> u32 {
    0x1A10_6000
}
fn d_size() -> u32 {
    0x1000
}

#[derive(Default)]
struct Regs {
    name: String,
    reads: u64,
    writes: u64,
    /// Writes per word offset (bounded by the window size).
    per_offset: BTreeMap<u32, u64>,
    last: BTreeMap<u32, u32>,
}

impl Target for Regs {
    fn b_transport(&mut self, p: &mut Payload, _delay: &mut SimTime) {
        let off = p.address as u32 & !3;
        match p.command {
            Command::Read => {
                self.reads += 1;
                p.data.iter_mut().for_each(|b| *b = 0);
            }
            Command::Write => {
                self.writes += 1;
                let v = p.data_u32();
                *self.per_offset.entry(off).or_insert(0) += 1;
                self.last.insert(off, v);
                debug!(target: "vp", track = TRACK, "{}: write {v:#010x} at {:#010x} (ignored: no SoC){}",
                    self.name, p.global_address,
                    p.initiator.map_or(String::new(), |c| format!(" by core {c}")));
            }
        }
        p.response = Response::Ok;
    }
    fn debug_transport(&mut self, p: &mut Payload) -> usize {
        if p.command == Command::Read {
            p.data.iter_mut().for_each(|b| *b = 0);
        }
        p.response = Response::Ok;
        p.data.len()
    }
}

/// The SoC event-unit stub.
pub struct Soc {
    base: u32,
    size: u32,
    regs: Rc<RefCell<Regs>>,
}

impl Component for Soc {
    fn kind(&self) -> &'static str {
        "soc"
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "regs" => Ok(PortRef::target(self.regs.clone())),
            _ => Err(format!("soc exports 'regs', not '{port}'")),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "event_unit".into(),
            base: self.base as u64,
            size: self.size as u64,
            target: self.regs.clone(),
        }]
    }
    fn stats(&self) -> serde_json::Value {
        let r = self.regs.borrow();
        let per: serde_json::Map<String, serde_json::Value> = r
            .per_offset
            .iter()
            .map(|(o, n)| {
                (
                    format!("{o:#x}"),
                    json!({"writes": n, "last": format!("{:#010x}", r.last.get(o).copied().unwrap_or(0))}),
                )
            })
            .collect();
        json!({"reads": r.reads, "writes": r.writes, "by_offset": per})
    }
}

fn build(
    _ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    if !p.base.is_multiple_of(4) {
        return Err(format!("base: {:#x} must be word aligned", p.base));
    }
    if p.size == 0 || !p.size.is_multiple_of(4) || p.base as u64 + p.size as u64 > 1 << 32 {
        return Err(format!(
            "size: {:#x} must be a non-zero multiple of 4 that ends below 4 GiB from base {:#x}",
            p.size, p.base
        ));
    }
    Ok(Box::new(Soc {
        base: p.base,
        size: p.size,
        regs: Rc::new(RefCell::new(Regs {
            name: name.to_string(),
            ..Regs::default()
        })),
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "soc",
        summary:
            "SoC event-unit stub (0x1A106000): accepts and logs pulp-runtime's writes, reads 0",
        params: "base: start address (0x1A106000)\nsize: bytes mapped (0x1000)",
        build,
    }]
}
