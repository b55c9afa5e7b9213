//! vp-traffic
