//! The compact owned record that a layer sends to its writer thread, and the
//! visitor that builds it from a `tracing` event on the simulation thread.

use std::collections::BTreeMap;
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

/// The kind of an event from its `ev` field alone (no allocation), so a
/// layer can pass over kinds it does not write before doing any work.
pub(crate) fn peek_kind(event: &Event<'_>) -> Kind {
    struct Peek(Kind);
    impl Visit for Peek {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "ev" {
                self.0 = Kind::parse(value).unwrap_or(Kind::Instant);
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "ev" {
                self.0 = Kind::parse(&format!("{value:?}")).unwrap_or(Kind::Instant);
            }
        }
    }
    let mut p = Peek(Kind::Instant);
    event.record(&mut p);
    p.0
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

/// A string of a record: an id in the layer's string table (track names and
/// `name` fields given as `&str`, sent once) or an owned string (formatted
/// names and messages, which may differ every time).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Str {
    Id(u32),
    Owned(String),
}

/// One timeline event, owned, stamped with simulated time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rec {
    pub kind: Kind,
    /// Simulated time at emission, picoseconds.
    pub time_ps: u64,
    /// Id of the track in the string table.
    pub track: u32,
    /// `name` field, else the message, else `None`.
    pub name: Option<Str>,
    pub dur_ps: Option<u64>,
    pub start_ps: Option<u64>,
    pub value: Option<Val>,
    pub width: Option<u64>,
    /// Remaining fields in declaration order.
    pub args: Vec<(&'static str, Val)>,
}

/// What flows to a writer thread, in emission order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// Defines the next string id (ids count up from 0).
    Def(Box<str>),
    Rec(Rec),
}

/// The simulation-side string table of one layer: each distinct string is
/// sent once as an [`Item::Def`] before its first use. (A `BTreeMap` for the
/// look-up; ids are assigned in first-use order, so output never depends on
/// hashing.)
#[derive(Default)]
pub(crate) struct Interner {
    ids: BTreeMap<Box<str>, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str, items: &mut Vec<Item>) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.insert(s.into(), id);
        items.push(Item::Def(s.into()));
        id
    }
}

/// Builds a [`Rec`] from an event with no allocation in the common case:
/// `track` and `name` are interned, `ev` is parsed in place; only extra
/// fields (when `keep_args`) and formatted values allocate.
pub(crate) struct RecVisitor<'a> {
    interner: &'a mut Interner,
    items: &'a mut Vec<Item>,
    keep_args: bool,
    track: Option<u32>,
    /// `Some(None)`: an `ev` that is not one of the kinds.
    ev: Option<Option<Kind>>,
    unknown_ev: Option<String>,
    name: Option<Str>,
    message: Option<String>,
    dur_ps: Option<Val>,
    start_ps: Option<Val>,
    value: Option<Val>,
    width: Option<Val>,
    args: Vec<(&'static str, Val)>,
}

impl<'a> RecVisitor<'a> {
    pub(crate) fn new(
        interner: &'a mut Interner,
        items: &'a mut Vec<Item>,
        keep_args: bool,
    ) -> Self {
        RecVisitor {
            interner,
            items,
            keep_args,
            track: None,
            ev: None,
            unknown_ev: None,
            name: None,
            message: None,
            dur_ps: None,
            start_ps: None,
            value: None,
            width: None,
            args: Vec::new(),
        }
    }

    /// The kind this event will have (see [`RecVisitor::into_rec`]).
    pub(crate) fn kind(&self) -> Kind {
        match self.ev {
            Some(Some(k)) => k,
            _ => Kind::Instant,
        }
    }

    fn put(&mut self, field: &Field, v: Val) {
        match field.name() {
            "track" | "name" | "ev" => {
                let s = val_to_string(v);
                self.put_str(field, &s);
            }
            "message" => self.message = Some(val_to_string(v)),
            "dur_ps" => self.dur_ps = Some(v),
            "start_ps" => self.start_ps = Some(v),
            "value" => self.value = Some(v),
            "width" => self.width = Some(v),
            other => {
                if self.keep_args {
                    self.args.push((other, v));
                }
            }
        }
    }

    fn put_str(&mut self, field: &Field, s: &str) {
        match field.name() {
            "track" => self.track = Some(self.interner.intern(s, self.items)),
            "name" => self.name = Some(Str::Id(self.interner.intern(s, self.items))),
            "ev" => {
                let k = Kind::parse(s);
                if k.is_none() {
                    self.unknown_ev = Some(s.to_owned());
                }
                self.ev = Some(k);
            }
            _ => self.put(field, Val::Str(s.to_owned())),
        }
    }

    /// The record (time 0: the caller stamps it); `None` without `track`.
    ///
    /// An absent or unknown `ev` makes an instant (an unknown `ev` is kept in
    /// the args); the message becomes the name when `name` is absent,
    /// otherwise it is kept in the args as `message`.
    pub(crate) fn into_rec(self) -> Option<Rec> {
        let track = self.track?;
        let kind = self.kind();
        let mut args = self.args;
        if self.keep_args {
            if let Some(ev) = self.unknown_ev {
                args.insert(0, ("ev", Val::Str(ev)));
            }
        }
        let name = match (self.name, self.message) {
            (Some(n), Some(m)) => {
                if self.keep_args {
                    args.push(("message", Val::Str(m)));
                }
                Some(n)
            }
            (Some(n), None) => Some(n),
            (None, m) => m.map(Str::Owned),
        };
        Some(Rec {
            kind,
            time_ps: 0,
            track,
            name,
            dur_ps: self.dur_ps.as_ref().and_then(Val::as_u64_clamped),
            start_ps: self.start_ps.as_ref().and_then(Val::as_u64_clamped),
            value: self.value,
            width: self.width.as_ref().and_then(Val::as_u64_clamped),
            args,
        })
    }
}

impl Visit for RecVisitor<'_> {
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
        self.put(field, i128_val(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, u128_val(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Val::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put_str(field, value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = Some(format!("{value:?}")),
            // Formatted names (`name = %x`) may differ every time: not interned.
            "name" => self.name = Some(Str::Owned(format!("{value:?}"))),
            "track" | "ev" => {
                let s = format!("{value:?}");
                self.put_str(field, &s);
            }
            _ if !self.keep_args => {}
            _ => self.put(field, Val::Str(format!("{value:?}"))),
        }
    }
}

fn i128_val(value: i128) -> Val {
    match i64::try_from(value) {
        Ok(v) => Val::I64(v),
        Err(_) => Val::Str(value.to_string()),
    }
}

fn u128_val(value: u128) -> Val {
    match u64::try_from(value) {
        Ok(v) => Val::U64(v),
        Err(_) => Val::Str(value.to_string()),
    }
}

/// Collects all the fields of one event, owned (for the run summary).
#[derive(Default)]
pub(crate) struct Fields {
    pub track: Option<String>,
    pub name: Option<String>,
    pub message: Option<String>,
    /// Other fields except `ev`, in declaration order.
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
            "ev" => {}
            "name" => self.name = Some(val_to_string(v)),
            "message" => self.message = Some(val_to_string(v)),
            other => self.args.push((other, v)),
        }
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
        self.put(field, i128_val(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, u128_val(value));
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
