//! vp-redmule

pub mod schedule;
