//! vp-icache-ctrl
