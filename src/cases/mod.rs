//! Pure case-domain rules (no I/O, no clock: callers pass `now`): the working calendar, the
//! urgency and 30135 service level, and who is on duty.

pub mod audit;
pub mod calendar;
pub mod duty;
pub mod impact;
pub mod incidents;
pub mod lifecycle;
pub mod routing;
pub mod sla;
pub mod stats;
pub mod worktime;
