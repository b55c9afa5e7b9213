//! Cluster control: EOC stops the run, RETURN, HCI config forwarding, boot view.

use std::cell::RefCell;
use std::rc::Rc;

use vp_kernel::testkit::TestBench;
use vp_kernel::tlm::{AddressMap, Memory, Payload, Response, Target};
use vp_kernel::{Clock, Component, PortRef, RunEnd, Sim, SimTime, Wake};

const CC: u64 = 0x1020_0000;

struct H {
    sim: Sim,
    clock: Clock,
    cc: Box<dyn Component>,
    bus: Rc<AddressMap>,
}

fn build(params: &str) -> Result<(TestBench, Box<dyn Component>), String> {
    let tb = TestBench::new(100.0);
    let c = tb.build(&vp_cluster_ctrl::kinds()[0], "cluster_ctrl", params)?;
    Ok((tb, c))
}

fn harness(params: &str, hci: Option<PortRef>) -> H {
    let (tb, mut cc) = build(params).unwrap();
    if let Some(h) = hci {
        cc.bind("hci", h).unwrap();
    }
    let bus = tb.elaborate(&mut [cc.as_mut()]).unwrap();
    let (sim, clock) = (tb.sim, tb.clock);
    H {
        sim,
        clock,
        cc,
        bus,
    }
}

fn rd(bus: &AddressMap, a: u64) -> u32 {
    let mut p = Payload::read_u32(a).with_initiator(0);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok, "{a:#x}");
    p.data_u32()
}

fn wr(bus: &AddressMap, a: u64, v: u32) {
    let mut p = Payload::write_u32(a, v).with_initiator(0);
    let mut d = SimTime::ZERO;
    bus.b_transport(&mut p, &mut d);
    assert_eq!(p.response, Response::Ok, "{a:#x}");
}

#[test]
fn eoc_stops_the_run_and_return_is_reported() {
    let h = harness("", None);
    let (sim, clock, bus) = (h.sim.clone(), h.clock, h.bus.clone());
    h.sim.spawn("core0", async move {
        sim.wait_cycles(clock, 5).await;
        wr(&bus, CC + 0x100, 0x8000_0000 | 3);
        sim.wait_cycles(clock, 1).await;
        wr(&bus, CC, 1);
        // keeps running: only EOC ends the run
        loop {
            sim.wait_cycles(clock, 1).await;
        }
    });
    let r = h.sim.run(Some(h.clock.time_of(1000)));
    assert_eq!(r.end, RunEnd::Stopped("end of computation (EOC)".into()));
    assert_eq!(h.clock.cycle_at(r.time), 6);
    let s = h.cc.stats();
    assert_eq!(s["eoc"], true);
    assert_eq!(s["eoc_cycle"], 6);
    assert_eq!(s["return_value"], 0x8000_0003u32);
    assert_eq!(s["exit_code"], 3);
    assert_eq!(rd(&h.bus, CC + 0x100), 0x8000_0003);
    assert_eq!(rd(&h.bus, CC), 1);
}

#[test]
fn eoc_can_be_only_recorded() {
    let h = harness("{stop_on_eoc: false}", None);
    let (sim, clock, bus) = (h.sim.clone(), h.clock, h.bus.clone());
    h.sim.spawn("core0", async move {
        sim.wait_cycles(clock, 2).await;
        wr(&bus, CC, 1);
        sim.wait_cycles(clock, 2).await;
    });
    let r = h.sim.run(None);
    assert_eq!(r.end, RunEnd::Finished);
    assert_eq!(h.cc.stats()["eoc_cycle"], 2);
    assert_eq!(h.cc.stats()["return_value"], serde_json::Value::Null);
}

#[test]
fn hci_config_is_forwarded_to_the_bound_target() {
    let mem: Rc<RefCell<Memory>> = Rc::new(RefCell::new(Memory::new(4, SimTime::ZERO)));
    let h = harness("", Some(PortRef::target(mem.clone())));
    // redmule_init(): read-modify-write of bit 11
    let v = rd(&h.bus, CC + 0x18);
    assert_eq!(v, 0);
    wr(&h.bus, CC + 0x18, v | 1 << 11);
    let mut p = Payload::read_u32(0);
    mem.borrow_mut().debug_transport(&mut p);
    assert_eq!(p.data_u32(), 1 << 11);
    mem.borrow_mut()
        .debug_transport(&mut Payload::write_u32(0, 0x1FF));
    assert_eq!(rd(&h.bus, CC + 0x18), 0x1FF);
    assert_eq!(h.cc.stats()["hci_bound"], true);
}

#[test]
fn hci_config_is_kept_locally_when_unbound() {
    let h = harness("", None);
    let v = rd(&h.bus, CC + 0x18);
    assert_eq!(v, 0x0001_0000);
    wr(&h.bus, CC + 0x18, v | 1 << 11);
    assert_eq!(rd(&h.bus, CC + 0x18), 0x0001_0800);
    assert_eq!(h.cc.stats()["cluster_cfg"], "0x00010800");
}

#[test]
fn boot_view_fetch_enable_and_boot_addresses() {
    let mut h = harness("{fetch_enable: 0x01}", None);
    let boot = h.cc.export("boot").unwrap().get_target().unwrap();
    let peek = |a: u64, w: Option<Wake>| {
        let mut p = Payload::read_u32(a);
        p.sleeper = w;
        assert_eq!(boot.borrow_mut().debug_transport(&mut p), 4);
        p.data_u32()
    };
    assert_eq!(peek(0x08, None), 0x01);
    assert_eq!(peek(0x0C, None), 0);
    assert_eq!(peek(0x40 + 4 * 3, None), 0x1C00_0000);
    let w = Wake::new();
    assert_eq!(peek(0x08, Some(w.clone())), 0x01);
    assert!(w.is_asleep());
    // core 0 sets core 3's boot address and enables everybody
    wr(&h.bus, CC + 0x40 + 4 * 3, 0x1C00_8080);
    wr(&h.bus, CC + 0x08, 0xFF);
    assert!(!w.is_asleep(), "the sleeper on fetch enable was woken");
    assert_eq!(peek(0x08, None), 0xFF);
    assert_eq!(peek(0x0C, None), 1 << 3);
    assert_eq!(peek(0x40 + 4 * 3, None), 0x1C00_8080);
    assert_eq!(rd(&h.bus, CC + 0x4C), 0x1C00_8080);
    // the view is read-only
    let mut p = Payload::write_u32(0x08, 0);
    boot.borrow_mut().debug_transport(&mut p);
    assert_eq!(p.response, Response::CommandError);
}

#[test]
fn boot_addr_param_defines_every_core() {
    let mut h = harness("{boot_addr: 0x1C008080}", None);
    let boot = h.cc.export("boot").unwrap().get_target().unwrap();
    let mut p = Payload::read_u32(0x0C);
    boot.borrow_mut().debug_transport(&mut p);
    assert_eq!(p.data_u32(), 0xFF);
    assert_eq!(rd(&h.bus, CC + 0x40 + 4 * 7), 0x1C00_8080);
}

#[test]
fn unknown_registers_read_zero() {
    let h = harness("", None);
    for a in [0x30u64, 0x34, 0x90, 0x140, 0x200, 0x3FC] {
        wr(&h.bus, CC + a, 0xFFFF_FFFF);
        assert_eq!(rd(&h.bus, CC + a), 0, "{a:#x}");
    }
    assert_eq!(h.cc.stats()["unknown_accesses"], 12);
    // sub-word access
    let mut p = Payload::read(CC + 0x9, 1);
    let mut d = SimTime::ZERO;
    h.bus.b_transport(&mut p, &mut d);
    assert!(p.response.is_ok());
}

#[test]
fn params_are_checked() {
    let e = build("{bsae: 1}").err().unwrap();
    assert!(e.contains("bsae"), "{e}");
    let e = build("{fetch_enable: 0x100}").err().unwrap();
    assert!(e.starts_with("fetch_enable:"), "{e}");
    let e = build("{base: 0x10200001}").err().unwrap();
    assert!(e.starts_with("base:"), "{e}");
}
