//! vp-core
