//! Interpreter speed on a tight ALU loop and on a load/store loop over direct memory.
//!
//! ```text
//!   Hart --run(bus, limit)--> FlatRam (every address Direct, 0 wait states)
//! ```
//!
//! Run with `cargo run -p vp-core --release --example alu_rate`.

use std::time::Instant;
use vp_core::{DataBus, Hart, Route, Stop};

/// 64 KiB of RAM at 0x1c000000, all of it fixed-latency.
struct FlatRam {
    bytes: Vec<u8>,
}

const BASE: u32 = 0x1c00_0000;

impl FlatRam {
    fn word_at(&self, off: usize) -> Option<u32> {
        let b = self.bytes.get(off..off + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl DataBus for FlatRam {
    fn route(&mut self, addr: u32, _write: bool) -> Route {
        if addr.wrapping_sub(BASE) < self.bytes.len() as u32 {
            Route::Direct { wait_cycles: 0 }
        } else {
            Route::Unmapped
        }
    }
    fn read(&mut self, addr: u32, _be: u8) -> u32 {
        self.word_at(addr.wrapping_sub(BASE) as usize).unwrap_or(0)
    }
    fn write(&mut self, addr: u32, be: u8, data: u32) {
        let off = addr.wrapping_sub(BASE) as usize;
        for k in 0..4 {
            if be & (1 << k) != 0 {
                if let Some(b) = self.bytes.get_mut(off + k) {
                    *b = (data >> (8 * k)) as u8;
                }
            }
        }
    }
    fn fetch(&mut self, pc: u32) -> Option<u32> {
        self.word_at(pc.wrapping_sub(BASE) as usize)
    }
}

fn measure(name: &str, code: &[u32], limit: u64) {
    let mut ram = FlatRam {
        bytes: vec![0; 0x1_0000],
    };
    for (k, w) in code.iter().enumerate() {
        ram.bytes[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
    }
    let mut hart = Hart::new(0, 0, BASE);
    hart.x[10] = BASE + 0x8000; // a0: data pointer
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let stop = hart.run(&mut ram, limit);
    let wall = t.elapsed().as_secs_f64();
    // On a loaded machine the thread's own CPU time is the fairer denominator.
    let dt = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    assert_eq!(stop, Stop::Limit);
    println!(
        "{name:>10}: {:>10} instructions, {:>10} cycles, {dt:.3} s CPU ({wall:.3} s wall) = {:.0} M instructions/s ({:.0} M cycles/s)",
        hart.instret,
        hart.cycle,
        hart.instret as f64 / dt / 1e6,
        hart.cycle as f64 / dt / 1e6
    );
}

/// CPU time of this thread (Linux `/proc/thread-self/schedstat`, first field in ns).
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

fn main() {
    // Optional argument: the cycle budget of each loop (default 400 M).
    let limit = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(400_000_000);
    // loop: addi a1, a1, 1; xor a2, a2, a1; add a3, a3, a2; slli a4, a3, 3;
    //       sub a5, a4, a1; and a6, a5, a3; or a7, a6, a2; bne zero, a0, loop
    let alu = [
        0x0015_8593, // addi a1, a1, 1
        0x00b6_4633, // xor a2, a2, a1
        0x00c6_86b3, // add a3, a3, a2
        0x0036_9713, // slli a4, a3, 3
        0x40b7_07b3, // sub a5, a4, a1
        0x00d7_f833, // and a6, a5, a3
        0x00c8_68b3, // or a7, a6, a2
        0xfea0_12e3, // bne zero, a0, -28
    ];
    let only = std::env::args().nth(2).unwrap_or_default();
    if only != "mem" {
        measure("alu loop", &alu, limit);
    }
    // loop: lw a1, 0(a0); addi a1, a1, 1; sw a1, 4(a0); lw a2, 4(a0); add a3, a3, a2; bne zero, a0, loop
    let mem = [
        0x0005_2583, // lw a1, 0(a0)
        0x0015_8593, // addi a1, a1, 1
        0x00b5_2223, // sw a1, 4(a0)
        0x0045_2603, // lw a2, 4(a0)
        0x00c6_86b3, // add a3, a3, a2
        0xfea0_16e3, // bne zero, a0, -20
    ];
    if only != "alu" {
        measure("mem loop", &mem, limit);
    }
}
