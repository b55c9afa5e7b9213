//! # Instruction-cache control unit (stub)
//!
//! The register window of the cluster's shared instruction cache controller
//! (`mp_pf_icache_ctrl_unit` of github.com/pulp-platform/cluster_peripherals,
//! `icache_ctrl_unit/`; pulp-runtime `ARCHI_ICACHE_CTRL_OFFSET`), mapped at `base`
//! (0x10201400, 0x400 bytes). The virtual platform has no instruction cache (fetches are
//! not timed through one), so this block only answers: every access succeeds, writes are
//! recorded and logged at debug level (ENABLE 0x00, FLUSH 0x04, SEL_FLUSH 0x0C,
//! CLEAR_CNTS 0x10, ENABLE_CNTS 0x14, PF_SIZE 0x20, PF_ADDR 0x24), reads return 0 (hit, miss
//! and transaction counters included). Statistics count the accesses.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use tracing::debug;
use vp_kernel::component::{parse_params, MapEntry};
use vp_kernel::tlm::{Command, Payload, Response, Target};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, SimTime};

/// Track of this block's log records.
pub const TRACK: &str = "cluster.icache_ctrl";
/// Size of the mapped window.
pub const SIZE: u64 = 0x400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "d_base")]
    base: u32,
}
fn d_base() -> u32 {
    0x1020_1400
}

fn reg_name(off: u32) -> &'static str {
    match off {
        0x00 => "ENABLE",
        0x04 => "FLUSH",
        0x0C => "SEL_FLUSH",
        0x10 => "CLEAR_CNTS",
        0x14 => "ENABLE_CNTS",
        0x20 => "PF_SIZE",
        0x24 => "PF_ADDR",
        0x40..=0x3FF => "counters",
        _ => "unknown",
    }
}

#[derive(Default)]
struct Regs {
    name: String,
    reads: u64,
    writes: u64,
    flushes: u64,
    enable: Option<u32>,
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
                match off {
                    0x00 => self.enable = Some(v),
                    0x04 | 0x0C => self.flushes += 1,
                    _ => {}
                }
                debug!(target: "vp", track = TRACK, "{}: {} ({off:#x}) <- {v:#x}{}",
                    self.name, reg_name(off), p.initiator.map_or(String::new(), |c| format!(" by core {c}")));
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

/// The I-cache control stub.
pub struct IcacheCtrl {
    base: u32,
    regs: Rc<RefCell<Regs>>,
}

impl Component for IcacheCtrl {
    fn kind(&self) -> &'static str {
        "icache_ctrl"
    }
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        match port {
            "regs" => Ok(PortRef::target(self.regs.clone())),
            _ => Err(format!("icache_ctrl exports 'regs', not '{port}'")),
        }
    }
    fn mappings(&self) -> Vec<MapEntry> {
        vec![MapEntry {
            name: "regs".into(),
            base: self.base as u64,
            size: SIZE,
            target: self.regs.clone(),
        }]
    }
    fn stats(&self) -> serde_json::Value {
        let r = self.regs.borrow();
        json!({"reads": r.reads, "writes": r.writes, "flushes": r.flushes, "enable": r.enable})
    }
}

fn build(
    _ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    if !p.base.is_multiple_of(4) || p.base as u64 + SIZE > 1 << 32 {
        return Err(format!(
            "base: {:#x} must be word aligned and leave {SIZE:#x} bytes below 4 GiB",
            p.base
        ));
    }
    Ok(Box::new(IcacheCtrl {
        base: p.base,
        regs: Rc::new(RefCell::new(Regs {
            name: name.to_string(),
            ..Regs::default()
        })),
    }))
}

/// The kinds this crate provides.
pub fn kinds() -> Vec<ComponentKind> {
    vec![ComponentKind {
        name: "icache_ctrl",
        summary: "I-cache control registers (stub): accepts every access, reads 0, counts accesses",
        params: "base: start address (0x10201400, 0x400 bytes)",
        build,
    }]
}
