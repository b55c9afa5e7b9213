//! vp-traces
