//! vp-timer
