mod common;

use common::{out_path, FakeClock};
use serde_json::Value;
use tracing::{event, Level};
use tracing_subscriber::layer::SubscriberExt;

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{text}"))
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["traceEvents"].as_array().unwrap()
}

/// The non-metadata events.
fn timeline(doc: &Value) -> Vec<&Value> {
    events(doc).iter().filter(|e| e["ph"] != "M").collect()
}

/// The scenario used by several tests.
fn scenario(clk: &FakeClock) {
    clk.set(0);
    vp_traces::begin!("cluster.redmule", "job", id = 7u64);
    clk.set(1_500);
    event!(target: "vp", Level::TRACE, track = "cluster.core3", ev = "slice",
           name = "stall", dur_ps = 3_000u64, bank = 5u64, cause = "conflict");
    clk.set(2_000);
    event!(target: "vp", Level::TRACE, track = "cluster.core0", ev = "instant", name = "irq");
    vp_traces::counter!("cluster.tcdm", "occupancy", 0.25);
    vp_traces::counter!("cluster.tcdm", "requests", 12u64);
    clk.set(1_234_567);
    vp_traces::slice!("cluster.core3", "late", 10u64, start_ps = 1_000_000u64);
    vp_traces::end!("cluster.redmule", "job");
    // Not for the timeline: other target, no track.
    event!(target: "other", Level::TRACE, track = "cluster.x", ev = "instant", name = "x");
    event!(target: "vp", Level::TRACE, ev = "instant", name = "no-track");
    tracing::warn!("a warning from elsewhere");
}

fn run_scenario(name: &str) -> std::path::PathBuf {
    let path = out_path(name);
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || scenario(&clk));
    guard.finish().unwrap();
    path
}

#[test]
fn json_has_events_with_simulated_timestamps() {
    let path = run_scenario("basic.json");
    let doc = load(&path);
    assert_eq!(doc["displayTimeUnit"], "ns");

    let evs = events(&doc);
    assert_eq!(evs[0]["ph"], "M");
    assert_eq!(evs[0]["name"], "process_name");
    assert_eq!(evs[0]["args"]["name"], "cluster");
    assert_eq!(evs[0]["pid"], 1);

    let tl = timeline(&doc);
    let phases: Vec<&str> = tl.iter().map(|e| e["ph"].as_str().unwrap()).collect();
    assert_eq!(phases, ["B", "X", "i", "C", "C", "X", "E"]);

    let b = tl[0];
    assert_eq!(b["name"], "job");
    assert_eq!(b["ts"].as_f64(), Some(0.0));
    assert_eq!(b["args"]["id"], 7);

    let x = tl[1];
    assert_eq!(x["name"], "stall");
    assert_eq!(x["ts"].as_f64(), Some(0.0015));
    assert_eq!(x["dur"].as_f64(), Some(0.003));
    assert_eq!(x["args"]["bank"], 5);
    assert_eq!(x["args"]["cause"], "conflict");
    assert!(x["args"].get("dur_ps").is_none());

    let i = tl[2];
    assert_eq!(i["name"], "irq");
    assert_eq!(i["s"], "t");
    assert_eq!(i["ts"].as_f64(), Some(0.002));

    assert_eq!(tl[3]["name"], "cluster.tcdm.occupancy");
    assert_eq!(tl[3]["args"]["value"].as_f64(), Some(0.25));
    assert_eq!(tl[4]["name"], "cluster.tcdm.requests");
    assert_eq!(tl[4]["args"]["value"], 12);

    // start_ps override
    assert_eq!(tl[5]["ts"].as_f64(), Some(1.0));
    assert_eq!(tl[5]["dur"].as_f64(), Some(0.00001));

    assert_eq!(tl[6]["ts"].as_f64(), Some(1.234567));
    assert_eq!(tl[6]["tid"], tl[0]["tid"]);

    // Exact decimal text, not float rounding.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"ts\":1.234567}"), "{text}");
    assert!(text.contains("\"ts\":0.0015,\"dur\":0.003,"), "{text}");

    // Nothing from other targets or without track.
    assert!(!text.contains("no-track"));
    assert!(!text.contains("cluster.x"));
    assert!(!text.contains("warning"));
}

#[test]
fn tracks_map_to_tids_in_first_appearance_order() {
    let doc = load(&run_scenario("tids.json"));
    let names: Vec<(u64, &str)> = events(&doc)
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (1, "cluster.redmule"),
            (2, "cluster.core3"),
            (3, "cluster.core0"),
            (4, "cluster.tcdm"),
        ]
    );
    // Each event sits on its track's tid.
    let tl = timeline(&doc);
    assert_eq!(tl[0]["tid"], 1);
    assert_eq!(tl[1]["tid"], 2);
    assert_eq!(tl[2]["tid"], 3);
    assert_eq!(tl[5]["tid"], 2);
    // Sort index follows the tid.
    let sort: Vec<u64> = events(&doc)
        .iter()
        .filter(|e| e["name"] == "thread_sort_index")
        .map(|e| e["args"]["sort_index"].as_u64().unwrap())
        .collect();
    assert_eq!(sort, [1, 2, 3, 4]);
}

#[test]
fn unclosed_slices_are_closed_at_finish() {
    let path = out_path("unclosed.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || {
        clk.set(100);
        vp_traces::begin!("a", "outer");
        clk.set(200);
        vp_traces::begin!("a", "inner");
        vp_traces::begin!("b", "other");
        clk.set(300);
        vp_traces::end!("b", "other");
        // An end without begin is skipped.
        vp_traces::end!("b", "stray");
        clk.set(5_000_000);
        vp_traces::slice!("c", "s", 1_000_000u64);
    });
    guard.finish().unwrap();
    let doc = load(&path);
    let tl = timeline(&doc);
    let ends: Vec<&&Value> = tl.iter().filter(|e| e["ph"] == "E").collect();
    // b's end, then two closing ends on "a" (tid 1) at the last time seen
    // (slice end: 6 us).
    assert_eq!(ends.len(), 3);
    assert_eq!(ends[0]["tid"], 2);
    for e in &ends[1..] {
        assert_eq!(e["tid"], 1);
        assert_eq!(e["ts"].as_f64(), Some(6.0));
        assert_eq!(e["args"]["closed_at_finish"], true);
    }
}

#[test]
fn finish_at_closes_at_the_given_time() {
    let path = out_path("finish_at.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || {
        clk.set(100);
        vp_traces::begin!("a", "open");
    });
    guard.finish_at(7_000_000).unwrap();
    let doc = load(&path);
    let tl = timeline(&doc);
    assert_eq!(tl.len(), 2);
    assert_eq!(tl[1]["ph"], "E");
    assert_eq!(tl[1]["ts"].as_f64(), Some(7.0));
}

#[test]
fn identical_runs_give_identical_bytes() {
    let a = std::fs::read(run_scenario("same_a.json")).unwrap();
    let b = std::fs::read(run_scenario("same_b.json")).unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn a_million_events_are_all_written() {
    // Typed parsing: a serde_json::Value of 1M events is slow in debug builds.
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(rename = "traceEvents")]
        trace_events: Vec<Ev>,
    }
    #[derive(serde::Deserialize)]
    struct Ev {
        ph: String,
        ts: Option<f64>,
        args: Option<Args>,
    }
    #[derive(serde::Deserialize)]
    struct Args {
        seq: Option<u64>,
    }

    const N: u64 = 1_000_000;
    let path = out_path("million.json");
    let clk = FakeClock::default();
    // Fewer records than the channel holds would not exercise the blocking send.
    assert!(N as usize > 4 * vp_traces::CHANNEL_CAPACITY);
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || {
        for i in 0..N {
            clk.set(i * 1_000);
            let track = if i % 2 == 0 {
                "cluster.core0"
            } else {
                "cluster.core1"
            };
            vp_traces::slice!(track, "op", 1_000u64, seq = i);
        }
    });
    guard.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let doc: Doc = serde_json::from_slice(&bytes).expect("valid JSON");
    let tl: Vec<&Ev> = doc.trace_events.iter().filter(|e| e.ph != "M").collect();
    assert_eq!(tl.len() as u64, N);
    for (i, e) in tl.iter().enumerate() {
        assert_eq!(e.ph, "X");
        assert_eq!(e.args.as_ref().and_then(|a| a.seq), Some(i as u64));
        assert_eq!(e.ts, Some(i as f64 / 1000.0));
    }
}

#[test]
fn dropped_guard_without_finish_gives_valid_json() {
    let path = out_path("dropped.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    let sub = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(sub, || {
        clk.set(10);
        vp_traces::begin!("cluster.redmule", "job");
        clk.set(20);
        vp_traces::instant!("cluster.redmule", "fault", cause = "bad address");
        // The guard drops here, inside the simulation, as on an early return.
        drop(guard);
        // Events after the finish are discarded, not an error.
        vp_traces::instant!("cluster.redmule", "after");
    });
    let doc = load(&path);
    let tl = timeline(&doc);
    let phases: Vec<&str> = tl.iter().map(|e| e["ph"].as_str().unwrap()).collect();
    assert_eq!(phases, ["B", "i", "E"]);
    assert_eq!(tl[2]["ts"].as_f64(), Some(0.00002));
}

#[test]
fn panicking_simulation_still_gives_valid_json() {
    let path = out_path("panic.json");
    let p = path.clone();
    let r = std::thread::spawn(move || {
        let clk = FakeClock::default();
        let (layer, _guard) = vp_traces::chrome_layer(&p, clk.clock()).unwrap();
        let sub = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(sub, || {
            clk.set(5);
            vp_traces::begin!("cluster.core0", "run");
            panic!("model fault");
        });
    })
    .join();
    assert!(r.is_err());
    let doc = load(&path);
    let tl = timeline(&doc);
    let phases: Vec<&str> = tl.iter().map(|e| e["ph"].as_str().unwrap()).collect();
    assert_eq!(phases, ["B", "E"]);
}

#[test]
fn layer_dropped_first_then_guard() {
    // The subscriber (and the layer in it) is dropped at the end of
    // with_default; the guard dropped later still finishes the file.
    let path = out_path("layer_first.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        vp_traces::instant!("t", "x");
    });
    drop(guard);
    assert_eq!(timeline(&load(&path)).len(), 1);
}

#[test]
fn strings_are_escaped_and_odd_fields_survive() {
    let path = out_path("escape.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        event!(target: "vp", Level::TRACE, track = "q\"uote\\", ev = "instant",
               name = "line\nbreak", flag = true, neg = -3i64, big = u128::MAX,
               nan = f64::NAN, dbg = ?vec![1, 2]);
        event!(target: "vp", Level::TRACE, track = "t", ev = "weird", "msg {}", 1);
        event!(target: "vp", Level::TRACE, track = "t", ev = "counter", name = "c", value = "str");
        event!(target: "vp", Level::TRACE, track = "t", ev = "slice", name = "neg", dur_ps = -5i64);
    });
    guard.finish().unwrap();
    let doc = load(&path);
    let tl = timeline(&doc);
    assert_eq!(tl[0]["name"], "line\nbreak");
    assert_eq!(tl[0]["args"]["flag"], true);
    assert_eq!(tl[0]["args"]["neg"], -3);
    assert_eq!(tl[0]["args"]["big"], u128::MAX.to_string());
    assert!(tl[0]["args"]["nan"].is_null());
    assert_eq!(tl[0]["args"]["dbg"], "[1, 2]");
    // Unknown ev: an instant named by its message, ev kept in args.
    assert_eq!(tl[1]["ph"], "i");
    assert_eq!(tl[1]["name"], "msg 1");
    assert_eq!(tl[1]["args"]["ev"], "weird");
    // The string-valued counter is skipped; the negative duration clamps to 0.
    assert_eq!(tl.len(), 3);
    assert_eq!(tl[2]["dur"].as_f64(), Some(0.0));
    let thread_names: Vec<&str> = events(&doc)
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(thread_names, ["q\"uote\\", "t"]);
}

#[test]
fn simulations_on_two_threads_trace_independently() {
    let paths = [out_path("thread_a.json"), out_path("thread_b.json")];
    let handles: Vec<_> = paths
        .iter()
        .cloned()
        .enumerate()
        .map(|(k, p)| {
            std::thread::spawn(move || {
                let clk = FakeClock::default();
                let (layer, guard) = vp_traces::chrome_layer(&p, clk.clock()).unwrap();
                let sub = tracing_subscriber::registry().with(layer);
                tracing::subscriber::with_default(sub, || {
                    for i in 0..10_000u64 {
                        clk.set(i);
                        vp_traces::instant!(if k == 0 { "a" } else { "b" }, "x", i = i);
                    }
                });
                guard.finish().unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for (k, p) in paths.iter().enumerate() {
        let doc = load(p);
        let tl = timeline(&doc);
        assert_eq!(tl.len(), 10_000);
        let names: Vec<&str> = events(&doc)
            .iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [if k == 0 { "a" } else { "b" }]);
    }
}

#[test]
fn signals_stay_out_of_the_chrome_trace() {
    let path = out_path("signals.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        vp_traces::signal!("sig.only", "busy", 1u64);
        vp_traces::instant!("other", "x");
    });
    guard.finish().unwrap();
    let doc = load(&path);
    assert_eq!(timeline(&doc).len(), 1);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("sig.only"), "{text}");
    // The track of the instant is still tid 1.
    assert_eq!(timeline(&doc)[0]["tid"], 1);
}

#[test]
fn formatted_and_interned_names_both_work() {
    let path = out_path("names.json");
    let clk = FakeClock::default();
    let (layer, guard) = vp_traces::chrome_layer(&path, clk.clock()).unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..3u64 {
            // Formatted: sent with each event.
            event!(target: "vp", Level::TRACE, track = "t", ev = "instant", name = %format_args!("job{i}"));
            // String: interned once.
            vp_traces::instant!("t", String::from("same"));
            let track = format!("cluster.core{i}");
            vp_traces::instant!(track, "x");
        }
    });
    guard.finish().unwrap();
    let doc = load(&path);
    let names: Vec<&str> = timeline(&doc)
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["job0", "same", "x", "job1", "same", "x", "job2", "same", "x"]
    );
    let tids: Vec<u64> = timeline(&doc)
        .iter()
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    assert_eq!(tids, [1, 1, 2, 1, 1, 3, 1, 1, 4]);
}
