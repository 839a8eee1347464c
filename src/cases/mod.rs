//! Pure case-domain rules (no I/O, no clock: callers pass `now`). So far: who is on duty.

pub mod duty;
