mod common;

use common::{out_path, FakeClock};
use tracing::{event, Level};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn summary_counts_tracks_levels_and_first_messages() {
    let clk = FakeClock::default();
    let (layer, handle) = vp_traces::summary_layer(Some(clk.clock()));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        clk.set(10);
        vp_traces::instant!("cluster.core1", "a");
        vp_traces::instant!("cluster.core0", "b");
        vp_traces::instant!("cluster.core1", "c");
        tracing::info!("hello");
        clk.set(20);
        tracing::warn!(code = 3u64, "first warning");
        event!(target: "vp", Level::WARN, track = "cluster.redmule", name = "second warning");
        clk.set(30);
        event!(target: "vp", Level::ERROR, track = "cluster.core0", ev = "instant",
               name = "fault", cause = "bad address", addr = 4096u64);
        tracing::error!("second error");
        tracing::debug!("d");
        tracing::trace!("t");
    });
    let s = handle.snapshot();
    assert_eq!(s.total, 10);
    assert_eq!(s.levels.error, 2);
    assert_eq!(s.levels.warn, 2);
    assert_eq!(s.levels.info, 1);
    assert_eq!(s.levels.debug, 1);
    assert_eq!(s.levels.trace, 4);
    let tracks: Vec<(&str, u64)> = s.per_track.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        tracks,
        [
            ("cluster.core0", 2),
            ("cluster.core1", 2),
            ("cluster.redmule", 1)
        ]
    );
    let w = s.first_warning.as_ref().unwrap();
    assert_eq!(w.time_ps, Some(20));
    assert_eq!(w.text, "first warning code=3");
    assert_eq!(w.track, None);
    assert_eq!(w.target, "summary");
    let e = s.first_error.as_ref().unwrap();
    assert_eq!(e.time_ps, Some(30));
    assert_eq!(e.target, "vp");
    assert_eq!(e.track.as_deref(), Some("cluster.core0"));
    assert_eq!(e.text, "fault cause=bad address addr=4096");

    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"first_error\""));
}

#[test]
fn summary_beside_timeline_layers() {
    // The three layers together: the summary sees foreign warnings, the
    // Chrome layer does not.
    let path = out_path("with_summary.json");
    let vcd = out_path("with_summary.vcd");
    let clk = FakeClock::default();
    let (chrome, g1) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    let (vcd_layer, g2) = vp_traces::vcd_layer(&vcd, clk.clock()).unwrap();
    let (summary, handle) = vp_traces::summary_layer(None);
    let sub = tracing_subscriber::registry()
        .with(chrome)
        .with(vcd_layer)
        .with(summary);
    tracing::subscriber::with_default(sub, || {
        vp_traces::signal!("a", "s", 1u64);
        tracing::warn!(target: "elsewhere", "careful");
    });
    g1.finish().unwrap();
    g2.finish().unwrap();
    let s = handle.snapshot();
    assert_eq!(s.total, 2);
    assert_eq!(s.first_warning.as_ref().unwrap().time_ps, None);
    assert_eq!(s.first_warning.as_ref().unwrap().target, "elsewhere");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("careful"));
    assert!(std::fs::read_to_string(&vcd).unwrap().contains("1!"));
}

#[test]
fn enabled_reflects_the_installed_subscriber() {
    // (The "no subscriber anywhere" case is in tests/disabled.rs: another
    // test's subscriber on another thread can make `enabled()` true here.)
    let (layer, _h) = vp_traces::summary_layer(None);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        assert!(vp_traces::enabled());
    });
}
