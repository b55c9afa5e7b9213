//! A YAML job past the RTL's 16-bit counters is refused when the scenario is loaded.
//!
//! On the default 12 x 4 x 3 RedMulE (12 rows, 16 columns per tile) `redmule_memory_scheduler.sv`
//! counts X chunk reads in 16 bits: `ceil(M / 12) * ceil(K / 16) * ceil(N / 16)` must stay at
//! most 65,535 (see components/redmule/tests/rtl_limits.rs for all the limits). FP8 768 x 512 x
//! 512 needs 64 * 32 * 32 = 65,536 chunks and its X, W and Z fill a 1 MiB TCDM exactly; with
//! K = 496, 64 * 31 * 32 = 63,488 chunks are accepted.

use std::path::Path;

use redmule_vp::{Loaded, Overrides, Platform};

fn scenario(k: u32) -> String {
    let (m, n) = (768u32, 512u32);
    let base = 0x1000_0000u32;
    let (xa, wa) = (base, base + m * n);
    let za = wa + n * k;
    format!(
        r#"name: limits
platform: {{ tcdm_size_kib: 1024 }}
components:
  - name: driver
    kind: redmule_driver
    params:
      matrices:
        X: {{ rows: {m}, cols: {n}, addr: {xa:#x}, dtype: fp8, init: zeros }}
        W: {{ rows: {n}, cols: {k}, addr: {wa:#x}, dtype: fp8, init: zeros }}
        Z: {{ rows: {m}, cols: {k}, addr: {za:#x}, dtype: fp8, init: zeros }}
      jobs:
        - {{ x: X, w: W, z: Z, fmt: fp8 }}
    bind: {{ tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }}
"#
    )
}

fn build(yaml: &str) -> Result<(), String> {
    let reg = redmule_vp::builtin_registry();
    let l = Loaded::from_str(yaml, "limits.yaml", Path::new(".")).map_err(|e| e.to_string())?;
    Platform::build(&l, &reg, &Overrides::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn a_job_past_the_x_chunk_counter_is_refused_at_load_time() {
    let e = build(&scenario(512)).expect_err("rejected");
    assert!(
        e.contains("jobs[0]")
            && e.contains("65536 X chunk reads")
            && e.contains("redmule_memory_scheduler.sv")
            && e.contains("M=768 N=512 K=512"),
        "{e}"
    );
    build(&scenario(496)).unwrap_or_else(|e| panic!("{e}"));
}
