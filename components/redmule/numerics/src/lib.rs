//! redmule-numerics
