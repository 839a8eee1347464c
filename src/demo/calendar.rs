//! `calendar/working-calendar.json` of the demo district: the domain's working calendar
//! ([`crate::cases::calendar::WorkingCalendar`]) written out as JSON:
//! ```text
//! { "timezone": "Asia/Shanghai",
//!   "working_hours": [["08:30","12:00"],["13:30","17:30"]],
//!   "year": 2026,
//!   "rule": "…",
//!   "holidays": [{ "date": "2026-01-01", "weekday": "Thu", "name": "New Year 元旦" }, …],
//!   "workdays": [{ "date": "2026-01-04", "weekday": "Sun", "name": "…" }, …],
//!   "source": "…" }
//! ```

use crate::cases::calendar::{CalendarError, WorkingCalendar};
use serde_json::Value;

/// `calendar.json` from the text of a `cn-YYYY.csv` file.
///
/// ```
/// # use tessera::demo::calendar::working_calendar;
/// let cal = working_calendar("date,kind,name\n2026-10-01,holiday,National Day 国庆节\n")?;
/// assert_eq!(cal["year"], 2026);
/// assert_eq!(cal["holidays"][0]["weekday"], "Thu");
/// # Ok::<(), tessera::cases::calendar::CalendarError>(())
/// ```
pub fn working_calendar(csv: &str) -> Result<Value, CalendarError> {
    let calendar = WorkingCalendar::parse(csv)?;
    Ok(match serde_json::to_value(&calendar) {
        Ok(value) => value,
        // Plain strings, numbers and sequences cannot fail to serialize.
        Err(e) => unreachable!("a working calendar always serializes: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_2026_file_as_json() -> Result<(), CalendarError> {
        let csv = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/sources/calendar/cn-2026.csv"
        ));
        let json = working_calendar(csv)?;
        assert_eq!(json["timezone"], "Asia/Shanghai");
        assert_eq!(
            json["working_hours"],
            serde_json::json!([["08:30", "12:00"], ["13:30", "17:30"]])
        );
        assert_eq!(json["holidays"][0]["date"], "2026-01-01");
        assert_eq!(json["workdays"][0]["date"], "2026-01-04");
        assert_eq!(json["holidays"].as_array().map(Vec::len), Some(33));
        assert!(json["source"].as_str().is_some_and(|s| s.contains("2026")));
        Ok(())
    }
}
