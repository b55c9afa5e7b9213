//! The RTL's 16-bit stream counters: which jobs RedMulE can run, and where it stops.
//!
//! With the default 12 x 4 x 3 array (ARRAY_WIDTH 12 rows, D = 4 x (3 + 1) = 16 columns per
//! tile), `redmule_tiler.sv` derives from M, N, K (MCFG0/MCFG1):
//! - `Z_TOT_LEN = 12 * ceil(M / 12) * ceil(K / 16)` Z stores. `hci_core_sink.sv` counts its
//!   stores in a 16-bit `address_cnt_q` (TRANS_CNT = 16) and ends only when it equals the 32-bit
//!   `tot_len`: past 65,535 stores the sink never ends, `redmule_ctrl.sv` never leaves COMPUTING
//!   and no event comes. Under Verilator 24 x 8 x 43680 (12 * 2 * 2730 = 65,520 stores) raised
//!   its event at cycle 247,638 (trace numbering, TRIGGER + 36) and 24 x 8 x 43681
//!   (12 * 2 * 2731 = 65,544) had none after 400,000 cycles.
//! - `TOT_X_READ = ceil(M / 12) * ceil(K / 16) * ceil(N / 16)` X chunks.
//!   `redmule_memory_scheduler.sv` restarts X while its 16-bit `tot_x_read_q` is below it: past
//!   65,535 the counter wraps and X is read again after the last chunk, a stream that never ends.
//! - `W_TOT_LEN = ceil(M / 12) * ceil(K / 16) * (N rounded up to 4)` W words. The W source's
//!   16-bit `stream_cnt_q` (`hci_core_source.sv`) never equals a larger `tot_len`, so the source
//!   stays in STREAMER_DONE, but it has issued every address (the address generator counts in
//!   32 bits) and the job completes: under Verilator 24 x 32765 x 16 (2 * 1 * 32768 = 65,536 W
//!   words) raised its event at cycle 262,288 and 24 x 32764 x 16 (65,528) at 262,256, as does
//!   256 x 256 x 256 (90,112 W words) at 360,592, each equal to the model's. It is no limit.

use vp_redmule::regs::{Job, JOB_REGS};
use vp_redmule::schedule::{check_job, run_with, Geometry, JobShape, Schedule, StartInfo};

/// The RTL traces number cycles from TRIGGER + 36; the model from TRIGGER.
const TRACE_OFFSET: u64 = 36;

fn shape(m: u32, n: u32, k: u32) -> JobShape {
    JobShape {
        m,
        n,
        k,
        x: 0,
        w: 2 * m * n,
        z: 2 * m * n + 2 * n * k,
        elem_bytes: 2,
    }
}

/// Event cycle (RTL trace numbering) of a run with the memory always granting; the run must
/// also drain (every access issued), else `run_with` gives up.
fn event_cycle(m: u32, n: u32, k: u32) -> u64 {
    let mut s = Schedule::new(Geometry::REDMULE, shape(m, n, k), StartInfo::default())
        .unwrap_or_else(|e| panic!("{m}x{n}x{k}: {e}"));
    let sum =
        run_with(&mut s, 2_000_000, |_, _| true).unwrap_or_else(|e| panic!("{m}x{n}x{k}: {e}"));
    sum.cycles + TRACE_OFFSET
}

#[test]
fn the_largest_z_stream_completes_at_the_rtl_cycle() {
    // 12 * ceil(24 / 12) * ceil(43680 / 16) = 12 * 2 * 2730 = 65,520 <= 65,535 stores.
    assert_eq!(event_cycle(24, 8, 43680), 247_638);
}

#[test]
fn one_z_tile_more_is_rejected_naming_the_counter() {
    // K = 43681 needs a 2731st column tile: 12 * 2 * 2731 = 65,544 stores.
    let e = Schedule::new(Geometry::REDMULE, shape(24, 8, 43681), StartInfo::default())
        .expect_err("rejected");
    assert!(
        e.contains("65544 Z stores") && e.contains("hci_core_sink.sv"),
        "{e}"
    );
    // The same limit along M: ceil(M / 12) * ceil(K / 16) = 5461 tiles is the most.
    assert!(check_job(Geometry::REDMULE, &shape(12 * 5461, 1, 16)).is_ok());
    assert!(check_job(Geometry::REDMULE, &shape(12 * 5461 + 1, 1, 16)).is_err());
}

#[test]
fn a_w_stream_past_16_bits_completes_at_the_rtl_cycle() {
    // 2 * 1 * 32764 = 65,528 W words, then 2 * 1 * 32768 = 65,536: the W source never leaves
    // STREAMER_DONE, the job ends at the RTL's cycle all the same and the model drains.
    assert_eq!(event_cycle(24, 32764, 16), 262_256);
    assert_eq!(event_cycle(24, 32765, 16), 262_288);
}

#[test]
fn x_chunk_reads_are_limited_to_16_bits() {
    // ceil(768 / 12) * ceil(1008 / 16) * ceil(256 / 16) = 64 * 63 * 16 = 64,512 chunks: accepted;
    // with K = 1024, 64 * 64 * 16 = 65,536: rejected (12 * 64 * 64 = 49,152 Z stores is fine).
    assert!(check_job(Geometry::REDMULE, &shape(768, 256, 1008)).is_ok());
    let e = check_job(Geometry::REDMULE, &shape(768, 256, 1024)).expect_err("rejected");
    assert!(
        e.contains("65536 X chunk reads") && e.contains("redmule_memory_scheduler.sv"),
        "{e}"
    );
}

#[test]
fn a_committed_job_past_the_limit_is_refused_naming_its_registers() {
    // FP16 GEMM 24 x 8 x 43681 (X 384 bytes, W 698,896, Z 2,096,688) in a 4 MiB window:
    // decoding alone accepts it.
    let (m, n, k) = (24u32, 8u32, 43681u32);
    let regs: [u32; JOB_REGS] = [
        0x1000_0000,
        0x1000_0400,
        0x100B_0000,
        (k << 16) | m,
        n,
        1 << 7,
    ];
    let base = 0x1000_0000;
    let size = 1 << 22;
    assert!(Job::decode(&regs, base, size).is_ok());
    let e = Job::decode_checked(&regs, base, size, Geometry::REDMULE).expect_err("rejected");
    assert!(
        e.contains("MCFG0=0xaaa10018") && e.contains("65544 Z stores") && e.contains("65535"),
        "{e}"
    );
    // One column tile less is accepted.
    let mut ok = regs;
    ok[3] = (43680 << 16) | m;
    assert!(Job::decode_checked(&ok, base, size, Geometry::REDMULE).is_ok());
}
