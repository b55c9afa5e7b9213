//! The contention benchmark (for the CLI's `bench contention`).
//!
//! ```text
//!   bench.core0 .. bench.core7   random narrow reads/writes, intensity 1 ──┐
//!                                                                          ├─ interconnect
//!   bench.hwpe                   sequential 9-word wide stream, intensity 1 ┘  (16 banks, 128 KiB)
//! ```
//!
//! Eight random narrow generators at full intensity (25 % writes) over the whole default
//! TCDM plus one wide generator streaming 9-word accesses (10 % writes) compete for 16 banks
//! for `cycles` cycles. The HCI runs the pinned starvation guard with `max_stall: 4` (core
//! side high): with the reset value 0 the eight random cores almost always touch one of
//! the wide port's nine banks and the wide stream starves (as in the RTL), which would
//! leave the wide path out of the measurement.
//! The interconnect is built through its registered kind, so this crate does not depend on
//! the interconnect crate: pass `vp_interconnect::kind()`.

use std::path::Path;
use std::rc::Rc;

use serde_json::{json, Map, Value};
use vp_kernel::clocked::DomainId;
use vp_kernel::component::ElabCtx;
use vp_kernel::tlm::AddressMap;
use vp_kernel::{BuildCtx, Clock, Component, ComponentKind, RunReport, Sim};

use crate::{Pattern, Traffic, TrafficConfig};

/// The assembled bench. Run it with [`ContentionBench::run`].
pub struct ContentionBench {
    pub interconnect: Box<dyn Component>,
    pub generators: Vec<Traffic>,
    /// Cycles the generators run.
    pub cycles: u64,
    clock: Clock,
}

impl ContentionBench {
    /// Run until the generators are done (`cycles` cycles plus the last responses).
    pub fn run(&self, sim: &Sim) -> RunReport {
        sim.run(Some(self.clock.time_of(self.cycles + 64)))
    }

    /// Statistics of the interconnect and of every generator.
    pub fn stats(&self) -> Value {
        let mut g = Map::new();
        for t in &self.generators {
            g.insert(t.name().to_string(), t.stats());
        }
        json!({ "interconnect": self.interconnect.stats(), "generators": Value::Object(g) })
    }

    /// Total grants of all generators.
    pub fn grants(&self) -> u64 {
        self.generators.iter().map(|t| t.stats_raw().grants).sum()
    }
}

/// Build the contention bench on `domain` of `sim`: the interconnect of kind `interconnect`
/// (default TCDM, `max_stall: 4`), 8 narrow random generators and one wide streaming generator, all
/// running `cycles` cycles; seeds derive from `seed` and the component names.
pub fn build_contention_bench(
    sim: &Sim,
    domain: DomainId,
    cycles: u64,
    interconnect: &ComponentKind,
    seed: u64,
) -> Result<ContentionBench, String> {
    let clock = sim.clock(domain);
    let platform = Value::Null;
    let ctx = BuildCtx {
        sim,
        domain,
        clock,
        seed,
        cores: 8,
        tcdm_base: 0x1000_0000,
        tcdm_size: 128 * 1024,
        tcdm_banks: 16,
        platform: &platform,
        base_dir: Path::new("."),
    };
    let params: serde_yaml::Value =
        serde_yaml::from_str("max_stall: 4").map_err(|e| e.to_string())?;
    let mut ic = (interconnect.build)(&ctx, "bench.tcdm", &params)?;
    let mut generators = Vec::new();
    for i in 0..8 {
        let name = format!("bench.core{i}");
        let mut c = TrafficConfig::narrow(Pattern::Random, ctx.seed_for(&name));
        c.write_ratio = 0.25;
        c.count = None;
        c.duration = Some(cycles);
        let mut t = Traffic::new(name, c)?;
        t.bind("tcdm", ic.export("narrow")?)?;
        generators.push(t);
    }
    let name = "bench.hwpe".to_string();
    let mut c = TrafficConfig::wide(Pattern::Sequential, 9, ctx.seed_for(&name));
    c.write_ratio = 0.1;
    c.count = None;
    c.duration = Some(cycles);
    let mut t = Traffic::new(name, c)?;
    t.bind("wide", ic.export("wide")?)?;
    generators.push(t);

    let bus = Rc::new(AddressMap::new());
    let mut ecx = ElabCtx {
        sim,
        domain,
        clock,
        bus: &bus,
    };
    ic.elaborate(&mut ecx)?;
    for t in generators.iter_mut() {
        t.elaborate(&mut ecx)?;
    }
    Ok(ContentionBench {
        interconnect: ic,
        generators,
        cycles,
        clock,
    })
}
