//! Working time on the district's calendar: office hours 08:30–12:00 and 13:30–17:30 Asia/Shanghai
//! on working days (weekdays minus public holidays plus make-up working days). SLA stages counted
//! in working hours or working days advance only through office time.
//!
//! A working day is the office time of one day: 7.5 working hours.

use crate::cases::calendar::{Date, SHANGHAI_OFFSET_S, WorkingCalendar, shanghai_local};

/// Office windows of a working day, seconds after local midnight: 08:30–12:00, 13:30–17:30.
pub const OFFICE_WINDOWS_S: [(i64, i64); 2] = [
    (8 * 3600 + 1800, 12 * 3600),
    (13 * 3600 + 1800, 17 * 3600 + 1800),
];

/// Working seconds in one working day (7.5 hours).
pub const WORKING_DAY_S: i64 = 7 * 3600 + 1800;

/// The working calendar of a district, or the plain Monday–Friday week when it has none.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkTime<'a> {
    calendar: Option<&'a WorkingCalendar>,
}

impl<'a> WorkTime<'a> {
    /// Working time on `calendar` (`None`: Monday to Friday, no holidays).
    pub fn new(calendar: Option<&'a WorkingCalendar>) -> WorkTime<'a> {
        WorkTime { calendar }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.calendar {
            Some(c) => c.is_working_day(date),
            None => !date.is_weekend(),
        }
    }

    /// The instant `seconds` of office time after `start` (Unix seconds), skipping evenings,
    /// the lunch break, weekends and holidays. Starting outside office hours, the count begins
    /// at the next office window. Searches at most 3 years ahead (then answers that bound).
    ///
    /// ```
    /// # use tessera::cases::{calendar::WorkingCalendar, worktime::WorkTime};
    /// # use tessera::cases::calendar::rfc3339_shanghai;
    /// let csv = "date,kind,name\n2026-10-01,holiday,National Day\n2026-10-02,holiday,National Day\n\
    ///            2026-10-05,holiday,National Day\n2026-10-06,holiday,National Day\n\
    ///            2026-10-07,holiday,National Day\n2026-10-10,workday,make-up\n";
    /// let cal = WorkingCalendar::parse(csv).unwrap();
    /// let wt = WorkTime::new(Some(&cal));
    /// // Wednesday 2026-09-30 16:00 + 2 working hours: 1.5 h that day, 0.5 h on 8 October.
    /// let start = tessera::cases::calendar::shanghai_unix(2026, 9, 30, 16, 0);
    /// assert_eq!(rfc3339_shanghai(wt.add(start, 2 * 3600)), "2026-10-08T09:00:00+08:00");
    /// ```
    pub fn add(&self, start: i64, seconds: i64) -> i64 {
        let mut remaining = seconds.max(0);
        let (mut date, _) = shanghai_local(start);
        let mut midnight = date.days_since_epoch() * 86_400 - SHANGHAI_OFFSET_S;
        let mut t = start;
        for _ in 0..(3 * 366) {
            if self.is_working_day(date) {
                for (open, close) in OFFICE_WINDOWS_S {
                    let (from, to) = (midnight + open, midnight + close);
                    if t >= to {
                        continue;
                    }
                    let begin = t.max(from);
                    if remaining <= to - begin {
                        return begin + remaining;
                    }
                    remaining -= to - begin;
                    t = to;
                }
            }
            date = date.add_days(1);
            midnight += 86_400;
            t = t.max(midnight);
        }
        t
    }

    /// Office seconds between `from` and `to` (0 when `to` is not later).
    pub fn between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let (mut date, _) = shanghai_local(from);
        let mut midnight = date.days_since_epoch() * 86_400 - SHANGHAI_OFFSET_S;
        let mut total = 0;
        while midnight < to {
            if self.is_working_day(date) {
                for (open, close) in OFFICE_WINDOWS_S {
                    let (a, b) = ((midnight + open).max(from), (midnight + close).min(to));
                    total += (b - a).max(0);
                }
            }
            date = date.add_days(1);
            midnight += 86_400;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::calendar::{rfc3339_shanghai, shanghai_unix};

    fn cn2026() -> WorkingCalendar {
        WorkingCalendar::parse(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/sources/calendar/cn-2026.csv"
        )))
        .unwrap()
    }

    fn at(wt: &WorkTime<'_>, (y, m, d, h, min): (i32, u32, u32, i64, i64), secs: i64) -> String {
        rfc3339_shanghai(wt.add(shanghai_unix(y, m, d, h, min), secs))
    }

    #[test]
    fn the_issue_examples_and_more_across_2026_holidays() {
        let cal = cn2026();
        let wt = WorkTime::new(Some(&cal));
        let h = 3600;
        // National Day: Wednesday 30 Sep 16:00 + 2 h → Thursday 8 Oct 09:00.
        assert_eq!(
            at(&wt, (2026, 9, 30, 16, 0), 2 * h),
            "2026-10-08T09:00:00+08:00"
        );
        // Friday 9 Oct 17:00 + 2 h → Saturday 10 Oct (make-up working day) 10:00.
        assert_eq!(
            at(&wt, (2026, 10, 9, 17, 0), 2 * h),
            "2026-10-10T10:00:00+08:00"
        );
        // Lunch break: 11:30 + 1 h → 14:00.
        assert_eq!(
            at(&wt, (2026, 11, 27, 11, 30), h),
            "2026-11-27T14:00:00+08:00"
        );
        // Evening: Friday 20:00 + 1 h → Monday 09:30.
        assert_eq!(
            at(&wt, (2026, 11, 27, 20, 0), h),
            "2026-11-30T09:30:00+08:00"
        );
        // Spring Festival: Friday 13 Feb 17:00 + 1 working day: half an hour that day, the
        // other 7 h on Saturday 14 Feb (a make-up working day).
        assert_eq!(
            at(&wt, (2026, 2, 13, 17, 0), WORKING_DAY_S),
            "2026-02-14T17:00:00+08:00"
        );
        // ... and + 2 working days crosses the whole festival (15–23 Feb) to the 24th.
        assert_eq!(
            at(&wt, (2026, 2, 13, 17, 0), 2 * WORKING_DAY_S),
            "2026-02-24T17:00:00+08:00"
        );
        // Labour Day: Thursday 30 Apr 09:00 + 3 working days: 30 Apr, 6 May, 7 May (1–5 off).
        assert_eq!(
            at(&wt, (2026, 4, 30, 9, 0), 3 * WORKING_DAY_S),
            "2026-05-08T09:00:00+08:00"
        );
        // New Year: Wednesday 31 Dec 2025 17:00 + 2 h → Sunday 4 Jan 2026 (make-up) 10:00.
        assert_eq!(
            at(&wt, (2025, 12, 31, 17, 0), 2 * h),
            "2026-01-04T10:00:00+08:00"
        );
        // Without a calendar, National Day is an ordinary Thursday.
        let plain = WorkTime::new(None);
        assert_eq!(
            at(&plain, (2026, 9, 30, 16, 0), 2 * h),
            "2026-10-01T09:00:00+08:00"
        );
    }

    #[test]
    fn between_counts_office_time_only() {
        let cal = cn2026();
        let wt = WorkTime::new(Some(&cal));
        let a = shanghai_unix(2026, 9, 30, 16, 0);
        let b = wt.add(a, 5 * 3600);
        assert_eq!(wt.between(a, b), 5 * 3600);
        assert_eq!(wt.between(b, a), 0);
        // A whole working day in the middle of the week.
        assert_eq!(
            wt.between(
                shanghai_unix(2026, 11, 25, 0, 0),
                shanghai_unix(2026, 11, 26, 0, 0)
            ),
            WORKING_DAY_S
        );
    }
}
