//! A YAML job past the RTL's 16-bit counters is refused when the scenario is loaded.
//!
//! On the default 12 x 4 x 3 RedMulE (12 rows, 16 columns per tile) `redmule_memory_scheduler.sv`
//! counts X chunk reads in 16 bits: `ceil(M / 12) * ceil(K / 16) * ceil(N / 16)` must stay at
//! most 65,535 (see components/redmule/tests/rtl_limits.rs for all the limits). FP8 768 x 512 x
//! 512 needs 64 * 32 * 32 = 65,536 chunks and its X, W and Z fill a 1 MiB TCDM exactly; with
//! K = 496, 64 * 31 * 32 = 63,488 chunks are accepted.

use std::path::Path;

use redmule_vp::{Loaded, Overrides, Platform};
use vp_kernel::RunEnd;

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

/// Two jobs on a 2 x 2 x 1 array (2 rows, D = 2 x (1 + 1) = 4 columns per tile): first FP8
/// 16 x `n` x 16, whose W stream reads ceil(16 / 2) * ceil(16 / 4) * (n rounded up to 2) =
/// 32 * n words, then an 8 x 8 x 8 FP16 GEMM, with no SOFT_CLEAR between them.
fn two_jobs(n: u32) -> String {
    format!(
        r#"name: w-source
platform: {{ redmule: {{ rows: 2, cols: 2, stages: 1 }} }}
components:
  - name: driver
    kind: redmule_driver
    params:
      matrices:
        X: {{ rows: 16, cols: {n}, addr: 0x10000000, dtype: fp8 }}
        W: {{ rows: {n}, cols: 16, addr: 0x10008000, dtype: fp8 }}
        Z: {{ rows: 16, cols: 16, addr: 0x10010000, dtype: fp8 }}
        A: {{ rows: 8, cols: 8, addr: 0x10011000 }}
        B: {{ rows: 8, cols: 8, addr: 0x10011100 }}
        C: {{ rows: 8, cols: 8, addr: 0x10011200 }}
      jobs:
        - {{ x: X, w: W, z: Z, fmt: fp8, check: true, wait: true }}
        - {{ x: A, w: B, z: C, check: true }}
    bind: {{ tcdm: interconnect.tcdm, done: redmule.done, regs: redmule.regs }}
"#
    )
}

#[test]
fn after_a_w_stream_past_16_bits_the_next_job_stops_the_run() {
    // 32 * 2046 = 65,472 W words: the W source ends normally and both jobs run.
    let reg = redmule_vp::builtin_registry();
    let run = |yaml: &str| {
        let l = Loaded::from_str(yaml, "w.yaml", Path::new(".")).unwrap();
        Platform::build(&l, &reg, &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .run()
    };
    let out = run(&two_jobs(2046));
    assert!(!out.report.end.is_failure(), "{:?}", out.report.end);
    assert!(out.finish_errors.is_empty(), "{:?}", out.finish_errors);
    assert_eq!(out.stats["components"]["driver"]["jobs_done"], 2);
    assert_eq!(out.stats["components"]["driver"]["mismatches"], 0);
    // 32 * 2048 = 65,536: the first job completes, its W source stays in STREAMER_DONE and the
    // RTL would never start the second one's W stream (Verilator: no event after 300,000
    // cycles without SOFT_CLEAR): the run stops naming the cause and the second job's registers.
    let out = run(&two_jobs(2048));
    match out.report.end {
        RunEnd::Fault { source, message } => {
            assert_eq!(source, "redmule");
            assert!(
                message.contains("job 1 cannot start")
                    && message.contains("65536 W words")
                    && message.contains("SOFT_CLEAR")
                    && message.contains("MCFG0=0x00080008"),
                "{message}"
            );
        }
        e => panic!("expected a fault, got {e:?}"),
    }
    assert_eq!(out.stats["components"]["driver"]["jobs_done"], 1);
}
