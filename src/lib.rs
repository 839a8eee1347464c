//! tessera: the spatial back office of grid-based city governance.
//!
//! - [`spatial`]: pure geometry — grid layers, coverage validation and repair, point location,
//!   Chinese coordinate systems, metric measures.
//! - [`cli`]: the `tessera` command line.

pub mod cli;
pub mod demo;
pub mod spatial;
