//! vp-kernel
