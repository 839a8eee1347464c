//! tessera: the spatial back office of grid-based city governance.
//!
//! - [`spatial`]: pure geometry — grid layers, coverage validation and repair, point location,
//!   Chinese coordinate systems, metric measures.
//! - [`store`]: persistence (embedded SQLite; PostgreSQL/PostGIS behind the same seam).
//! - [`http`]: the axum service; [`http::app`] builds the router for `serve` and for tests.
//! - [`demo`]: the Zhangdian demo district (generator and seeding).
//! - [`cli`]: the `tessera` command line.

pub mod auth;
pub mod cases;
pub mod cli;
pub mod demo;
pub mod http;
pub mod spatial;
pub mod store;
