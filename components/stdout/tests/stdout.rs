//! stdout: per-core line buffering, interleaving, prefix, flush at finish.

use std::rc::Rc;

use serde_json::json;
use vp_kernel::testkit::TestBench;
use vp_kernel::tlm::{AddressMap, Payload, Response};
use vp_kernel::{Clock, Component, Sim, SimTime};

const OUT: u64 = 0x4000_0000;

type Built = (Sim, Clock, Box<dyn Component>, Rc<AddressMap>);

fn build(params: &str) -> Result<Built, String> {
    let tb = TestBench::new(100.0);
    let mut c = tb.build(&vp_stdout::kinds()[0], "stdout", params)?;
    let bus = tb.elaborate(&mut [c.as_mut()])?;
    Ok((tb.sim, tb.clock, c, bus))
}

fn puts(bus: &AddressMap, core: u64, cluster: u64, s: &str) {
    for b in s.bytes() {
        let mut p = Payload::write_u32(OUT + (core << 3) + (cluster << 7), b as u32)
            .with_initiator(core as u32);
        let mut d = SimTime::ZERO;
        bus.b_transport(&mut p, &mut d);
        assert_eq!(p.response, Response::Ok);
    }
}

#[test]
fn lines_per_core_interleave_in_completion_order() {
    let (sim, clock, mut c, bus) = build("").unwrap();
    // two cores printing one character per cycle, core 1 starting 4 cycles later
    for (core, text, start) in [(0u64, "hello\nworld\n", 0u64), (1, "ab\ncd", 4)] {
        let (sim2, bus2) = (sim.clone(), bus.clone());
        sim.spawn(format!("core{core}"), async move {
            sim2.wait_cycles(clock, start).await;
            for ch in text.chars() {
                puts(&bus2, core, 0, &ch.to_string());
                sim2.wait_cycles(clock, 1).await;
            }
        });
    }
    sim.run(None);
    // core 0 completes "hello" in cycle 5, core 1 "ab" in cycle 6 (its characters came
    // between core 0's), core 0 "world" in cycle 11; "cd" is flushed at finish
    assert_eq!(
        c.stats()["lines"],
        json!(["[core 0] hello", "[core 1] ab", "[core 0] world"])
    );
    c.finish(&sim).unwrap();
    let s = c.stats();
    assert_eq!(
        s["lines"],
        json!([
            "[core 0] hello",
            "[core 1] ab",
            "[core 0] world",
            "[core 1] cd"
        ])
    );
    assert_eq!(s["partial_lines"], 1);
    assert_eq!(s["lines_per_core"], json!({"0": 2, "1": 2}));
    assert_eq!(s["chars"], 17);
}

#[test]
fn character_by_character_interleaving_keeps_lines_apart() {
    let (_sim, _clock, c, bus) = build("").unwrap();
    puts(&bus, 0, 0, "he");
    puts(&bus, 7, 0, "x");
    puts(&bus, 0, 0, "y\r\n");
    puts(&bus, 7, 0, "z\n");
    puts(&bus, 2, 1, "other cluster\n");
    assert_eq!(
        c.stats()["lines"],
        json!([
            "[core 0] hey",
            "[core 7] xz",
            "[cluster 1 core 2] other cluster"
        ])
    );
}

#[test]
fn without_prefix_and_reads() {
    let (_sim, _clock, c, bus) = build("{prefix: false}").unwrap();
    puts(&bus, 3, 0, "plain\n\n");
    assert_eq!(c.stats()["lines"], json!(["plain", ""]));
    let mut p = Payload::read_u32(OUT + 0x18);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!((p.response, p.data_u32()), (Response::Ok, 0));
    // a byte store works as well
    let mut p = Payload::write(OUT + 0x18, b"!");
    bus.b_transport(&mut p, &mut d);
    puts(&bus, 3, 0, "\n");
    assert_eq!(c.stats()["lines"][2], "!");
}

#[test]
fn long_lines_are_split() {
    let (_sim, _clock, c, bus) = build("{max_line: 4}").unwrap();
    puts(&bus, 0, 0, "abcdefg\n");
    assert_eq!(c.stats()["lines"], json!(["[core 0] abcd", "[core 0] efg"]));
}

#[test]
fn params_are_checked() {
    let e = build("{eco: true}").err().unwrap();
    assert!(e.contains("eco"), "{e}");
    let e = build("{base: 0x40000004}").err().unwrap();
    assert!(e.starts_with("base:"), "{e}");
    assert!(build("{echo: true, prefix: false, base: 0x40000000}").is_ok());
}
