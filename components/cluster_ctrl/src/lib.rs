//! vp-cluster-ctrl
