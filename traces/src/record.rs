//! The compact owned record that a layer sends to its writer thread, and the
//! visitor that builds it from a `tracing` event on the simulation thread.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::Event;

/// The target that the timeline layers listen to.
pub(crate) const TARGET: &str = "vp";

/// What kind of timeline event a record is (the `ev` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Begin,
    End,
    Slice,
    Instant,
    Counter,
    Signal,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "begin" => Kind::Begin,
            "end" => Kind::End,
            "slice" => Kind::Slice,
            "instant" => Kind::Instant,
            "counter" => Kind::Counter,
            "signal" => Kind::Signal,
            _ => return None,
        })
    }
}

/// A field value kept for a slice's `args` (or a counter's value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(String),
}

impl Val {
    /// The value as an unsigned integer (signals, durations); `None` for
    /// floats and strings. Negative integers wrap (two's complement).
    pub(crate) fn as_u64_bits(&self) -> Option<u64> {
        match *self {
            Val::I64(v) => Some(v as u64),
            Val::U64(v) => Some(v),
            Val::Bool(b) => Some(u64::from(b)),
            Val::F64(_) | Val::Str(_) => None,
        }
    }

    /// The value as a non-negative integer (durations, times): negative
    /// values clamp to 0.
    pub(crate) fn as_u64_clamped(&self) -> Option<u64> {
        match *self {
            Val::I64(v) => Some(v.max(0) as u64),
            Val::U64(v) => Some(v),
            Val::Bool(b) => Some(u64::from(b)),
            Val::F64(v) if v.is_finite() => Some(if v <= 0.0 { 0 } else { v as u64 }),
            Val::F64(_) | Val::Str(_) => None,
        }
    }
}

/// One timeline event, owned, stamped with simulated time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rec {
    pub kind: Kind,
    /// Simulated time at emission, picoseconds.
    pub time_ps: u64,
    pub track: String,
    /// `name` field, else the message, else `None`.
    pub name: Option<String>,
    pub dur_ps: Option<u64>,
    pub start_ps: Option<u64>,
    pub value: Option<Val>,
    pub width: Option<u64>,
    /// Remaining fields in declaration order.
    pub args: Vec<(&'static str, Val)>,
}

/// Collects the fields of one event.
#[derive(Default)]
pub(crate) struct Fields {
    pub track: Option<String>,
    pub ev: Option<String>,
    pub name: Option<String>,
    pub message: Option<String>,
    pub dur_ps: Option<Val>,
    pub start_ps: Option<Val>,
    pub value: Option<Val>,
    pub width: Option<Val>,
    pub args: Vec<(&'static str, Val)>,
}

impl Fields {
    pub(crate) fn from_event(event: &Event<'_>) -> Fields {
        let mut f = Fields::default();
        event.record(&mut f);
        f
    }

    fn put(&mut self, field: &Field, v: Val) {
        match field.name() {
            "track" => self.track = Some(val_to_string(v)),
            "ev" => self.ev = Some(val_to_string(v)),
            "name" => self.name = Some(val_to_string(v)),
            "message" => self.message = Some(val_to_string(v)),
            "dur_ps" => self.dur_ps = Some(v),
            "start_ps" => self.start_ps = Some(v),
            "value" => self.value = Some(v),
            "width" => self.width = Some(v),
            other => self.args.push((other, v)),
        }
    }

    /// Turns the fields of a `vp` event into a record; `None` without `track`.
    ///
    /// An absent or unknown `ev` makes an instant (an unknown `ev` is kept in
    /// the args); the message becomes the name when `name` is absent,
    /// otherwise it is kept in the args as `message`.
    pub(crate) fn into_rec(self, time_ps: u64) -> Option<Rec> {
        let track = self.track?;
        let mut args = self.args;
        let kind = match self.ev.as_deref() {
            None => Kind::Instant,
            Some(s) => match Kind::parse(s) {
                Some(k) => k,
                None => {
                    args.insert(0, ("ev", Val::Str(s.to_owned())));
                    Kind::Instant
                }
            },
        };
        let name = match (self.name, self.message) {
            (Some(n), Some(m)) => {
                args.push(("message", Val::Str(m)));
                Some(n)
            }
            (Some(n), None) => Some(n),
            (None, m) => m,
        };
        Some(Rec {
            kind,
            time_ps,
            track,
            name,
            dur_ps: self.dur_ps.as_ref().and_then(Val::as_u64_clamped),
            start_ps: self.start_ps.as_ref().and_then(Val::as_u64_clamped),
            value: self.value,
            width: self.width.as_ref().and_then(Val::as_u64_clamped),
            args,
        })
    }

    /// The event's text for the run summary: the message (or `name`),
    /// followed by the other fields as `key=value`.
    pub(crate) fn summary_text(&self) -> String {
        let mut s = String::new();
        if let Some(m) = self.message.as_deref().or(self.name.as_deref()) {
            s.push_str(m);
        }
        let mut extra = |k: &str, v: &Val| {
            if !s.is_empty() {
                s.push(' ');
            }
            let _ = write!(s, "{k}=");
            match v {
                Val::I64(x) => {
                    let _ = write!(s, "{x}");
                }
                Val::U64(x) => {
                    let _ = write!(s, "{x}");
                }
                Val::F64(x) => {
                    let _ = write!(s, "{x}");
                }
                Val::Bool(x) => {
                    let _ = write!(s, "{x}");
                }
                Val::Str(x) => s.push_str(x),
            }
        };
        if self.message.is_some() {
            if let Some(n) = &self.name {
                extra("name", &Val::Str(n.clone()));
            }
        }
        for (k, v) in &self.args {
            extra(k, v);
        }
        s
    }
}

fn val_to_string(v: Val) -> String {
    match v {
        Val::Str(s) => s,
        Val::I64(x) => x.to_string(),
        Val::U64(x) => x.to_string(),
        Val::F64(x) => x.to_string(),
        Val::Bool(x) => x.to_string(),
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Val::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Val::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Val::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(v) => self.put(field, Val::I64(v)),
            Err(_) => self.put(field, Val::Str(value.to_string())),
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        match u64::try_from(value) {
            Ok(v) => self.put(field, Val::U64(v)),
            Err(_) => self.put(field, Val::Str(value.to_string())),
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Val::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Val::Str(value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Val::Str(format!("{value:?}")));
    }
}

/// Writes `ps` as microseconds with exact decimal digits (no float rounding):
/// `1234567` ps -> `1.234567`, `2000000` ps -> `2`, `1500` ps -> `0.0015`.
pub(crate) fn write_us(out: &mut impl std::io::Write, ps: u64) -> std::io::Result<()> {
    let int = ps / 1_000_000;
    let mut frac = ps % 1_000_000;
    if frac == 0 {
        return write!(out, "{int}");
    }
    let mut digits = 6;
    while frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    write!(out, "{int}.{frac:0digits$}")
}

#[cfg(test)]
mod tests {
    use super::write_us;

    fn us(ps: u64) -> String {
        let mut v = Vec::new();
        write_us(&mut v, ps).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn exact_microseconds() {
        assert_eq!(us(0), "0");
        assert_eq!(us(1), "0.000001");
        assert_eq!(us(1500), "0.0015");
        assert_eq!(us(1_234_567), "1.234567");
        assert_eq!(us(2_000_000), "2");
        assert_eq!(us(2_000_010), "2.00001");
        assert_eq!(us(u64::MAX), "18446744073709.551615");
    }
}
