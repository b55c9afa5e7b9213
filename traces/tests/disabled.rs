//! Alone in its test binary: no subscriber exists anywhere in the process.

#[test]
fn without_any_subscriber_events_are_disabled_and_harmless() {
    assert!(!vp_traces::enabled());
    assert_eq!(
        tracing::level_filters::LevelFilter::current(),
        tracing::level_filters::LevelFilter::OFF
    );
    let mut evaluated = false;
    let mut costly = || {
        evaluated = true;
        1u64
    };
    // Field expressions are not evaluated when tracing is off.
    vp_traces::slice!("cluster.core0", "op", 10u64, x = costly());
    vp_traces::signal!("cluster.core0", "s", 1u64);
    assert!(!evaluated);
}
