//! soc: every access answered, reads 0, accesses counted, params checked.

use std::rc::Rc;

use vp_kernel::testkit::TestBench;
use vp_kernel::tlm::{AddressMap, Payload, Response};
use vp_kernel::{Component, SimTime};

const BASE: u64 = 0x1A10_6000;

fn build(params: &str) -> Result<(Box<dyn Component>, Rc<AddressMap>), String> {
    let tb = TestBench::new(100.0);
    let mut c = tb.build(&vp_soc::kinds()[0], "soc", params)?;
    let bus = tb.elaborate(&mut [c.as_mut()])?;
    Ok((c, bus))
}

#[test]
fn accepts_every_access_and_counts() {
    let (c, bus) = build("").unwrap();
    for off in [0u64, 4, 0xC, 0x40, 0x3FC] {
        let mut p = Payload::write_u32(BASE + off, 0xFFFF_FFFF).with_initiator(2);
        let mut d = SimTime::ZERO;
        bus.b_transport(&mut p, &mut d);
        assert_eq!(p.response, Response::Ok);
        let mut p = Payload::read_u32(BASE + off);
        bus.b_transport(&mut p, &mut d);
        assert_eq!((p.response, p.data_u32()), (Response::Ok, 0));
    }
    let mut p = Payload::write(BASE + 1, &[7]);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok);
    let s = c.stats();
    assert_eq!(s["writes"], 6);
    assert_eq!(s["reads"], 5);
}

#[test]
fn params_are_checked() {
    let e = build("{baes: 0}").err().unwrap();
    assert!(e.contains("baes"), "{e}");
    let e = build("{base: 0x3}").err().unwrap();
    assert!(e.starts_with("base:"), "{e}");
}

#[test]
fn writes_are_counted_per_offset() {
    let (c, bus) = build("{size: 0x100}").unwrap();
    for v in [1u32, 2, 3] {
        let mut p = Payload::write_u32(BASE + 0x18, v);
        let mut d = SimTime::ZERO;
        bus.b_transport(&mut p, &mut d);
    }
    let s = c.stats();
    assert_eq!(s["by_offset"]["0x18"]["writes"], 3);
    assert_eq!(s["by_offset"]["0x18"]["last"], "0x00000003");
    // beyond the window: not mapped
    let mut p = Payload::write_u32(BASE + 0x100, 0);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::AddressError);
    let e = build("{size: 0}").err().unwrap();
    assert!(e.starts_with("size:"), "{e}");
}
