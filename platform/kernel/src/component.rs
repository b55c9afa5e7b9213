//! Components: the trait every hardware block implements, the registry of component kinds
//! and the port handles that the platform binds by name.
//!
//! Life of a component in a platform built from a scenario:
//! 1. **build**: the registry finds its kind by name and calls the kind's `build` with the
//!    component's YAML `params` (rejecting unknown keys) and a [`BuildCtx`].
//! 2. **bind**: for each `bind: { port: "other.export" }` entry of the scenario, the
//!    platform asks `other` to [`Component::export`] a port and hands it to this component's
//!    [`Component::bind`]. Ports are typed handles ([`PortRef`]); a kind mismatch is an error
//!    naming both sides.
//! 3. **map**: [`Component::mappings`] lists the memory-mapped targets the component puts
//!    on the cluster bus.
//! 4. **elaborate**: with everything bound and the bus complete, the component starts its
//!    processes and clocked participants ([`Component::elaborate`]).
//! 5. **run**, then **report**: [`Component::stats`] and [`Component::finish`].
//!
//! A component depends on this crate only, never on a sibling component: components meet
//! through ports. A researcher's own component is one type implementing [`Component`] and
//! one [`ComponentKind`] registered in a [`Registry`] before the platform is built.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::clocked::DomainId;
use crate::sim::Sim;
use crate::time::Clock;
use crate::tlm::{AddressMap, TargetRef};

/// A typed, shareable port handle. `kind` names the protocol ("narrow", "wide", "target",
/// "event", or a component's own) for error messages and checks.
#[derive(Clone)]
pub struct PortRef {
    kind: &'static str,
    obj: Rc<dyn Any>,
}

impl fmt::Debug for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortRef({})", self.kind)
    }
}

impl PortRef {
    pub fn new<T: Any>(kind: &'static str, obj: Rc<T>) -> PortRef {
        PortRef { kind, obj }
    }
    /// A memory-mapped target as a port of kind "target".
    pub fn target(t: TargetRef) -> PortRef {
        PortRef::new("target", Rc::new(t))
    }
    pub fn kind(&self) -> &'static str {
        self.kind
    }
    /// The handle as `T`, or an error naming the expected and actual kinds.
    pub fn get<T: Any>(&self, expected_kind: &str) -> Result<Rc<T>, String> {
        if self.kind != expected_kind {
            return Err(format!(
                "expected a port of kind '{expected_kind}', got '{}'",
                self.kind
            ));
        }
        self.obj.clone().downcast::<T>().map_err(|_| {
            format!(
                "port of kind '{}' does not carry the expected type",
                self.kind
            )
        })
    }
    /// The handle of a "target" port.
    pub fn get_target(&self) -> Result<TargetRef, String> {
        self.get::<TargetRef>("target").map(|t| (*t).clone())
    }
}

/// Declaration of a port a component takes (for listing and for checking that every
/// required port is bound).
#[derive(Clone, Debug)]
pub struct PortInfo {
    pub name: &'static str,
    pub kind: &'static str,
    pub required: bool,
    pub doc: &'static str,
}

/// A memory-mapped range a component puts on the cluster bus.
#[derive(Clone)]
pub struct MapEntry {
    pub name: String,
    pub base: u64,
    pub size: u64,
    pub target: TargetRef,
}

/// What the platform tells a component when it builds it.
pub struct BuildCtx<'a> {
    pub sim: &'a Sim,
    /// The cluster clock domain and its clock.
    pub domain: DomainId,
    pub clock: Clock,
    /// The scenario seed; derive a per-component seed with [`BuildCtx::seed_for`].
    pub seed: u64,
    /// Number of cores of the cluster.
    pub cores: u32,
    /// TCDM base address, size in bytes and bank count.
    pub tcdm_base: u32,
    pub tcdm_size: u32,
    pub tcdm_banks: u32,
    /// The scenario's `platform` section, for kinds that read more of it.
    pub platform: &'a serde_json::Value,
    /// Folder of the scenario file (relative paths in params resolve from here).
    pub base_dir: &'a std::path::Path,
}

impl BuildCtx<'_> {
    /// A seed for the component at `path`, from the scenario seed (see [`crate::rng`]).
    pub fn seed_for(&self, path: &str) -> u64 {
        crate::rng::derive_seed(self.seed, path)
    }
}

/// Parse a component's YAML params into `T` (which should use
/// `#[serde(deny_unknown_fields)]`). A missing params mapping counts as empty.
pub fn parse_params<T: DeserializeOwned>(v: &serde_yaml::Value) -> Result<T, String> {
    let v = if v.is_null() {
        serde_yaml::Value::Mapping(Default::default())
    } else {
        v.clone()
    };
    serde_yaml::from_value(v).map_err(|e| e.to_string())
}

/// Check the base address of a register window from a component's parameters: word
/// aligned, with the window's `size` bytes below 4 GiB. The error names `field`.
pub fn check_window(field: &str, base: u32, size: u64) -> Result<(), String> {
    if !base.is_multiple_of(4) || base as u64 + size > 1 << 32 {
        return Err(format!(
            "{field}: {base:#x} must be word aligned and leave {size:#x} bytes below 4 GiB"
        ));
    }
    Ok(())
}

/// What a component sees when it elaborates.
pub struct ElabCtx<'a> {
    pub sim: &'a Sim,
    pub domain: DomainId,
    pub clock: Clock,
    /// The cluster bus: every component's mappings.
    pub bus: &'a Rc<AddressMap>,
}

/// A hardware block (or a workload driver, or a monitor).
pub trait Component {
    /// The name of its kind in the registry.
    fn kind(&self) -> &'static str;

    /// Ports this component takes, for `list-components` and binding checks.
    fn ports(&self) -> Vec<PortInfo> {
        Vec::new()
    }

    /// Give a port of this component to another one. A component may hand out a fresh port
    /// for each call (an interconnect's "narrow" gives the next free initiator port).
    fn export(&mut self, port: &str) -> Result<PortRef, String> {
        Err(format!(
            "component of kind '{}' exports no port '{port}'",
            self.kind()
        ))
    }

    /// Connect one of this component's ports to a peer's export.
    fn bind(&mut self, port: &str, peer: PortRef) -> Result<(), String> {
        let _ = peer;
        Err(format!(
            "component of kind '{}' has no port '{port}'",
            self.kind()
        ))
    }

    /// Memory-mapped targets it puts on the cluster bus.
    fn mappings(&self) -> Vec<MapEntry> {
        Vec::new()
    }

    /// Start processes and clocked participants. Called once, after binding and mapping.
    /// Passive blocks (register files, memories) need none.
    fn elaborate(&mut self, cx: &mut ElabCtx<'_>) -> Result<(), String> {
        let _ = cx;
        Ok(())
    }

    /// Statistics for `--stats` (an object; `null` for none).
    fn stats(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Called once after the run (write output files, final checks). Errors are reported
    /// as bad results, not as faults.
    fn finish(&mut self, sim: &Sim) -> Result<(), String> {
        let _ = sim;
        Ok(())
    }
}

/// A builder function of a component kind.
pub type BuildFn =
    fn(&BuildCtx<'_>, &str, &serde_yaml::Value) -> Result<Box<dyn Component>, String>;

/// A kind of component the platform can instantiate from YAML.
#[derive(Clone)]
pub struct ComponentKind {
    pub name: &'static str,
    /// One line for `list-components`.
    pub summary: &'static str,
    /// The params it takes, one `key: meaning (default)` per line.
    pub params: &'static str,
    pub build: BuildFn,
}

/// The registry of component kinds, by name (sorted, so listings are stable).
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, ComponentKind>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }
    /// Add a kind; a kind of the same name is replaced (so a user can override a built-in).
    pub fn register(&mut self, kind: ComponentKind) -> &mut Self {
        self.kinds.insert(kind.name, kind);
        self
    }
    pub fn get(&self, name: &str) -> Option<&ComponentKind> {
        self.kinds.get(name)
    }
    pub fn kinds(&self) -> impl Iterator<Item = &ComponentKind> {
        self.kinds.values()
    }
    pub fn names(&self) -> Vec<&'static str> {
        self.kinds.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::check_window;

    #[test]
    fn a_window_is_word_aligned_and_below_4_gib() {
        assert_eq!(check_window("base", 0x1020_0000, 0x400), Ok(()));
        // the last window that fits ends exactly at 4 GiB
        assert_eq!(check_window("base", 0xFFFF_FC00, 0x400), Ok(()));
        let e = check_window("demux_base", 0x1020_0002, 0x400).unwrap_err();
        assert_eq!(
            e,
            "demux_base: 0x10200002 must be word aligned and leave 0x400 bytes below 4 GiB"
        );
        assert!(check_window("base", 0xFFFF_FC04, 0x400).is_err());
    }
}
