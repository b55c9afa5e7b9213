//! Print the model's per-cycle port trace in the format of `rtl-traces/*.trace.txt`.
//!
//! `cargo run -p vp-redmule --example schedule_trace -- M N K [X W Z]` (byte offsets of the
//! buffers; cycle numbers are printed from TRIGGER + 36 as in the RTL traces).
use vp_redmule::schedule::{Geometry, JobShape, Schedule, StartInfo};

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
    let mut s = Schedule::new(Geometry::REDMULE, job, StartInfo::default()).expect("job");
    let base = 36u64;
    let max: u64 = std::env::var("MAXC")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let mut granted = true;
    loop {
        let t = s.now();
        let o = s.cycle(granted);
        granted = true;
        if let Some(r) = o.req {
            println!(
                "{} {} {:08x} 1",
                t + base,
                if r.write { 'W' } else { 'R' },
                r.addr
            );
        }
        if o.stall.is_some() {
            println!("{} STALL", t + base);
        }
        if o.done {
            println!("{} EVT", t + base);
            break;
        }
        if t > max {
            println!("{} TIMEOUT", t + base);
            break;
        }
    }
}
