//! vp-redmule
