//! Value change dump (VCD, timescale 1 ps) of `ev = "signal"` events.
//!
//! Design: the writer thread streams the value changes to a body file
//! (`<path>.body.tmp`) as they arrive, and declares each variable when it
//! first appears. At finish it writes the header (all `$var`s, then
//! `$enddefinitions`) to `<path>`, appends the body and removes the temp file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::record::{Item, Kind, Rec, Str, TARGET};
use crate::writer::{spawn, Link, Sink, WriterGuard};
use crate::SimClock;

/// A `tracing-subscriber` layer writing a VCD of the `ev = "signal"` events.
///
/// Each distinct (`track`, `name`) is one variable, in scope `track` (split on
/// `.`). The first event of a variable fixes its width (`width` field,
/// default 1, clamped to 1..=64); later values are masked to that width.
/// Values are integers or bools (negative integers as two's complement);
/// a signal event with a float, string or missing `value` is skipped. Time
/// never goes backwards in the file: an earlier time is written at the last
/// one. Simultaneous changes keep their emission order.
pub struct VcdLayer {
    link: Link,
}

/// Creates the VCD file at `path` (and a temp body file beside it) and starts
/// the writer thread. The file is complete once the guard is finished or
/// dropped.
pub fn vcd_layer(path: &Path, clock: SimClock) -> io::Result<(VcdLayer, WriterGuard)> {
    let out = File::create(path)?;
    let body_path = body_path(path);
    let body = File::create(&body_path)?;
    let sink = VcdSink {
        out,
        body: BufWriter::with_capacity(1 << 18, body),
        body_path,
        strings: Vec::new(),
        vars: Vec::new(),
        index: BTreeMap::new(),
        last_time: None,
    };
    let accept = |k: Kind| k == Kind::Signal;
    let (link, guard) = spawn("vp-trace-vcd", sink, clock, false, accept)?;
    Ok((VcdLayer { link }, guard))
}

fn body_path(path: &Path) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(".body.tmp");
    PathBuf::from(s)
}

impl<S: Subscriber> Layer<S> for VcdLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == TARGET {
            self.link.on_event(event);
        }
    }
}

impl std::fmt::Debug for VcdLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VcdLayer").finish_non_exhaustive()
    }
}

struct Var {
    track: String,
    name: String,
    width: u32,
    id: String,
}

struct VcdSink {
    out: File,
    body: BufWriter<File>,
    body_path: PathBuf,
    /// The string table (index = string id).
    strings: Vec<Box<str>>,
    vars: Vec<Var>,
    /// track id -> name -> index in `vars`.
    index: BTreeMap<u32, BTreeMap<String, usize>>,
    last_time: Option<u64>,
}

/// Identifier code of the n-th variable: `!`, `"`, ... `~`, `!!`, `"!`, ...
fn id_code(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push(char::from(b'!' + (n % 94) as u8));
        n /= 94;
        if n == 0 {
            return s;
        }
        n -= 1;
    }
}

/// A name usable as a VCD reference or scope: no whitespace, not empty.
fn sanitize(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    if t.is_empty() {
        "_".to_owned()
    } else {
        t
    }
}

impl Sink for VcdSink {
    fn write(&mut self, item: Item) -> io::Result<()> {
        match item {
            Item::Def(s) => {
                self.strings.push(s);
                Ok(())
            }
            Item::Rec(rec) => self.write_rec(rec),
        }
    }

    fn finish(self, _end_ps: Option<u64>) -> io::Result<()> {
        let VcdSink {
            out,
            body,
            body_path,
            vars,
            ..
        } = self;
        drop(body.into_inner().map_err(|e| e.into_error())?);
        let mut out = BufWriter::with_capacity(1 << 16, out);
        write_header(&mut out, &vars)?;
        let mut body = File::open(&body_path)?;
        io::copy(&mut body, &mut out)?;
        drop(body);
        out.flush()?;
        fs::remove_file(&body_path)
    }
}

impl VcdSink {
    fn write_rec(&mut self, rec: Rec) -> io::Result<()> {
        if rec.kind != Kind::Signal {
            return Ok(());
        }
        let Some(value) = rec.value.as_ref().and_then(|v| v.as_u64_bits()) else {
            return Ok(());
        };
        let name: &str = match &rec.name {
            Some(Str::Id(id)) => self.strings.get(*id as usize).map_or("", |b| b),
            Some(Str::Owned(o)) => o,
            None => "",
        };
        let by_name = self.index.entry(rec.track).or_default();
        let idx = match by_name.get(name) {
            Some(&i) => i,
            None => {
                let i = self.vars.len();
                let width = rec.width.unwrap_or(1).clamp(1, 64) as u32;
                let track = self
                    .strings
                    .get(rec.track as usize)
                    .map_or(String::new(), |b| b.to_string());
                self.vars.push(Var {
                    track,
                    name: name.to_owned(),
                    width,
                    id: id_code(i),
                });
                by_name.insert(name.to_owned(), i);
                i
            }
        };
        // Times must ascend: a time earlier than the last one written is
        // written at the last time.
        let t = match self.last_time {
            Some(last) if rec.time_ps <= last => last,
            _ => {
                writeln!(self.body, "#{}", rec.time_ps)?;
                rec.time_ps
            }
        };
        self.last_time = Some(t);
        let var = &self.vars[idx];
        if var.width == 1 {
            writeln!(self.body, "{}{}", value & 1, var.id)
        } else {
            let w = var.width as usize;
            let v = if w >= 64 {
                value
            } else {
                value & ((1u64 << w) - 1)
            };
            writeln!(self.body, "b{v:0w$b} {}", var.id)
        }
    }
}

/// Scope tree node, children in first-appearance order.
#[derive(Default)]
struct Scope {
    name: String,
    vars: Vec<usize>,
    children: Vec<Scope>,
}

fn write_header(out: &mut impl Write, vars: &[Var]) -> io::Result<()> {
    out.write_all(b"$version vp-traces $end\n$timescale 1ps $end\n")?;
    let mut root = Scope::default();
    for (i, v) in vars.iter().enumerate() {
        let mut node = &mut root;
        let parts: Vec<&str> = v.track.split('.').filter(|p| !p.is_empty()).collect();
        let parts = if parts.is_empty() { vec!["_"] } else { parts };
        for p in parts {
            let p = sanitize(p);
            let pos = match node.children.iter().position(|c| c.name == p) {
                Some(pos) => pos,
                None => {
                    node.children.push(Scope {
                        name: p,
                        ..Scope::default()
                    });
                    node.children.len() - 1
                }
            };
            node = &mut node.children[pos];
        }
        node.vars.push(i);
    }
    for c in &root.children {
        write_scope(out, c, vars)?;
    }
    out.write_all(b"$enddefinitions $end\n")
}

fn write_scope(out: &mut impl Write, s: &Scope, vars: &[Var]) -> io::Result<()> {
    writeln!(out, "$scope module {} $end", s.name)?;
    for &i in &s.vars {
        let v = &vars[i];
        writeln!(
            out,
            "$var wire {} {} {} $end",
            v.width,
            v.id,
            sanitize(&v.name)
        )?;
    }
    for c in &s.children {
        write_scope(out, c, vars)?;
    }
    out.write_all(b"$upscope $end\n")
}

#[cfg(test)]
mod tests {
    use super::id_code;

    #[test]
    fn id_codes_are_unique_and_printable() {
        let ids: Vec<String> = (0..20_000).map(id_code).collect();
        let set: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(set.len(), ids.len());
        assert_eq!(ids[0], "!");
        assert_eq!(ids[93], "~");
        assert_eq!(ids[94], "!!");
        assert!(ids
            .iter()
            .all(|s| s.bytes().all(|b| (b'!'..=b'~').contains(&b))));
    }
}
