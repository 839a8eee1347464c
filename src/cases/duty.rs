//! Who answers for a grid at a given moment: its full-time grid worker during office hours on
//! working days, otherwise the community's on-call worker for that ISO week.
//!
//! Office hours are 08:30–12:00 and 13:30–17:30 Asia/Shanghai (UTC+8, no daylight saving) on
//! the working days of the calendar (weekdays, minus holidays, plus make-up working days). The
//! lunch break counts as office time for routing: the grid worker stays responsible.

use crate::demo::calendar::{Date, WorkingCalendar};

/// Seconds east of UTC of Asia/Shanghai.
pub const SHANGHAI_OFFSET_S: i64 = 8 * 3600;
/// Office day starts (minutes after local midnight).
pub const OFFICE_START_MIN: u32 = 8 * 60 + 30;
/// Office day ends (minutes after local midnight).
pub const OFFICE_END_MIN: u32 = 17 * 60 + 30;

/// Who is on duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Office hours: the grid's own full-time worker.
    Office,
    /// Evenings, weekends, holidays: the community's on-call worker of ISO week `week`.
    OnCall {
        /// ISO 8601 week number (1–53).
        week: u32,
    },
}

/// Local date and minutes after midnight in Asia/Shanghai for a Unix time in seconds.
pub fn shanghai_local(unix_s: i64) -> (Date, u32) {
    let local = unix_s + SHANGHAI_OFFSET_S;
    let date = Date::from_days(local.div_euclid(86_400));
    (date, (local.rem_euclid(86_400) / 60) as u32)
}

/// ISO 8601 week number of a date.
pub fn iso_week(d: Date) -> u32 {
    let jan1 = Date {
        year: d.year,
        month: 1,
        day: 1,
    };
    let ordinal = d.days_since_epoch() - jan1.days_since_epoch() + 1;
    let week = (ordinal - i64::from(d.weekday()) + 10) / 7;
    if week < 1 {
        // Belongs to the last week of the previous year.
        return iso_week(Date {
            year: d.year - 1,
            month: 12,
            day: 31,
        });
    }
    if week == 53 {
        // Week 53 exists only if the year's 31 December is a Thursday or later in its week.
        let dec31 = Date {
            year: d.year,
            month: 12,
            day: 31,
        };
        if dec31.weekday() < 4 {
            return 1;
        }
    }
    week as u32
}

/// Who is on duty at Unix time `unix_s` under `calendar`.
pub fn duty_at(unix_s: i64, calendar: &WorkingCalendar) -> Duty {
    let (date, minute) = shanghai_local(unix_s);
    if calendar.is_working_day(date) && (OFFICE_START_MIN..OFFICE_END_MIN).contains(&minute) {
        Duty::Office
    } else {
        Duty::OnCall {
            week: iso_week(date),
        }
    }
}

/// The on-call worker of ISO week `week` in a rota listed in week order.
pub fn on_call<T>(rota: &[T], week: u32) -> Option<&T> {
    if rota.is_empty() {
        return None;
    }
    rota.get((week as usize - 1) % rota.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> WorkingCalendar {
        let csv = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/sources/calendar/cn-2026.csv"
        ))
        .unwrap();
        WorkingCalendar::parse(&csv).unwrap()
    }

    /// Unix seconds of a Shanghai local time.
    fn at(y: i32, m: u32, d: u32, h: i64, min: i64) -> i64 {
        Date {
            year: y,
            month: m,
            day: d,
        }
        .days_since_epoch()
            * 86_400
            + h * 3600
            + min * 60
            - SHANGHAI_OFFSET_S
    }

    #[test]
    fn iso_weeks_at_year_edges() {
        let w = |y, m, d| {
            iso_week(Date {
                year: y,
                month: m,
                day: d,
            })
        };
        assert_eq!(w(2026, 1, 1), 1); // Thursday
        assert_eq!(w(2026, 11, 28), 48);
        assert_eq!(w(2027, 1, 1), 53); // Friday: week 53 of 2026
        assert_eq!(w(2026, 12, 31), 53);
        assert_eq!(w(2024, 12, 30), 1); // Monday of 2025's week 1
        assert_eq!(w(2021, 1, 3), 53); // Sunday: week 53 of 2020
    }

    #[test]
    fn office_hours_evenings_weekends_and_holidays() {
        let c = cal();
        // Friday 2026-11-27 10:00 and 17:29: office; 17:30 and 08:29: on call.
        assert_eq!(duty_at(at(2026, 11, 27, 10, 0), &c), Duty::Office);
        assert_eq!(duty_at(at(2026, 11, 27, 17, 29), &c), Duty::Office);
        assert_eq!(
            duty_at(at(2026, 11, 27, 17, 30), &c),
            Duty::OnCall { week: 48 }
        );
        assert_eq!(
            duty_at(at(2026, 11, 27, 8, 29), &c),
            Duty::OnCall { week: 48 }
        );
        // Saturday: on call.
        assert_eq!(
            duty_at(at(2026, 11, 28, 10, 0), &c),
            Duty::OnCall { week: 48 }
        );
        // National Day holiday (a Thursday) is on call; a make-up Sunday is office.
        assert!(matches!(
            duty_at(at(2026, 10, 1, 10, 0), &c),
            Duty::OnCall { .. }
        ));
        assert_eq!(duty_at(at(2026, 1, 4, 10, 0), &c), Duty::Office);
        // 23:30 UTC on Thursday is 07:30 Friday in Shanghai.
        let utc = Date {
            year: 2026,
            month: 11,
            day: 26,
        }
        .days_since_epoch()
            * 86_400
            + 23 * 3600
            + 30 * 60;
        assert_eq!(
            shanghai_local(utc),
            (
                Date {
                    year: 2026,
                    month: 11,
                    day: 27
                },
                7 * 60 + 30
            )
        );
    }

    #[test]
    fn rota_cycles_by_week() {
        let rota = ["a", "b", "c"];
        assert_eq!(on_call(&rota, 1), Some(&"a"));
        assert_eq!(on_call(&rota, 4), Some(&"a"));
        assert_eq!(on_call(&rota, 53), Some(&"b"));
        assert_eq!(on_call::<&str>(&[], 1), None);
    }
}
