//! vp-event-unit
