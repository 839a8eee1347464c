//! An Open311 GeoReport v2 POST body (form-encoded): read into fields, made into a case
//! request and checked as intake checks it; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera::http::cases::check_report;
use tessera::http::open311::{case_request, read_form};

fuzz_target!(|data: &[u8]| {
    if let Ok(fields) = read_form(data) {
        if let Ok(req) = case_request(&fields) {
            let _ = check_report(&req);
        }
    }
});
