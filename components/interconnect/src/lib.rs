//! vp-interconnect
