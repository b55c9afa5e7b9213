//! Print the model's per-cycle port trace in the format of `rtl-traces/*.trace.txt`.
//!
//! `cargo run -p vp-redmule --example schedule_trace -- M N K [X W Z]` (byte offsets of the
//! buffers; cycle numbers are printed from TRIGGER + 36 as in the RTL traces). Environment:
//! `GEO="rows cols stages"`, `ARITH_TO_TRIGGER=cycles`, `MAXC=cycles` (prints TIMEOUT), `OP=0`
//! (MATMUL, no Y), `REFUSE=file` (cycles whose grant is refused), `RTL=1` (RTL request retirement),
//! `POST=cycles` (keep printing this many cycles after the event, `DRAINED` once nothing is left
//! to issue).
mod common;

use vp_redmule::schedule::{JobShape, Schedule, StartInfo};

fn main() {
    let a: Vec<u32> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("numbers"))
        .collect();
    let (m, n, k) = (a[0], a[1], a[2]);
    let (x, w, z) = if a.len() >= 6 {
        (a[3], a[4], a[5])
    } else {
        (0, 2 * m * n, 2 * m * n + 2 * n * k)
    };
    let job = JobShape {
        m,
        n,
        k,
        x,
        w,
        z,
        elem_bytes: 2,
    };
    let geom = common::geometry_from_env();
    let arith_to_trigger = std::env::var("ARITH_TO_TRIGGER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let start = StartInfo {
        arith_to_trigger,
        // OP=0: MATMUL (no Y)
        reads_y: std::env::var("OP").map_or(true, |v| v != "0"),
    };
    // REFUSE=file: cycles (RTL trace numbering) in which the memory refuses the grant; RTL=1
    // reproduces the RTL's request retirement.
    let refuse: std::collections::HashSet<u64> = std::env::var("REFUSE")
        .map(|f| {
            std::fs::read_to_string(f)
                .expect("REFUSE file")
                .split_whitespace()
                .map(|x| x.parse().expect("cycle"))
                .collect()
        })
        .unwrap_or_default();
    let rtl = std::env::var("RTL").is_ok_and(|v| v == "1");
    let mut s = Schedule::new(geom, job, start)
        .expect("job")
        .with_rtl_request_retirement(rtl);
    let base = 36u64;
    let max: u64 = std::env::var("MAXC")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let post: u64 = std::env::var("POST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut evt_at = None;
    let mut drained = false;
    let mut granted = true;
    loop {
        let t = s.now();
        let o = s.cycle(granted);
        granted = true;
        if let Some(r) = o.req {
            granted = !refuse.contains(&(t + base));
            println!(
                "{} {} {:08x} {}",
                t + base,
                if r.write { 'W' } else { 'R' },
                r.addr,
                u8::from(granted)
            );
        }
        if o.stall.is_some() {
            println!("{} STALL", t + base);
        }
        if o.done {
            println!("{} EVT", t + base);
            evt_at = Some(t);
        }
        if post > 0 && evt_at.is_some() && !drained && s.is_drained() {
            println!("{} DRAINED", t + base);
            drained = true;
        }
        if evt_at.is_some_and(|e| t >= e + post) {
            break;
        }
        if t > max {
            println!("{} TIMEOUT", t + base);
            break;
        }
    }
}
