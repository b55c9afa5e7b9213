//! Chrome trace-event JSON (loads in ui.perfetto.dev), stamped with simulated time.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::record::{write_us, Item, Kind, Rec, Str, Val, TARGET};
use crate::writer::{spawn, Link, Sink, WriterGuard};
use crate::SimClock;

/// The process id of the cluster in the trace.
const PID: u32 = 1;
/// The process name shown in Perfetto.
const PROCESS_NAME: &str = "cluster";

/// A `tracing-subscriber` layer writing Chrome trace-event JSON.
///
/// Listens to events with target `"vp"` and a `track` field (see the crate
/// docs for the field convention); everything else is passed over. Timestamps
/// come from the [`SimClock`], never from the wall clock.
pub struct ChromeTraceLayer {
    link: Link,
}

/// Creates the Chrome trace file at `path` and starts its writer thread.
///
/// The file is a valid JSON document once the returned guard is finished or
/// dropped.
pub fn chrome_layer(path: &Path, clock: SimClock) -> io::Result<(ChromeTraceLayer, WriterGuard)> {
    let file = File::create(path)?;
    let sink = ChromeSink::new(Box::new(file))?;
    // Signals are for the VCD: they would flood the timeline.
    let accept = |k: Kind| k != Kind::Signal;
    let (link, guard) = spawn("vp-trace-chrome", sink, clock, true, accept)?;
    Ok((ChromeTraceLayer { link }, guard))
}

impl<S: Subscriber> Layer<S> for ChromeTraceLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == TARGET {
            self.link.on_event(event);
        }
    }
}

impl std::fmt::Debug for ChromeTraceLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChromeTraceLayer").finish_non_exhaustive()
    }
}

/// Writer-thread state.
pub(crate) struct ChromeSink {
    out: BufWriter<Box<dyn Write + Send>>,
    /// The string table (index = string id).
    strings: Vec<Box<str>>,
    /// Track string id -> tid (1-based, first-appearance order).
    tids: Vec<Option<u32>>,
    /// Tids assigned so far.
    ntids: u32,
    /// Open "begin" depth per tid (index tid - 1).
    open: Vec<u32>,
    /// Latest simulated time seen (including slice ends).
    last_ps: u64,
    first: bool,
}

impl ChromeSink {
    pub(crate) fn new(out: Box<dyn Write + Send>) -> io::Result<ChromeSink> {
        let mut s = ChromeSink {
            out: BufWriter::with_capacity(1 << 18, out),
            strings: Vec::new(),
            tids: Vec::new(),
            ntids: 0,
            open: Vec::new(),
            last_ps: 0,
            first: true,
        };
        s.out
            .write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        s.sep()?;
        write!(
            s.out,
            "{{\"ph\":\"M\",\"pid\":{PID},\"name\":\"process_name\",\"args\":{{\"name\":"
        )?;
        json_str(&mut s.out, PROCESS_NAME)?;
        s.out.write_all(b"}}")?;
        Ok(s)
    }

    fn sep(&mut self) -> io::Result<()> {
        if self.first {
            self.first = false;
            Ok(())
        } else {
            self.out.write_all(b",\n")
        }
    }

    /// The tid of `track`, declaring it (thread_name, thread_sort_index) on
    /// first appearance.
    fn tid(&mut self, track: u32) -> io::Result<u32> {
        let idx = track as usize;
        if let Some(Some(t)) = self.tids.get(idx) {
            return Ok(*t);
        }
        if self.tids.len() <= idx {
            self.tids.resize(idx + 1, None);
        }
        self.ntids = self.ntids.saturating_add(1);
        let tid = self.ntids;
        self.tids[idx] = Some(tid);
        self.open.push(0);
        let track = self.strings.get(idx).cloned().unwrap_or_default();
        let track = &*track;
        self.sep()?;
        write!(
            self.out,
            "{{\"ph\":\"M\",\"pid\":{PID},\"tid\":{tid},\"name\":\"thread_name\",\"args\":{{\"name\":"
        )?;
        json_str(&mut self.out, track)?;
        self.out.write_all(b"}}")?;
        self.sep()?;
        write!(
            self.out,
            "{{\"ph\":\"M\",\"pid\":{PID},\"tid\":{tid},\"name\":\"thread_sort_index\",\"args\":{{\"sort_index\":{tid}}}}}"
        )?;
        Ok(tid)
    }

    /// Writes `{"ph":..,"pid":..,"tid":..,"ts":..` (no closing brace).
    fn head(&mut self, ph: &str, tid: u32, ts: u64) -> io::Result<()> {
        self.sep()?;
        write!(
            self.out,
            "{{\"ph\":\"{ph}\",\"pid\":{PID},\"tid\":{tid},\"ts\":"
        )?;
        write_us(&mut self.out, ts)
    }

    fn name(&mut self, name: &str) -> io::Result<()> {
        self.out.write_all(b",\"name\":")?;
        json_str(&mut self.out, name)
    }

    fn args(&mut self, args: &[(&'static str, Val)]) -> io::Result<()> {
        if args.is_empty() {
            return Ok(());
        }
        self.out.write_all(b",\"args\":{")?;
        for (i, (k, v)) in args.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            json_str(&mut self.out, k)?;
            self.out.write_all(b":")?;
            json_val(&mut self.out, v)?;
        }
        self.out.write_all(b"}")
    }
}

impl Sink for ChromeSink {
    fn write(&mut self, item: Item) -> io::Result<()> {
        match item {
            Item::Def(s) => {
                self.strings.push(s);
                Ok(())
            }
            Item::Rec(rec) => self.write_rec(rec),
        }
    }

    fn finish(mut self, end_ps: Option<u64>) -> io::Result<()> {
        let end = end_ps.unwrap_or(0).max(self.last_ps);
        let open = std::mem::take(&mut self.open);
        for (idx, depth) in open.iter().enumerate() {
            let tid = u32::try_from(idx + 1).unwrap_or(u32::MAX);
            for _ in 0..*depth {
                self.head("E", tid, end)?;
                self.out
                    .write_all(b",\"args\":{\"closed_at_finish\":true}}")?;
            }
        }
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        let inner = self.out.into_inner().map_err(|e| e.into_error())?;
        drop(inner);
        Ok(())
    }
}

impl ChromeSink {
    fn str_of<'a>(strings: &'a [Box<str>], s: &'a Option<Str>) -> &'a str {
        match s {
            Some(Str::Id(id)) => strings.get(*id as usize).map_or("", |b| b),
            Some(Str::Owned(o)) => o,
            None => "",
        }
    }

    fn write_rec(&mut self, rec: Rec) -> io::Result<()> {
        let tid = self.tid(rec.track)?;
        let t = rec.time_ps;
        self.last_ps = self.last_ps.max(t);
        let idx = (tid - 1) as usize;
        let strings = std::mem::take(&mut self.strings);
        let r = self.write_event(&rec, tid, idx, Self::str_of(&strings, &rec.name), &strings);
        self.strings = strings;
        r
    }

    fn write_event(
        &mut self,
        rec: &Rec,
        tid: u32,
        idx: usize,
        name: &str,
        strings: &[Box<str>],
    ) -> io::Result<()> {
        let t = rec.time_ps;
        match rec.kind {
            Kind::Begin => {
                if let Some(d) = self.open.get_mut(idx) {
                    *d = d.saturating_add(1);
                }
                self.head("B", tid, t)?;
                self.name(name)?;
                self.args(&rec.args)?;
            }
            Kind::End => {
                // An "end" without an open "begin" on its track is skipped:
                // it would be an import error in Perfetto.
                match self.open.get_mut(idx) {
                    Some(d) if *d > 0 => *d -= 1,
                    _ => return Ok(()),
                }
                self.head("E", tid, t)?;
                self.args(&rec.args)?;
            }
            Kind::Slice => {
                let start = rec.start_ps.unwrap_or(t);
                let dur = rec.dur_ps.unwrap_or(0);
                self.last_ps = self.last_ps.max(start.saturating_add(dur));
                self.head("X", tid, start)?;
                self.out.write_all(b",\"dur\":")?;
                write_us(&mut self.out, dur)?;
                self.name(name)?;
                self.args(&rec.args)?;
            }
            Kind::Instant | Kind::Signal => {
                // (Signals are not sent to this layer.)
                self.head("i", tid, t)?;
                self.out.write_all(b",\"s\":\"t\"")?;
                self.name(name)?;
                self.args(&rec.args)?;
            }
            Kind::Counter => {
                // Counters are process-scoped in the trace-event format, so the
                // counter is named "<track>.<name>" to keep tracks apart.
                let Some(v) = &rec.value else { return Ok(()) };
                if matches!(v, Val::Str(_)) {
                    return Ok(());
                }
                let track = strings.get(rec.track as usize).map_or("", |b| b);
                self.sep()?;
                write!(self.out, "{{\"ph\":\"C\",\"pid\":{PID},\"ts\":")?;
                write_us(&mut self.out, t)?;
                self.out.write_all(b",\"name\":")?;
                let full = if name.is_empty() {
                    track.to_owned()
                } else {
                    format!("{track}.{name}")
                };
                json_str(&mut self.out, &full)?;
                self.out.write_all(b",\"args\":{\"value\":")?;
                json_val(&mut self.out, v)?;
                self.out.write_all(b"}")?;
            }
        }
        self.out.write_all(b"}")
    }
}

fn json_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    serde_json::to_writer(out, s).map_err(io::Error::other)
}

fn json_val(out: &mut impl Write, v: &Val) -> io::Result<()> {
    match v {
        Val::I64(x) => write!(out, "{x}"),
        Val::U64(x) => write!(out, "{x}"),
        // serde_json writes non-finite floats as null: still valid JSON.
        Val::F64(x) => serde_json::to_writer(out, x).map_err(io::Error::other),
        Val::Bool(x) => write!(out, "{x}"),
        Val::Str(x) => json_str(out, x),
    }
}
