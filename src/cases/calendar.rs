//! The working calendar of Asia/Shanghai: civil dates, office hours, public holidays and
//! make-up working days (调休上班), and the local time of a Unix instant.
//!
//! The input is a `cn-YYYY.csv` file: a header `date,kind,name`, then one row per date that
//! differs from the ordinary Monday–Friday week, `kind` being `holiday` (no work, even on a
//! weekday) or `workday` (a weekend day that is worked). The dates come from the State Council
//! General Office's yearly notice (国务院办公厅关于部分节假日安排的通知); the 2026 file is in
//! `geodata/sources/calendar/`. A year without a file has the plain Monday–Friday week.
//! Asia/Shanghai is UTC+8 all year (no daylight saving since 1991).

use serde::Serialize;
use std::fmt;

/// The time zone of every local time (IANA name).
pub const TIMEZONE: &str = "Asia/Shanghai";

/// Office hours on a working day, local time: morning and afternoon.
pub const WORKING_HOURS: [[&str; 2]; 2] = [["08:30", "12:00"], ["13:30", "17:30"]];

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Days in a month of a year (0 for a month outside 1–12).
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date, or `None` when the month or day does not exist.
    ///
    /// ```
    /// # use tessera::cases::calendar::Date;
    /// assert!(Date::new(2028, 2, 29).is_some());
    /// assert!(Date::new(2026, 2, 29).is_none());
    /// ```
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |s: &str| {
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let year = i32::try_from(digits(text.get(0..4)?)?).ok()?;
        Date::new(year, digits(text.get(5..7)?)?, digits(text.get(8..10)?)?)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil, with March as the first month of the year.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        // The casts are exact: day ≤ 31, month ≤ 12, and the year of any i64 day count fits
        // an i32 for every date this crate meets (±5.8 million years).
        Date {
            year: year as i32,
            month: month as u32,
            day: day as u32,
        }
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days_since_epoch() + n)
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        (self.days_since_epoch() + 3).rem_euclid(7) as u32 + 1
    }

    /// Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        self.weekday() >= 6
    }

    /// Three-letter English weekday name.
    pub fn weekday_name(self) -> &'static str {
        WEEKDAYS[(self.weekday() - 1) as usize]
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What is wrong with a calendar file; lines count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No header or no rows.
    #[error("the calendar is empty: expected the header `date,kind,name` and at least one row")]
    Empty,
    /// The first line is not the header.
    #[error("line {line}: expected the header `date,kind,name`, found `{found}`")]
    Header {
        /// Line number.
        line: usize,
        /// What was there.
        found: String,
    },
    /// Fewer than three fields.
    #[error("line {line}: expected 3 comma-separated fields (date,kind,name), found {found}")]
    Fields {
        /// Line number.
        line: usize,
        /// Number of fields found.
        found: usize,
    },
    /// The date field is not a real `YYYY-MM-DD` date.
    #[error("line {line}: `{value}` is not a date of the form YYYY-MM-DD")]
    Date {
        /// Line number.
        line: usize,
        /// The field.
        value: String,
    },
    /// The kind is neither `holiday` nor `workday`.
    #[error("line {line}: kind `{value}` must be `holiday` or `workday`")]
    Kind {
        /// Line number.
        line: usize,
        /// The field.
        value: String,
    },
    /// The name is empty.
    #[error("line {line}: the name is empty")]
    Name {
        /// Line number.
        line: usize,
    },
    /// The same date twice.
    #[error("line {line}: {date} is already listed on line {first}")]
    Duplicate {
        /// Line number.
        line: usize,
        /// The date.
        date: String,
        /// Where it was first listed.
        first: usize,
    },
    /// A date of another year than the first row's.
    #[error("line {line}: {date} is not in {year}, the year of the first row (line {first})")]
    Year {
        /// Line number.
        line: usize,
        /// The date.
        date: String,
        /// The calendar's year.
        year: i32,
        /// The first row's line.
        first: usize,
    },
    /// A make-up working day that is not a weekend day.
    #[error("line {line}: {date} is a {weekday}; a make-up workday must be a Saturday or Sunday")]
    WorkdayNotWeekend {
        /// Line number.
        line: usize,
        /// The date.
        date: String,
        /// Its weekday.
        weekday: &'static str,
    },
}

/// One listed date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// The date, `YYYY-MM-DD`.
    pub date: String,
    /// Three-letter weekday.
    pub weekday: &'static str,
    /// What the day is.
    pub name: String,
}

/// A parsed working calendar for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkingCalendar {
    /// Always [`TIMEZONE`].
    pub timezone: &'static str,
    /// Always [`WORKING_HOURS`].
    pub working_hours: [[&'static str; 2]; 2],
    /// The calendar's year.
    pub year: i32,
    /// How the lists are read.
    pub rule: &'static str,
    /// Days off, sorted.
    pub holidays: Vec<Exception>,
    /// Weekend days that are worked, sorted.
    pub workdays: Vec<Exception>,
    /// Where the dates come from.
    pub source: String,
}

impl WorkingCalendar {
    /// Parses a `cn-YYYY.csv` text.
    pub fn parse(csv: &str) -> Result<WorkingCalendar, CalendarError> {
        let mut lines = csv
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
            .filter(|(_, l)| !l.is_empty());
        let (line, header) = lines.next().ok_or(CalendarError::Empty)?;
        if header.replace(' ', "") != "date,kind,name" {
            return Err(CalendarError::Header {
                line,
                found: header.to_owned(),
            });
        }
        let mut rows: Vec<(Date, usize, bool, String)> = Vec::new();
        let mut first_year: Option<(i32, usize)> = None;
        for (line, text) in lines {
            let fields: Vec<&str> = text.splitn(3, ',').map(str::trim).collect();
            let [date, kind, name] = fields[..] else {
                return Err(CalendarError::Fields {
                    line,
                    found: fields.len(),
                });
            };
            let parsed = Date::parse(date).ok_or_else(|| CalendarError::Date {
                line,
                value: date.to_owned(),
            })?;
            let holiday = match kind {
                "holiday" => true,
                "workday" => false,
                _ => {
                    return Err(CalendarError::Kind {
                        line,
                        value: kind.to_owned(),
                    });
                }
            };
            let name = name.trim_matches('"').trim();
            if name.is_empty() {
                return Err(CalendarError::Name { line });
            }
            let (year, first) = *first_year.get_or_insert((parsed.year, line));
            if parsed.year != year {
                return Err(CalendarError::Year {
                    line,
                    date: date.to_owned(),
                    year,
                    first,
                });
            }
            if let Some(&(_, first, _, _)) = rows.iter().find(|r| r.0 == parsed) {
                return Err(CalendarError::Duplicate {
                    line,
                    date: date.to_owned(),
                    first,
                });
            }
            if !holiday && !parsed.is_weekend() {
                return Err(CalendarError::WorkdayNotWeekend {
                    line,
                    date: date.to_owned(),
                    weekday: parsed.weekday_name(),
                });
            }
            rows.push((parsed, line, holiday, name.to_owned()));
        }
        let Some((year, _)) = first_year else {
            return Err(CalendarError::Empty);
        };
        rows.sort_by_key(|r| r.0);
        let pick = |want_holiday: bool| {
            rows.iter()
                .filter(|r| r.2 == want_holiday)
                .map(|(d, _, _, name)| Exception {
                    date: d.to_string(),
                    weekday: d.weekday_name(),
                    name: name.clone(),
                })
                .collect()
        };
        Ok(WorkingCalendar {
            timezone: TIMEZONE,
            working_hours: WORKING_HOURS,
            year,
            rule: "Monday to Friday are working days except the listed holidays; the listed \
                   workdays are weekend days that are worked (调休上班). Other years: plain \
                   Monday to Friday.",
            holidays: pick(true),
            workdays: pick(false),
            source: format!(
                "国务院办公厅关于{year}年部分节假日安排的通知 (State Council General Office, \
                 holiday arrangements for {year}), transcribed in calendar/cn-{year}.csv"
            ),
        })
    }

    /// Whether `date` is a working day. Dates outside the calendar's year follow the plain
    /// Monday–Friday week.
    pub fn is_working_day(&self, date: Date) -> bool {
        if date.year == self.year {
            let key = date.to_string();
            if self.holidays.iter().any(|e| e.date == key) {
                return false;
            }
            if self.workdays.iter().any(|e| e.date == key) {
                return true;
            }
        }
        !date.is_weekend()
    }
}

/// Seconds east of UTC of Asia/Shanghai.
pub const SHANGHAI_OFFSET_S: i64 = 8 * 3600;

/// Unix seconds of a local Asia/Shanghai date and time.
pub fn shanghai_unix(year: i32, month: u32, day: u32, hour: i64, minute: i64) -> i64 {
    Date { year, month, day }.days_since_epoch() * 86_400 + hour * 3600 + minute * 60
        - SHANGHAI_OFFSET_S
}

/// RFC 3339 local time in Asia/Shanghai with its offset, to the second:
/// `2026-10-08T09:00:00+08:00`.
pub fn rfc3339_shanghai(unix_s: i64) -> String {
    let local = unix_s + SHANGHAI_OFFSET_S;
    let date = Date::from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}+08:00",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Local date and minutes after midnight in Asia/Shanghai for a Unix time in seconds.
///
/// ```
/// # use tessera::cases::calendar::{Date, shanghai_local};
/// // 2026-11-26 23:30 UTC is 07:30 on Friday 27 November in Shanghai.
/// let utc = Date::new(2026, 11, 26).unwrap().days_since_epoch() * 86_400 + 23 * 3600 + 30 * 60;
/// assert_eq!(shanghai_local(utc), (Date::new(2026, 11, 27).unwrap(), 7 * 60 + 30));
/// ```
pub fn shanghai_local(unix_s: i64) -> (Date, u32) {
    let local = unix_s + SHANGHAI_OFFSET_S;
    let date = Date::from_days(local.div_euclid(86_400));
    (date, (local.rem_euclid(86_400) / 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CN_2026: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/geodata/sources/calendar/cn-2026.csv"
    ));

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date {
            year: y,
            month: m,
            day,
        }
    }

    #[test]
    fn date_arithmetic() {
        assert_eq!(d(1970, 1, 1).days_since_epoch(), 0);
        assert_eq!(d(2000, 3, 1).days_since_epoch(), 11_017);
        assert_eq!(d(1969, 12, 31).days_since_epoch(), -1);
        for n in -800_000..800_000i64 {
            if n % 97 == 0 {
                assert_eq!(Date::from_days(n).days_since_epoch(), n);
            }
        }
        assert_eq!(d(2026, 1, 1).weekday_name(), "Thu");
        assert_eq!(d(2026, 2, 28).add_days(1), d(2026, 3, 1));
        assert_eq!(d(2024, 2, 28).add_days(1), d(2024, 2, 29));
        assert_eq!(d(2026, 1, 1).add_days(-1), d(2025, 12, 31));
        assert_eq!(Date::parse("2026-04-05"), Some(d(2026, 4, 5)));
        for bad in [
            "2026-4-05",
            "2026-13-01",
            "2026-02-29",
            "+026-01-01",
            "2026-01-0x",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn real_2026_file() -> Result<(), CalendarError> {
        let cal = WorkingCalendar::parse(CN_2026)?;
        assert_eq!(cal.year, 2026);
        assert_eq!(cal.holidays.len(), 33);
        assert_eq!(cal.workdays.len(), 6);
        assert!(
            cal.workdays
                .iter()
                .all(|w| w.weekday == "Sat" || w.weekday == "Sun")
        );
        assert!(!cal.is_working_day(d(2026, 10, 1)));
        assert!(cal.is_working_day(d(2026, 2, 14)));
        assert!(cal.is_working_day(d(2026, 3, 2)));
        assert!(!cal.is_working_day(d(2026, 3, 7)));
        assert!(!cal.is_working_day(d(2027, 1, 2)));

        assert_eq!(cal.holidays[0].date, "2026-01-01");
        assert_eq!(cal.workdays[0].date, "2026-01-04");
        assert!(cal.source.contains("2026"));
        Ok(())
    }

    #[test]
    fn bad_input_names_the_line() {
        let h = "date,kind,name\n";
        let err = |text: &str| WorkingCalendar::parse(text).err();
        assert_eq!(err(""), Some(CalendarError::Empty));
        assert_eq!(err(h), Some(CalendarError::Empty));
        assert!(matches!(
            err("2026-01-01,holiday,x\n"),
            Some(CalendarError::Header { line: 1, .. })
        ));
        assert_eq!(
            err(&format!("{h}2026-01-01 holiday\n")),
            Some(CalendarError::Fields { line: 2, found: 1 })
        );
        let e = err(&format!(
            "{h}2026-01-01,holiday,a\n\n2026-02-30,holiday,b\n"
        ));
        assert_eq!(
            e.as_ref().map(ToString::to_string).as_deref(),
            Some("line 4: `2026-02-30` is not a date of the form YYYY-MM-DD")
        );
        assert!(matches!(
            err(&format!("{h}2026-01-01,vacation,x\n")),
            Some(CalendarError::Kind { line: 2, .. })
        ));
        assert_eq!(
            err(&format!("{h}2026-01-01,holiday,\n")),
            Some(CalendarError::Name { line: 2 })
        );
        assert!(matches!(
            err(&format!("{h}2026-01-01,holiday,a\n2026-01-01,holiday,b\n")),
            Some(CalendarError::Duplicate {
                line: 3,
                first: 2,
                ..
            })
        ));
        assert!(matches!(
            err(&format!("{h}2026-01-01,holiday,a\n2027-01-01,holiday,b\n")),
            Some(CalendarError::Year {
                line: 3,
                year: 2026,
                first: 2,
                ..
            })
        ));
        let e = err(&format!("{h}2026-01-05,workday,a\n"));
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("line 2: 2026-01-05 is a Mon; a make-up workday must be a Saturday or Sunday")
        );
    }

    #[test]
    fn crlf_and_commas_in_names() -> Result<(), CalendarError> {
        let cal = WorkingCalendar::parse(
            "date,kind,name\r\n2026-05-01,holiday,\"Labour Day, 劳动节\"\r\n",
        )?;
        assert_eq!(cal.holidays[0].name, "Labour Day, 劳动节");
        Ok(())
    }
}
