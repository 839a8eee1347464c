//! Who answers for a grid at a given moment: its full-time grid worker during office hours on
//! working days, otherwise the community's on-call worker for that ISO week. This is the one
//! place the duty rule lives; the service builds a [`DutyRoster`] from its reference data and
//! asks it.
//!
//! Office hours are 08:30–12:00 and 13:30–17:30 Asia/Shanghai (UTC+8, no daylight saving) on
//! the working days of the calendar (weekdays, minus holidays, plus make-up working days). The
//! lunch break counts as office time for routing: the grid worker stays responsible.

use crate::cases::calendar::{Date, WorkingCalendar, shanghai_local};
use serde::Serialize;
use std::collections::HashMap;

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

impl Duty {
    /// The mode without the week.
    pub fn mode(self) -> DutyMode {
        match self {
            Duty::Office => DutyMode::Office,
            Duty::OnCall { .. } => DutyMode::OnCall,
        }
    }
}

/// Whether the worker answering is the grid's own (office hours) or the on-call one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DutyMode {
    /// Office hours on a working day: the grid's full-time worker.
    Office,
    /// Outside office hours: the community's on-call worker of the week.
    OnCall,
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

/// Who is on duty at Unix time `unix_s` under `calendar` (`None`: the plain Monday–Friday
/// week, no holidays).
pub fn duty_at(unix_s: i64, calendar: Option<&WorkingCalendar>) -> Duty {
    let (date, minute) = shanghai_local(unix_s);
    let working = match calendar {
        Some(c) => c.is_working_day(date),
        None => !date.is_weekend(),
    };
    if working && (OFFICE_START_MIN..OFFICE_END_MIN).contains(&minute) {
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

/// The duty roster of a district: each grid's full-time worker, each community's on-call rota
/// and the working calendar. Worker ids are opaque strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DutyRoster {
    /// The full-time grid worker's id of each grid, by grid code.
    pub grid_worker: HashMap<String, String>,
    /// Each community's on-call worker ids in week order, by community code.
    pub on_call: HashMap<String, Vec<String>>,
    /// The working calendar; `None` is the plain Monday–Friday week.
    pub calendar: Option<WorkingCalendar>,
}

/// The answer of [`DutyRoster::on_duty`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDuty<'a> {
    /// The worker's id; `None` when the grid has no worker and the community no rota.
    pub worker: Option<&'a str>,
    /// Office hours or on call.
    pub mode: DutyMode,
}

impl DutyRoster {
    /// Who answers for grid `grid` of community `community` at Unix time `now_s`: the grid's
    /// worker in office hours; otherwise the community's rota worker of the ISO week, or the
    /// grid's worker when the community has no rota.
    pub fn on_duty(&self, grid: &str, community: &str, now_s: i64) -> OnDuty<'_> {
        let duty = duty_at(now_s, self.calendar.as_ref());
        let own = self.grid_worker.get(grid).map(String::as_str);
        let worker = match duty {
            Duty::Office => own,
            Duty::OnCall { week } => self
                .on_call
                .get(community)
                .and_then(|rota| on_call(rota, week))
                .map(String::as_str)
                .or(own),
        };
        OnDuty {
            worker,
            mode: duty.mode(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::calendar::SHANGHAI_OFFSET_S;

    fn cal() -> WorkingCalendar {
        let csv = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/sources/calendar/cn-2026.csv"
        ));
        WorkingCalendar::parse(csv).unwrap()
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
        assert_eq!(duty_at(at(2026, 11, 27, 10, 0), Some(&c)), Duty::Office);
        assert_eq!(duty_at(at(2026, 11, 27, 17, 29), Some(&c)), Duty::Office);
        assert_eq!(
            duty_at(at(2026, 11, 27, 17, 30), Some(&c)),
            Duty::OnCall { week: 48 }
        );
        assert_eq!(
            duty_at(at(2026, 11, 27, 8, 29), Some(&c)),
            Duty::OnCall { week: 48 }
        );
        // Saturday: on call.
        assert_eq!(
            duty_at(at(2026, 11, 28, 10, 0), Some(&c)),
            Duty::OnCall { week: 48 }
        );
        // National Day holiday (a Thursday) is on call; a make-up Sunday is office.
        assert!(matches!(
            duty_at(at(2026, 10, 1, 10, 0), Some(&c)),
            Duty::OnCall { .. }
        ));
        assert_eq!(duty_at(at(2026, 1, 4, 10, 0), Some(&c)), Duty::Office);
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

    #[test]
    fn roster_answers_the_grid_worker_then_the_rota_then_falls_back() {
        let roster = DutyRoster {
            grid_worker: HashMap::from([("G1".to_string(), "w1".to_string())]),
            on_call: HashMap::from([(
                "C1".to_string(),
                vec!["r1".to_string(), "r2".to_string(), "r3".to_string()],
            )]),
            calendar: Some(cal()),
        };
        let friday_10 = at(2026, 11, 27, 10, 0);
        let saturday_10 = at(2026, 11, 28, 10, 0);
        assert_eq!(
            roster.on_duty("G1", "C1", friday_10),
            OnDuty {
                worker: Some("w1"),
                mode: DutyMode::Office
            }
        );
        // ISO week 48: the (48 - 1) % 3 = 2nd entry, counting from 0.
        assert_eq!(
            roster.on_duty("G1", "C1", saturday_10),
            OnDuty {
                worker: Some("r3"),
                mode: DutyMode::OnCall
            }
        );
        // A community without a rota: the grid's own worker, still on call.
        assert_eq!(
            roster.on_duty("G1", "C9", saturday_10),
            OnDuty {
                worker: Some("w1"),
                mode: DutyMode::OnCall
            }
        );
        assert_eq!(roster.on_duty("G9", "C9", friday_10).worker, None);
        // Without a calendar the plain week applies: National Day (a Thursday) is worked.
        let plain = DutyRoster {
            calendar: None,
            ..roster.clone()
        };
        assert_eq!(
            plain.on_duty("G1", "C1", at(2026, 10, 1, 10, 0)).mode,
            DutyMode::Office
        );
        assert_eq!(
            roster.on_duty("G1", "C1", at(2026, 10, 1, 10, 0)).mode,
            DutyMode::OnCall
        );
    }
}
