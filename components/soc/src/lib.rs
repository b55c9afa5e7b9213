//! vp-soc
