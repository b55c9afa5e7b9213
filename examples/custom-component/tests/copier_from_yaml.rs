//! A component defined outside the platform's crates is registered and instantiated from
//! YAML, bound to a built-in block's port, and does its job.

use std::path::Path;

use redmule_vp::{Loaded, Overrides, Platform};
use vp_kernel::tlm::Payload;
use vp_kernel::RunEnd;

const YAML: &str = r#"
name: copier-demo
platform:
  l2: { latency_cycles: 2 }
components:
  - name: dma
    kind: copier
    params: { src: 0x0, dst: 0x100, bytes: 64, cycles_per_word: 1 }
    bind: { mem: l2.mem }
"#;
// Bound straight to the L2's port, the copier sees the L2's own offsets (0x0 is
// 0x1C000000 on the bus), as a TLM target behind an interconnect would.

#[test]
fn custom_copier_copies_through_the_l2_port() {
    let mut reg = redmule_vp::builtin_registry();
    reg.register(custom_component_example::kind());
    let l = Loaded::from_str(YAML, "copier.yaml", Path::new(".")).unwrap();
    let p = Platform::build(&l, &reg, &Overrides::default()).unwrap();
    // Fill the source through the bus's zero-time debug path.
    for i in 0..16u32 {
        let mut w = Payload::write_u32(0x1C00_0000 + 4 * i as u64, 0xA000_0000 | i);
        assert_eq!(p.bus.debug_transport(&mut w), 4);
    }
    let bus = p.bus.clone();
    let out = p.run();
    assert_eq!(out.report.end, RunEnd::Finished);
    for i in 0..16u32 {
        let mut r = Payload::read_u32(0x1C00_0100 + 4 * i as u64);
        bus.debug_transport(&mut r);
        assert_eq!(r.data_u32(), 0xA000_0000 | i);
    }
    // Each word: read + write at 2 cycles each (4 cycles of annotated delay) + 1 cycle of
    // pace = 5 cycles; 16 words = 80 cycles.
    assert_eq!(out.cycles, 80);
    assert_eq!(out.stats["components"]["dma"]["words"], 16);
    assert_eq!(out.stats["components"]["l2"]["reads"], 16);
}

#[test]
fn unknown_kind_is_rejected_without_registration() {
    let reg = redmule_vp::builtin_registry();
    let l = Loaded::from_str(YAML, "copier.yaml", Path::new(".")).unwrap();
    let e = Platform::build(&l, &reg, &Overrides::default())
        .err()
        .unwrap();
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.message.contains("unknown kind 'copier'"), "{e}");
}
