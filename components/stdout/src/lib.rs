//! vp-stdout
