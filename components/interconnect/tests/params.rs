//! YAML params of the `interconnect` kind: defaults, the platform section, and errors that
//! name the field.

use std::path::Path;

use vp_interconnect::{HciVariant, InterconnectConfig, InterconnectParams, TcdmGeometry};
use vp_kernel::component::parse_params;
use vp_kernel::{BuildCtx, Clock, Sim};

fn ctx_with<'a>(sim: &'a Sim, platform: &'a serde_json::Value) -> BuildCtx<'a> {
    let clock = Clock::from_period_ps(1000);
    BuildCtx {
        sim,
        domain: sim.add_clock("clk", clock),
        clock,
        seed: 1,
        cores: 8,
        tcdm_base: 0,
        tcdm_size: 0,
        tcdm_banks: 0,
        platform,
        base_dir: Path::new("."),
    }
}

fn resolve(yaml: &str, platform: serde_json::Value) -> Result<InterconnectConfig, String> {
    let sim = Sim::new();
    let ctx = ctx_with(&sim, &platform);
    let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    let p: InterconnectParams = parse_params(&v)?;
    InterconnectConfig::resolve(&ctx, &p)
}

#[test]
fn empty_params_give_the_rtl_defaults() {
    let c = resolve("{}", serde_json::Value::Null).unwrap();
    assert_eq!(c, InterconnectConfig::default());
    assert_eq!(
        c.geometry,
        TcdmGeometry {
            base: 0x1000_0000,
            size: 128 * 1024,
            banks: 16
        }
    );
    assert_eq!(c.wide_words, 9);
    assert_eq!(c.variant, HciVariant::Pinned);
}

#[test]
fn params_and_the_platform_section_are_read() {
    let c = resolve(
        "banks: 32\nsize: 0x10000\nhci_variant: v2_4\nprio_num: 1\nprio_den: 4\n",
        serde_json::json!({"max_stall": 7, "invert_prio": true}),
    )
    .unwrap();
    assert_eq!(c.geometry.banks, 32);
    assert_eq!(c.geometry.size, 0x10000);
    assert_eq!(c.variant, HciVariant::V2_4);
    assert_eq!(c.prio, Some((1, 4)));
    assert_eq!(c.max_stall, 7);
    assert!(c.invert_prio);
    let c = resolve(
        "{}",
        serde_json::json!({"tcdm_banks": 32, "tcdm_size_kib": 64}),
    )
    .unwrap();
    assert_eq!((c.geometry.banks, c.geometry.size), (32, 65536));
}

#[test]
fn bad_params_are_errors_naming_the_field() {
    let err = |y: &str| resolve(y, serde_json::Value::Null).unwrap_err();
    assert!(err("banks: 0").contains("banks"));
    assert!(err("banks: 12").contains("banks"));
    assert!(err("size: 100000").contains("size"));
    assert!(err("banks: 64\nsize: 128").contains("size"));
    assert!(err("wide_words: 17").contains("wide_words"));
    assert!(err("banks: 8\nwide_words: 9").contains("wide_words"));
    assert!(err("max_stall: 300").contains("max_stall"));
    assert!(err("prio_num: 1\nprio_den: 4").contains("v2_4"));
    assert!(err("hci_variant: v2_4\nprio_num: 4\nprio_den: 4").contains("prio_num"));
    assert!(err("hci_variant: v2_4\nprio_num: 1").contains("prio_den"));
    assert!(err("hci_variant: v3").contains("hci_variant"));
    assert!(
        err("bank: 16").contains("bank"),
        "unknown keys are rejected"
    );
    let e = resolve("{}", serde_json::json!({"max_stall": "x"})).unwrap_err();
    assert!(e.contains("platform.max_stall"), "{e}");
}

#[test]
fn params_may_not_contradict_the_platform_tcdm() {
    let sim = Sim::new();
    let pf = serde_json::Value::Null;
    let mut ctx = ctx_with(&sim, &pf);
    ctx.tcdm_banks = 16;
    ctx.tcdm_size = 128 * 1024;
    ctx.tcdm_base = 0x1000_0000;
    let p = |y: &str| -> InterconnectParams {
        parse_params(&serde_yaml::from_str(y).unwrap()).unwrap()
    };
    assert!(InterconnectConfig::resolve(&ctx, &p("banks: 16")).is_ok());
    let e = InterconnectConfig::resolve(&ctx, &p("banks: 8")).unwrap_err();
    assert!(e.starts_with("banks") && e.contains("tcdm_banks"), "{e}");
    let e = InterconnectConfig::resolve(&ctx, &p("size: 0x10000")).unwrap_err();
    assert!(e.starts_with("size"), "{e}");
    let c = InterconnectConfig::resolve(&ctx, &p("max_stall: 4")).unwrap();
    assert_eq!((c.geometry.banks, c.max_stall), (16, 4));
}

#[test]
fn the_kind_builds_and_exports_its_ports() {
    let sim = Sim::new();
    let pf = serde_json::Value::Null;
    let ctx = ctx_with(&sim, &pf);
    let kinds = vp_interconnect::kinds();
    assert_eq!(kinds[0].name, "interconnect");
    let mut ic = (kinds[0].build)(&ctx, "cluster.tcdm", &serde_yaml::Value::Null).unwrap();
    assert_eq!(ic.export("narrow").unwrap().kind(), "narrow");
    assert_eq!(ic.export("narrow").unwrap().kind(), "narrow");
    assert_eq!(ic.export("wide").unwrap().kind(), "wide");
    assert_eq!(ic.export("tcdm").unwrap().kind(), "target");
    assert_eq!(ic.export("hci_config").unwrap().kind(), "target");
    assert!(ic.export("axi").unwrap_err().contains("axi"));
    let e = match (kinds[0].build)(
        &ctx,
        "cluster.tcdm",
        &serde_yaml::from_str("banks: 3").unwrap(),
    ) {
        Err(e) => e,
        Ok(_) => panic!("banks: 3 accepted"),
    };
    assert!(e.starts_with("interconnect 'cluster.tcdm': banks"), "{e}");
}
