//! redmule-vp: platform assembly, scenarios and CLI.
