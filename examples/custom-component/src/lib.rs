//! # A component of your own: a tiny DMA
//!
//! This crate lives outside the platform and adds a component kind, `copier`, without
//! changing a line of platform code:
//!
//! ```text
//!   copier --(port mem: "target")--> l2.mem        (or the cluster bus when unbound)
//!     reads a word, waits the annotated delay, writes it, `words_per_cycle` at a time
//! ```
//!
//! 1. A plain struct implements [`vp_kernel::Component`]: its ports (`bind`), its process
//!    (`elaborate`) and its statistics (`stats`).
//! 2. A [`vp_kernel::ComponentKind`] names it and builds it from its YAML params.
//! 3. Your binary (src/main.rs) registers the kind next to the built-ins and runs the
//!    usual command line; tests build platforms from YAML the same way.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use vp_kernel::component::{parse_params, ElabCtx, PortInfo};
use vp_kernel::tlm::{Payload, TargetRef};
use vp_kernel::{BuildCtx, Component, ComponentKind, PortRef, SimTime};

/// YAML params of `copier`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Source byte address (word aligned): a bus address, or an offset in the bound target.
    src: u32,
    /// Destination byte address (word aligned).
    dst: u32,
    /// Bytes to copy (a multiple of 4).
    bytes: u32,
    /// Cycles between two words (the DMA's pace), at least 1.
    #[serde(default = "one")]
    cycles_per_word: u64,
}
fn one() -> u64 {
    1
}

#[derive(Default)]
struct Counters {
    words: u64,
    start_ps: u64,
    end_ps: u64,
    errors: u64,
}

/// The copier component.
pub struct Copier {
    name: String,
    p: Params,
    mem: Option<TargetRef>,
    counters: Rc<RefCell<Counters>>,
}

impl Component for Copier {
    fn kind(&self) -> &'static str {
        "copier"
    }
    fn ports(&self) -> Vec<PortInfo> {
        vec![PortInfo {
            name: "mem",
            kind: "target",
            required: false,
            doc: "memory to copy within (default: the cluster bus)",
        }]
    }
    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        match port {
            "mem" => {
                self.mem = Some(peer.get_target()?);
                Ok(())
            }
            _ => Err(format!("copier has port 'mem', not '{port}'")),
        }
    }
    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        let sim = cx.sim.clone();
        let clock = cx.clock;
        let bus = cx.bus.clone();
        let mem = self.mem.clone();
        let c = self.counters.clone();
        let (src, dst, words, pace) = (
            self.p.src,
            self.p.dst,
            self.p.bytes / 4,
            self.p.cycles_per_word,
        );
        let name = self.name.clone();
        cx.sim.spawn(self.name.clone(), async move {
            c.borrow_mut().start_ps = sim.now().ps();
            for i in 0..words {
                let mut delay = SimTime::ZERO;
                let mut rd = Payload::read_u32((src + 4 * i) as u64);
                match &mem {
                    Some(t) => t.borrow_mut().b_transport(&mut rd, &mut delay),
                    None => bus.b_transport(&mut rd, &mut delay),
                }
                let mut wr = Payload::write_u32((dst + 4 * i) as u64, rd.data_u32());
                match &mem {
                    Some(t) => t.borrow_mut().b_transport(&mut wr, &mut delay),
                    None => bus.b_transport(&mut wr, &mut delay),
                }
                if !rd.response.is_ok() || !wr.response.is_ok() {
                    c.borrow_mut().errors += 1;
                    sim.fault(
                        name.clone(),
                        format!(
                            "copy of word {i} failed: {:?} / {:?}",
                            rd.response, wr.response
                        ),
                    );
                    return;
                }
                c.borrow_mut().words += 1;
                sim.wait_for(delay).await;
                sim.wait_cycles(clock, pace).await;
            }
            c.borrow_mut().end_ps = sim.now().ps();
        });
        Ok(())
    }
    fn stats(&self) -> serde_json::Value {
        let c = self.counters.borrow();
        json!({"words": c.words, "start_ps": c.start_ps, "end_ps": c.end_ps, "errors": c.errors})
    }
}

fn build(
    _ctx: &BuildCtx<'_>,
    name: &str,
    v: &serde_yaml::Value,
) -> Result<Box<dyn Component>, String> {
    let p: Params = parse_params(v)?;
    if ![p.src, p.dst, p.bytes].iter().all(|v| v.is_multiple_of(4)) {
        return Err("src, dst and bytes must be multiples of 4".into());
    }
    if p.cycles_per_word == 0 {
        return Err("cycles_per_word: expected at least 1".into());
    }
    Ok(Box::new(Copier {
        name: name.to_string(),
        p,
        mem: None,
        counters: Rc::default(),
    }))
}

/// The kind to register.
pub fn kind() -> ComponentKind {
    ComponentKind {
        name: "copier",
        summary:
            "example DMA that copies words through a memory target (examples/custom-component)",
        params: "src, dst: byte addresses\nbytes: bytes to copy\ncycles_per_word: pace (1)",
        build,
    }
}
