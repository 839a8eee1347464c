//! Points for `tessera locate`: CSV (RFC 4180, read with the `csv` crate) with a `lon,lat`
//! pair per row.
//!
//! - A first row whose columns are named (`lon`/`lng`/`longitude`/`x` and `lat`/`latitude`/`y`,
//!   any case, in any order, among other columns) is the header: those columns are read, and
//!   every column is written back. A first row of two numbers means there is no header: the
//!   columns are `lon,lat`.
//! - Every row must have as many fields as the first one, so a row like `118,0005,36,8005`
//!   (comma decimals) is refused, naming its line, instead of being read as other numbers.
//! - Coordinates must be finite numbers with lon in −180..180 and lat in −90..90.

use anyhow::{Context, bail};
use geo_types::Coord;

/// Points read from CSV, with the columns to write back.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// The header written back (the input's, or `lon,lat` when it had none).
    pub header: Vec<String>,
    /// Each row's fields as read.
    pub rows: Vec<Vec<String>>,
    /// Each row's point (in the input's CRS).
    pub at: Vec<Coord<f64>>,
}

const LON_NAMES: [&str; 4] = ["lon", "lng", "longitude", "x"];
const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];

fn column(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
}

/// Reads CSV points. Errors name the line (counting from 1) and what is wrong.
pub fn read_points(text: &str) -> anyhow::Result<Points> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let Some(first) = records.next() else {
        return Ok(Points {
            header: vec!["lon".into(), "lat".into()],
            rows: Vec::new(),
            at: Vec::new(),
        });
    };
    let first = first.context("points line 1")?;
    let first: Vec<String> = first.iter().map(str::to_string).collect();
    let numeric = first.len() == 2 && first.iter().all(|f| f.parse::<f64>().is_ok());
    let (header, lon_col, lat_col, mut rows) = if numeric {
        (
            vec!["lon".to_string(), "lat".to_string()],
            0,
            1,
            vec![first],
        )
    } else {
        let (Some(lon), Some(lat)) = (column(&first, &LON_NAMES), column(&first, &LAT_NAMES))
        else {
            bail!(
                "points line 1: {:?} is neither two numbers lon,lat nor a header naming the \
                 longitude ({}) and latitude ({}) columns",
                first.join(","),
                LON_NAMES.join("/"),
                LAT_NAMES.join("/")
            );
        };
        (first, lon, lat, Vec::new())
    };
    for record in records {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => anyhow::anyhow!(
                "points line {}: {len} fields where the first line has {expected_len} (a comma \
                 used as the decimal mark? quote such fields, or use a point)",
                pos.as_ref().map_or(0, |p| p.line())
            ),
            _ => anyhow::anyhow!("points: {e}"),
        })?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    let first_data_line = if numeric { 1 } else { 2 };
    let mut at = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let line = i + first_data_line;
        let (lon_text, lat_text) = (&row[lon_col], &row[lat_col]);
        let (Ok(lon), Ok(lat)) = (lon_text.parse::<f64>(), lat_text.parse::<f64>()) else {
            bail!("points line {line}: {lon_text:?},{lat_text:?} is not two numbers lon,lat");
        };
        if !(lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat))
        {
            bail!("points line {line}: {lon},{lat} is not a valid lon,lat");
        }
        at.push(Coord { x: lon, y: lat });
    }
    Ok(Points { header, rows, at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headerless_pairs() {
        let p = read_points("118.05,36.81\n118.06, 36.82\n\n").unwrap();
        assert_eq!(p.header, ["lon", "lat"]);
        assert_eq!(
            p.at,
            [
                Coord {
                    x: 118.05,
                    y: 36.81
                },
                Coord {
                    x: 118.06,
                    y: 36.82
                }
            ]
        );
    }

    #[test]
    fn named_columns_in_any_order_and_quoted_fields() {
        let p = read_points("id,Latitude,Longitude\n\"a, b\",36.81,118.05\nc,\"36.82\",118.06\n")
            .unwrap();
        assert_eq!(p.header, ["id", "Latitude", "Longitude"]);
        assert_eq!(p.rows[0], ["a, b", "36.81", "118.05"]);
        assert_eq!(
            p.at[1],
            Coord {
                x: 118.06,
                y: 36.82
            }
        );
        let p = read_points("y,x\n36.81,118.05\n").unwrap();
        assert_eq!(
            p.at[0],
            Coord {
                x: 118.05,
                y: 36.81
            }
        );
    }

    #[test]
    fn comma_decimals_and_ragged_rows_are_refused_by_line() {
        let e = read_points("lon,lat\n118.05,36.81\n118,0005,36,8005\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("points line 3: 4 fields where the first line has 2"),
            "{e}"
        );
        let e = read_points("118.05,36.81\n118.06\n").unwrap_err();
        assert!(e.to_string().starts_with("points line 2: 1 fields"), "{e}");
        let e = read_points("a,b\n1,2\n").unwrap_err();
        assert!(e.to_string().starts_with("points line 1:"), "{e}");
        let e = read_points("lon,lat\n118.05,north\n").unwrap_err();
        assert!(e.to_string().starts_with("points line 2:"), "{e}");
        let e = read_points("lon,lat\n218.05,36\n").unwrap_err();
        assert!(e.to_string().contains("not a valid lon,lat"), "{e}");
    }
}
