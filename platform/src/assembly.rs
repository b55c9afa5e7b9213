//! Platform assembly: from a scenario and a registry of kinds to a bound, elaborated
//! simulation, and from a finished run to its report.
//!
//! ```text
//!            +--------------------------- cluster ----------------------------+
//!  scenario  |  built-in blocks (platform.<kind>)    components (components:)  |
//!  ------->  |  interconnect, redmule, ...            traffic, job drivers ... |
//!            |        ^  exports                         | bind: port -> x.y   |
//!            |        +----------------------------------+                     |
//!            |  cluster bus (AddressMap) <- mappings() of every component       |
//!            +----------------------------------------------------------------+
//! ```

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{json, Value};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;
use vp_kernel::clocked::DomainId;
use vp_kernel::component::{BuildCtx, ElabCtx};
use vp_kernel::tlm::AddressMap;
use vp_kernel::{Clock, Component, Registry, RunEnd, RunReport, Sim, SimTime};

use crate::scenario::{Loaded, ScenarioError};

/// Built-in blocks of the cluster: (instance name, kind). A block is instantiated when its
/// kind is registered; its params come from `platform.<instance name>`.
pub const CLUSTER_BLOCKS: &[(&str, &str)] = &[
    ("interconnect", "interconnect"),
    ("cluster_ctrl", "cluster_ctrl"),
    ("event_unit", "event_unit"),
    ("timer", "timer"),
    ("stdout", "stdout"),
    ("icache_ctrl", "icache_ctrl"),
    ("soc", "soc"),
    ("l2", "l2"),
    ("redmule", "redmule"),
];

/// Wiring of the built-in blocks: (block, port, peer block, peer export). Applied when
/// both blocks exist.
pub const CLUSTER_WIRING: &[(&str, &str, &str, &str)] = &[
    ("redmule", "wide", "interconnect", "wide"),
    ("redmule", "tcdm", "interconnect", "tcdm"),
    ("redmule", "events", "event_unit", "events"),
    ("cluster_ctrl", "hci", "interconnect", "hci_config"),
    ("timer", "events", "event_unit", "events"),
];

/// Wiring of every core built for `program:`: (port, peer block, peer export).
pub const CORE_WIRING: &[(&str, &str, &str)] = &[
    ("tcdm", "interconnect", "narrow"),
    ("periph", "interconnect", "periph"),
    ("boot", "cluster_ctrl", "boot"),
    ("sleep_info", "event_unit", "sleep_info"),
    ("ifetch", "icache_ctrl", "ifetch"),
];

/// Command-line overrides of the scenario.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub max_cycles: Option<u64>,
    pub chrome: Option<PathBuf>,
    pub vcd: Option<PathBuf>,
}

/// A platform ready to run.
pub struct Platform {
    pub sim: Sim,
    pub domain: DomainId,
    pub clock: Clock,
    pub seed: u64,
    pub name: String,
    pub components: IndexMap<String, Box<dyn Component>>,
    pub bus: Rc<AddressMap>,
    pub max_cycles: Option<u64>,
    pub chrome: Option<PathBuf>,
    pub vcd: Option<PathBuf>,
}

/// The outcome of a run.
pub struct Outcome {
    pub report: RunReport,
    /// Cluster cycles simulated (the cycle in progress when the run ended).
    pub cycles: u64,
    /// The `--stats json` document.
    pub stats: Value,
    /// Errors from components' `finish` (bad results, output files that failed).
    pub finish_errors: Vec<String>,
    /// Errors writing the trace files.
    pub trace_errors: Vec<String>,
}

impl Outcome {
    /// Did the simulation fail (fault, deadlock, limit) or a component report an error?
    pub fn failed(&self) -> bool {
        self.report.end.is_failure() || !self.finish_errors.is_empty()
    }
}

impl Platform {
    /// Build, bind, map and elaborate everything the scenario describes.
    pub fn build(l: &Loaded, reg: &Registry, o: &Overrides) -> Result<Platform, ScenarioError> {
        let sc = &l.scenario;
        let p = &sc.platform;
        let clock = Clock::from_mhz(p.clock_mhz).ok_or_else(|| {
            l.error_at(
                &["platform", "clock_mhz"],
                "platform.clock_mhz: invalid frequency",
            )
        })?;
        let sim = Sim::new();
        let domain = sim.add_clock("cluster", clock);
        let seed = o.seed.unwrap_or(sc.seed);
        let platform_json = serde_json::to_value(p).unwrap_or(Value::Null);
        let ctx = BuildCtx {
            sim: &sim,
            domain,
            clock,
            seed,
            cores: p.cores,
            tcdm_base: p.tcdm_base,
            tcdm_size: p.tcdm_size_kib * 1024,
            tcdm_banks: p.tcdm_banks,
            platform: &platform_json,
            base_dir: &l.base_dir,
        };

        // Built-in blocks.
        let mut components: IndexMap<String, Box<dyn Component>> = IndexMap::new();
        for key in p.blocks.keys() {
            if !CLUSTER_BLOCKS
                .iter()
                .any(|(n, k)| n == key && reg.get(k).is_some())
            {
                let known: Vec<&str> = CLUSTER_BLOCKS
                    .iter()
                    .filter(|(_, k)| reg.get(k).is_some())
                    .map(|(n, _)| *n)
                    .collect();
                return Err(l.error_at(
                    &["platform", key],
                    format!(
                        "platform: unknown key '{key}', expected clock_mhz, cores, tcdm_size_kib, tcdm_banks, tcdm_base or a block: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        for (name, kind) in CLUSTER_BLOCKS {
            let Some(k) = reg.get(kind) else { continue };
            let params = p
                .blocks
                .get(*name)
                .cloned()
                .unwrap_or(serde_yaml::Value::Null);
            let c = (k.build)(&ctx, name, &params)
                .map_err(|e| l.error_at(&["platform", name], format!("platform.{name}: {e}")))?;
            components.insert(name.to_string(), c);
        }

        for (block, port, peer, export) in CLUSTER_WIRING {
            if components.contains_key(*block) && components.contains_key(*peer) {
                wire(&mut components, block, port, peer, export)
                    .map_err(|e| l.error_at(&["platform", block], e))?;
            }
        }

        // Cores running the program: core{i} of kind `core`, in index order so that their
        // interconnect ports have the RTL's round-robin order (cores first).
        let mut core_names = Vec::new();
        if let Some(prog) = &sc.program {
            let Some(k) = reg.get("core") else {
                return Err(l.error_at(&["program"], "program: no `core` kind is registered"));
            };
            // Relative to the scenario's folder: the core resolves it (joining here too
            // would join the folder twice when the scenario path is relative).
            let elf = prog.elf.clone();
            let cores: Vec<u32> = prog.cores.clone().unwrap_or_else(|| (0..p.cores).collect());
            for (n, i) in cores.iter().enumerate() {
                let mut params = match &prog.core_params {
                    serde_yaml::Value::Mapping(m) => m.clone(),
                    serde_yaml::Value::Null => Default::default(),
                    _ => {
                        return Err(l.error_at(
                            &["program", "core_params"],
                            "program.core_params: expected a mapping",
                        ))
                    }
                };
                params.insert("index".into(), (*i).into());
                params.insert("elf".into(), elf.display().to_string().into());
                params.insert("load_elf".into(), (n == 0).into());
                let name = format!("core{i}");
                let c = (k.build)(&ctx, &name, &serde_yaml::Value::Mapping(params))
                    .map_err(|e| l.error_at(&["program"], format!("program: {name}: {e}")))?;
                components.insert(name.clone(), c);
                core_names.push(name);
            }
        }
        for name in &core_names {
            for (port, peer, export) in CORE_WIRING {
                if components.contains_key(*peer) {
                    wire(&mut components, name, port, peer, export)
                        .map_err(|e| l.error_at(&["program"], e))?;
                }
            }
        }

        // Components of the scenario.
        for (i, spec) in sc.components.iter().enumerate() {
            if components.contains_key(&spec.name) {
                return Err(l.error_at(
                    &["components", &spec.name],
                    format!(
                        "components[{i}].name: '{}' is the name of a built-in block",
                        spec.name
                    ),
                ));
            }
            let Some(k) = reg.get(&spec.kind) else {
                return Err(l.error_at(
                    &["components", &spec.name, "kind"],
                    format!(
                        "components.{}.kind: unknown kind '{}', expected one of: {}",
                        spec.name,
                        spec.kind,
                        reg.names().join(", ")
                    ),
                ));
            };
            let c = (k.build)(&ctx, &spec.name, &spec.params).map_err(|e| {
                l.error_at(
                    &["components", &spec.name, "params"],
                    format!("components.{}.params: {e}", spec.name),
                )
            })?;
            components.insert(spec.name.clone(), c);
        }

        // Bindings.
        for spec in &sc.components {
            let mut bound = Vec::new();
            for (port, peer) in &spec.bind {
                let at = |m: String| l.error_at(&["components", &spec.name, "bind", port], m);
                let Some((peer_name, export)) = peer.split_once('.') else {
                    return Err(at(format!(
                        "components.{}.bind.{port}: expected 'component.port', got '{peer}'",
                        spec.name
                    )));
                };
                let Some(other) = components.get_mut(peer_name) else {
                    return Err(at(format!(
                        "components.{}.bind.{port}: no component named '{peer_name}'",
                        spec.name
                    )));
                };
                let pref = other.export(export).map_err(|e| {
                    at(format!(
                        "components.{}.bind.{port}: '{peer}': {e}",
                        spec.name
                    ))
                })?;
                let me = components.get_mut(&spec.name).expect("built above");
                me.bind(port, pref)
                    .map_err(|e| at(format!("components.{}.bind.{port}: {e}", spec.name)))?;
                bound.push(port.as_str());
            }
            let me = &components[&spec.name];
            for pi in me.ports() {
                if pi.required && !bound.contains(&pi.name) {
                    return Err(l.error_at(
                        &["components", &spec.name],
                        format!(
                            "components.{}.bind: port '{}' ({} port: {}) must be bound",
                            spec.name, pi.name, pi.kind, pi.doc
                        ),
                    ));
                }
            }
        }

        // The cluster bus.
        let mut bus = AddressMap::new();
        for (name, c) in &components {
            for m in c.mappings() {
                bus.add(format!("{name}.{}", m.name), m.base, m.size, m.target)
                    .map_err(|e| l.error_at(&["components", name], format!("address map: {e}")))?;
            }
        }
        let bus = Rc::new(bus);

        // Elaboration.
        for (name, c) in components.iter_mut() {
            let mut ecx = ElabCtx {
                sim: &sim,
                domain,
                clock,
                bus: &bus,
            };
            c.elaborate(&mut ecx).map_err(|e| {
                let path: Vec<&str> = if CLUSTER_BLOCKS.iter().any(|(n, _)| n == name) {
                    vec!["platform", name]
                } else {
                    vec!["components", name]
                };
                l.error_at(&path, format!("{name}: {e}"))
            })?;
        }

        Ok(Platform {
            sim,
            domain,
            clock,
            seed,
            name: sc.name.clone(),
            components,
            bus,
            max_cycles: o.max_cycles.or(sc.run.max_cycles),
            chrome: o.chrome.clone().or_else(|| sc.trace.chrome.clone()),
            vcd: o.vcd.clone().or_else(|| sc.trace.vcd.clone()),
        })
    }

    /// Spawn a daemon that reports progress on stderr (for long runs on a terminal).
    pub fn enable_progress(&self) {
        let sim = self.sim.clone();
        let clock = self.clock;
        let max = self.max_cycles;
        self.sim.spawn_daemon("progress", async move {
            let started = std::time::Instant::now();
            let mut last = started;
            loop {
                sim.wait_cycles(clock, 1 << 20).await;
                let now = std::time::Instant::now();
                if now.duration_since(last).as_millis() >= 250 {
                    last = now;
                    let c = clock.cycle_at(sim.now());
                    let rate = c as f64 / now.duration_since(started).as_secs_f64().max(1e-9);
                    match max {
                        Some(m) => eprint!("\r{c} / {m} cycles ({:.1} M cycles/s)   ", rate / 1e6),
                        None => eprint!("\r{c} cycles ({:.1} M cycles/s)   ", rate / 1e6),
                    }
                }
            }
        });
    }

    /// Run to the end, with the trace layers the scenario and overrides ask for.
    pub fn run(mut self) -> Outcome {
        let limit = self.max_cycles.map(|c| self.clock.time_of(c));
        let clock_fn: vp_traces::SimClock = Arc::new(vp_kernel::sim::current_time_ps);
        let mut trace_errors = Vec::new();
        let chrome = self.chrome.as_ref().and_then(|p| {
            vp_traces::chrome_layer(p, clock_fn.clone())
                .map_err(|e| trace_errors.push(format!("{}: {e}", p.display())))
                .ok()
        });
        let vcd = self.vcd.as_ref().and_then(|p| {
            vp_traces::vcd_layer(p, clock_fn.clone())
                .map_err(|e| trace_errors.push(format!("{}: {e}", p.display())))
                .ok()
        });
        let (summary, summary_handle) = vp_traces::summary_layer(Some(clock_fn.clone()));
        let (chrome_layer, chrome_guard) = match chrome {
            Some((l, g)) => (Some(l), Some(g)),
            None => (None, None),
        };
        let (vcd_layer, vcd_guard) = match vcd {
            Some((l, g)) => (Some(l), Some(g)),
            None => (None, None),
        };
        let subscriber = tracing_subscriber::registry()
            .with(chrome_layer)
            .with(vcd_layer)
            .with(summary.with_filter(LevelFilter::WARN));
        let report = tracing::subscriber::with_default(subscriber, || self.sim.run(limit));
        let end_ps = report.time.ps();
        for g in [chrome_guard, vcd_guard].into_iter().flatten() {
            if let Err(e) = g.finish_at(end_ps) {
                trace_errors.push(e.to_string());
            }
        }
        let mut finish_errors = Vec::new();
        for (name, c) in self.components.iter_mut() {
            if let Err(e) = c.finish(&self.sim) {
                finish_errors.push(format!("{name}: {e}"));
            }
        }
        let cycles = self.clock.cycle_at(report.time);
        let mut comps = serde_json::Map::new();
        for (name, c) in &self.components {
            let s = c.stats();
            comps.insert(name.clone(), if s.is_null() { json!({}) } else { s });
        }
        let summary = summary_handle.snapshot();
        let stats = json!({
            "scenario": self.name,
            "seed": self.seed,
            "end": end_json(&report.end),
            "cycles": cycles,
            "time_ps": report.time.ps(),
            "clock_mhz": self.clock.mhz(),
            "components": Value::Object(comps),
            "warnings": summary.levels.warn,
            "errors": summary.levels.error,
            "first_error": summary.first_error.as_ref().map(|m| m.text.clone()),
        });
        Outcome {
            report,
            cycles,
            stats,
            finish_errors,
            trace_errors,
        }
    }

    /// Simulated time at the edge of cluster cycle `c`.
    pub fn time_of(&self, c: u64) -> SimTime {
        self.clock.time_of(c)
    }
}

impl Drop for Platform {
    /// The simulation and the components hold each other; let go of the simulation's
    /// side so that both are freed (see [`Sim::release`]).
    fn drop(&mut self) {
        self.sim.release();
    }
}

/// Bind `from.port` to the port `peer` exports as `export`.
fn wire(
    components: &mut IndexMap<String, Box<dyn Component>>,
    from: &str,
    port: &str,
    peer: &str,
    export: &str,
) -> Result<(), String> {
    let at = |e: String| format!("wiring {from}.{port} -> {peer}.{export}: {e}");
    let pref = components[peer].export(export).map_err(at)?;
    components[from].bind(port, pref).map_err(at)
}

/// The `end` object of the stats document.
pub fn end_json(e: &RunEnd) -> Value {
    match e {
        RunEnd::Finished => json!({"kind": "finished"}),
        RunEnd::Stopped(r) => json!({"kind": "stopped", "reason": r}),
        RunEnd::Fault { source, message } => {
            json!({"kind": "fault", "source": source, "message": message})
        }
        RunEnd::Limit => json!({"kind": "cycle_limit"}),
        RunEnd::Deadlock(w) => json!({"kind": "deadlock", "waiting": w}),
        RunEnd::DeltaLimit => json!({"kind": "delta_limit"}),
    }
}

/// One line describing how a run ended.
pub fn describe_end(e: &RunEnd, cycles: u64) -> String {
    match e {
        RunEnd::Finished => format!("finished at cycle {cycles}"),
        RunEnd::Stopped(r) => format!("stopped at cycle {cycles}: {r}"),
        RunEnd::Fault { source, message } => {
            format!("FAULT at cycle {cycles} in {source}: {message}")
        }
        RunEnd::Limit => format!("cycle limit reached at cycle {cycles}"),
        RunEnd::Deadlock(w) => format!(
            "DEADLOCK at cycle {cycles}: nothing is scheduled and\n  {}",
            w.join("\n  ")
        ),
        RunEnd::DeltaLimit => {
            format!("delta-cycle limit hit at cycle {cycles} (a zero-delay loop)")
        }
    }
}
