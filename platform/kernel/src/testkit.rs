//! A test bench for one block: build components from their kinds and YAML params, put their
//! mappings on a bus and elaborate them, without a scenario or the platform assembly. For
//! the unit tests of component crates.

use std::path::Path;
use std::rc::Rc;

use crate::clocked::DomainId;
use crate::component::{BuildCtx, Component, ComponentKind, ElabCtx};
use crate::tlm::AddressMap;
use crate::{Clock, Sim};

/// One simulation with a cluster clock and the paper's cluster parameters.
pub struct TestBench {
    pub sim: Sim,
    pub domain: DomainId,
    pub clock: Clock,
    pub seed: u64,
    pub cores: u32,
    pub tcdm_base: u32,
    pub tcdm_size: u32,
    pub tcdm_banks: u32,
    pub platform: serde_json::Value,
}

impl TestBench {
    /// A bench clocked at `mhz` (8 cores, 128 KiB TCDM in 16 banks at 0x10000000, seed 1).
    pub fn new(mhz: f64) -> TestBench {
        let sim = Sim::new();
        let clock = Clock::from_mhz(mhz).expect("a positive test clock");
        let domain = sim.add_clock("cluster", clock);
        TestBench {
            sim,
            domain,
            clock,
            seed: 1,
            cores: 8,
            tcdm_base: 0x1000_0000,
            tcdm_size: 128 * 1024,
            tcdm_banks: 16,
            platform: serde_json::Value::Null,
        }
    }

    /// The build context a component of this bench sees.
    pub fn ctx(&self) -> BuildCtx<'_> {
        BuildCtx {
            sim: &self.sim,
            domain: self.domain,
            clock: self.clock,
            seed: self.seed,
            cores: self.cores,
            tcdm_base: self.tcdm_base,
            tcdm_size: self.tcdm_size,
            tcdm_banks: self.tcdm_banks,
            platform: &self.platform,
            base_dir: Path::new("."),
        }
    }

    /// Build a component of `kind` named `name` from YAML params (`""` for none).
    pub fn build(
        &self,
        kind: &ComponentKind,
        name: &str,
        params: &str,
    ) -> Result<Box<dyn Component>, String> {
        let v: serde_yaml::Value = serde_yaml::from_str(params).map_err(|e| e.to_string())?;
        (kind.build)(&self.ctx(), name, &v)
    }

    /// Map every component's ranges on a bus, then elaborate them in order.
    pub fn elaborate(&self, comps: &mut [&mut dyn Component]) -> Result<Rc<AddressMap>, String> {
        let mut map = AddressMap::new();
        for c in comps.iter() {
            for m in c.mappings() {
                map.add(m.name, m.base, m.size, m.target)
                    .map_err(|e| e.to_string())?;
            }
        }
        let bus = Rc::new(map);
        for c in comps.iter_mut() {
            c.elaborate(&mut ElabCtx {
                sim: &self.sim,
                domain: self.domain,
                clock: self.clock,
                bus: &bus,
            })?;
        }
        Ok(bus)
    }
}

/// The RTL simulator named by environment variable `var`, for a comparison with the RTL;
/// without it, says that the test was skipped and how to build one (`build`, the script).
pub fn rtl_sim(var: &str, build: &str) -> Option<std::path::PathBuf> {
    let sim = std::env::var_os(var).map(std::path::PathBuf::from);
    if sim.is_none() {
        eprintln!("skipped: {var} is not set ({build})");
    }
    sim
}

/// The count in environment variable `var`, else `default`: how many random cases a test
/// runs (`HCI_RUNS=1000`, ...).
pub fn env_count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Run `program` with `input` on its standard input and collect its output (a simulator
/// of an RTL comparison). The input is written from a thread, so that a program answering
/// as it reads cannot block on a full output pipe. Panics naming the program if it cannot
/// be started.
pub fn pipe_through(program: &Path, input: String) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the program's output");
    writer
        .join()
        .expect("the input writer")
        .expect("the program's input");
    out
}

/// xorshift64*: a tiny, fixed, seedable stream for tests' random cases (the same cases on
/// every run and machine; not for simulation, whose generators are seeded PCGs).
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (modulo bias is fine for test cases).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 10_000 < pct * 100
    }
    /// One of `v`.
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    /// In `[0, 1)`, 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
