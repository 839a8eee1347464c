//! A `POST /api/v1/cases` body (JSON): read and checked as intake does; never a panic, and a
//! report that passes has a pin inside WGS 84's range when it has one.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = tessera::http::cases::read_report(data) {
        if let (Some(lon), Some(lat)) = (req.lon, req.lat) {
            assert!(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0);
        }
    }
});
