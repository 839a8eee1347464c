//! Pure geometry for grid layers: reading a layer, OGC validity, seamless-coverage validation,
//! repair, pin-to-grid location, Chinese coordinate systems and metric measures.
//!
//! Nothing in this module does I/O beyond parsing values handed to it: callers read files and
//! pass text, and get values back.

pub mod coverage;
pub mod crs;
pub mod diff;
pub mod dissolve;
pub mod edit;
pub mod layer;
pub mod locate;
pub mod measure;
pub mod predicates;
pub mod repair;
pub mod rings;
pub mod synth;
pub mod tile;
pub mod validity;

pub use coverage::{CoverageOptions, CoverageReport, validate_coverage};
pub use layer::{Grid, GridLayer, LayerError, read_layer};
pub use locate::{Hit, Locator};
