//! The synthetic geometry of the Zhangdian demo district: 13 streets/towns, 304 communities and
//! villages, and the grids, each level tiling its parent exactly.
//!
//! Only the district outline and the names and codes are real. Everything inside is generated:
//! street, community and grid cells are Voronoi cells of seeded sites (dense in the urban core,
//! sparse in the towns), clipped to their parent, computed in a local metric projection. The
//! grids are then cleaned together with [`crate::spatial::repair`] (snapped, noded, clipped to
//! the outline), and communities, streets and the boundary are dissolved from the grids, so
//! every level shares the grids' vertices and tiles its parent exactly.

use crate::spatial::dissolve::dissolve;
use crate::spatial::layer::{Grid, GridLayer};
use crate::spatial::measure::{LocalMetric, area_m2};
use crate::spatial::repair::{RepairOptions, repair};
use crate::spatial::synth::Rng;
use geo::{Area, BooleanOps, BoundingRect, Centroid, Contains, Voronoi};
use geo_types::{Coord, LineString, MultiPoint, MultiPolygon, Point, Polygon};

/// A township-level unit (街道 or 镇) from the official list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Town {
    /// 9-digit code, e.g. `370303001`.
    pub code: String,
    /// Official name, e.g. `车站街道`.
    pub name: String,
}

/// A community (社区居委会) or village (村委会) from the official list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Village {
    /// 12-digit code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Code of its street or town.
    pub town: String,
}

impl Village {
    /// True for a village committee (村委会), false for an urban community.
    pub fn is_village(&self) -> bool {
        self.name.ends_with("村委会") || self.name.ends_with("村民委员会")
    }

    /// The everyday name: `新华社区` for `新华社区居委会`, `王家村` for `王家村委会`.
    pub fn short_name(&self) -> String {
        for suffix in ["居民委员会", "居委会", "村民委员会", "委会"] {
            if let Some(s) = self.name.strip_suffix(suffix) {
                return s.to_string();
            }
        }
        self.name.clone()
    }
}

/// One generated grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// Community code + 3-digit sequence.
    pub code: String,
    /// e.g. `新华社区第3网格`.
    pub name: String,
    /// residential, village, street-shops, commercial-building, market, mall, construction-site.
    pub kind: &'static str,
    /// Index into [`District::communities`].
    pub community: usize,
    /// Households (synthetic).
    pub households: u32,
    /// Residents (synthetic).
    pub population: u32,
    /// Polygon, WGS84.
    pub geometry: MultiPolygon<f64>,
}

/// A generated community or village.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// The official unit.
    pub unit: Village,
    /// Index into [`District::streets`].
    pub street: usize,
    /// Dissolved from its grids.
    pub geometry: MultiPolygon<f64>,
}

/// A generated street or town.
#[derive(Debug, Clone, PartialEq)]
pub struct Street {
    /// The official unit.
    pub unit: Town,
    /// Dissolved from its communities' grids.
    pub geometry: MultiPolygon<f64>,
}

/// The whole generated district.
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    /// Union of all grids (equals the outline up to snapping).
    pub boundary: MultiPolygon<f64>,
    /// 13 streets and towns, in code order.
    pub streets: Vec<Street>,
    /// Communities and villages, in code order.
    pub communities: Vec<Community>,
    /// Grids, in code order.
    pub grids: Vec<GridCell>,
}

/// Why the district could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DistrictError {
    /// The inputs do not fit together.
    #[error("{0}")]
    Input(String),
    /// A Voronoi diagram could not be built.
    #[error("Voronoi cells for {0}: {1}")]
    Voronoi(String, String),
    /// Cleaning the grids failed.
    #[error("cleaning the grid layer: {0}")]
    Repair(#[from] crate::spatial::repair::RepairError),
}

/// Where each street/town's site sits: bearing (degrees counter-clockwise from east) and distance
/// from the district centre as a fraction of the outline's half-size. Urban 街道 in the core,
/// 镇 around it. Synthetic: no official sub-district boundaries are published.
fn site_of(code: &str, i: usize) -> (f64, f64) {
    match &code[code.len().saturating_sub(3)..] {
        "001" => (0.0, 0.02),
        "002" => (110.0, 0.16),
        "003" => (20.0, 0.30),
        "004" => (230.0, 0.16),
        "005" => (180.0, 0.30),
        "006" => (310.0, 0.17),
        "008" => (60.0, 0.48),
        "009" => (285.0, 0.40),
        "101" => (255.0, 0.78),
        "102" => (320.0, 0.75),
        "104" => (95.0, 0.75),
        "105" => (160.0, 0.72),
        "107" => (30.0, 0.80),
        _ => ((i as f64) * 360.0 / 13.0, 0.6),
    }
}

/// Households per km² for the density of urban communities, by distance from the centre.
fn urban_households_per_km2(dist_frac: f64) -> f64 {
    2500.0 + 6000.0 * (-dist_frac * dist_frac / 0.08).exp()
}

/// Generates the district inside `outline` (WGS84). `total_grids` grids are spread over the
/// communities by households (≈ 400 per urban grid, ≈ 300 per village grid).
pub fn generate(
    outline: &MultiPolygon<f64>,
    towns: &[Town],
    villages: &[Village],
    total_grids: usize,
    seed: u64,
) -> Result<District, DistrictError> {
    if villages.len() > total_grids {
        return Err(DistrictError::Input(format!(
            "{} communities cannot share {total_grids} grids",
            villages.len()
        )));
    }
    let lm = LocalMetric::around(outline);
    let main = outline
        .0
        .iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
        .ok_or_else(|| DistrictError::Input("the outline has no polygon".into()))?;
    let main_m = MultiPolygon(vec![project(main, &lm)]);
    let mut rng = Rng::new(seed);

    // Streets.
    let bbox = main_m
        .bounding_rect()
        .ok_or_else(|| DistrictError::Input("empty outline".into()))?;
    let centre = main_m.centroid().map(|p| p.0).unwrap_or(bbox.center());
    let half = bbox.width().min(bbox.height()) / 2.0;
    let mut sites = Vec::new();
    for (i, t) in towns.iter().enumerate() {
        let (bearing, frac) = site_of(&t.code, i);
        let mut p = Coord {
            x: centre.x + frac * half * bearing.to_radians().cos(),
            y: centre.y + frac * half * bearing.to_radians().sin(),
        };
        while !main_m.contains(&Point(p)) {
            p = Coord {
                x: centre.x + 0.9 * (p.x - centre.x),
                y: centre.y + 0.9 * (p.y - centre.y),
            };
        }
        sites.push(p);
    }
    let street_cells = voronoi_in(&sites, &main_m, "the streets")?;

    // Communities inside each street.
    let mut comm_cells: Vec<(usize, MultiPolygon<f64>)> =
        vec![(0, MultiPolygon(vec![])); villages.len()];
    for (s, town) in towns.iter().enumerate() {
        let members: Vec<usize> = (0..villages.len())
            .filter(|&v| villages[v].town == town.code)
            .collect();
        if members.is_empty() {
            return Err(DistrictError::Input(format!(
                "{} {} has no communities",
                town.code, town.name
            )));
        }
        let cells = split(
            &street_cells[s],
            members.len(),
            &mut rng,
            &format!("{} {}", town.code, town.name),
        )?;
        for (m, cell) in members.into_iter().zip(cells) {
            comm_cells[m] = (s, cell);
        }
    }

    // Households and the number of grids per community.
    let households: Vec<f64> = villages
        .iter()
        .zip(&comm_cells)
        .map(|(v, (_, cell))| {
            let km2 = cell.unsigned_area() / 1e6;
            if v.is_village() {
                rng.range(450.0, 1100.0)
            } else {
                let c = cell.centroid().map(|p| p.0).unwrap_or(centre);
                let d = ((c.x - centre.x).hypot(c.y - centre.y) / half).min(2.0);
                (km2 * urban_households_per_km2(d)).clamp(900.0, 4500.0)
            }
        })
        .collect();
    let weights: Vec<f64> = villages
        .iter()
        .zip(&households)
        .map(|(v, h)| h / if v.is_village() { 300.0 } else { 400.0 })
        .collect();
    let counts = apportion(&weights, total_grids);

    // Grids inside each community, in metric coordinates, then back to lon/lat.
    let mut cells: Vec<GridCell> = Vec::with_capacity(total_grids);
    for (c, v) in villages.iter().enumerate() {
        let n = counts[c];
        let parts = split(
            &comm_cells[c].1,
            n,
            &mut rng,
            &format!("{} {}", v.code, v.name),
        )?;
        let short = v.short_name();
        let mut shares: Vec<f64> = (0..n).map(|_| rng.range(0.8, 1.2)).collect();
        let total: f64 = shares.iter().sum();
        shares.iter_mut().for_each(|s| *s /= total);
        for (k, part) in parts.into_iter().enumerate() {
            let hh = (households[c] * shares[k]).round().max(20.0) as u32;
            let per = if v.is_village() {
                rng.range(2.6, 3.2)
            } else {
                rng.range(2.3, 2.9)
            };
            cells.push(GridCell {
                code: format!("{}{:03}", v.code, k + 1),
                name: format!("{short}第{}网格", k + 1),
                kind: if v.is_village() {
                    "village"
                } else {
                    "residential"
                },
                community: c,
                households: hh,
                population: (hh as f64 * per).round() as u32,
                geometry: MultiPolygon(part.0.iter().map(|p| unproject(p, &lm)).collect()),
            });
        }
    }
    carve_special_kinds(&mut cells, villages, &mut rng);

    // Clean all grids together against the real outline: shared vertices everywhere.
    let layer = GridLayer {
        grids: cells
            .iter()
            .enumerate()
            .map(|(i, c)| Grid {
                key: c.code.clone(),
                index: i,
                geometry: c.geometry.clone(),
                properties: Default::default(),
            })
            .collect(),
    };
    let cleaned = repair(
        &layer,
        &RepairOptions {
            boundary: Some(outline.clone()),
            snap_m: 0.05,
            gap_width_m: 5.0,
            ..Default::default()
        },
    )?;
    if cleaned.layer.grids.len() != cells.len() {
        let lost: Vec<String> = cleaned
            .changes
            .iter()
            .filter(|c| c.removed)
            .map(|c| format!("{} ({:.0} m²)", c.grid, c.area_before_m2))
            .collect();
        return Err(DistrictError::Input(format!(
            "cleaning lost {} grids: {}",
            lost.len(),
            lost.join(", ")
        )));
    }
    for (cell, g) in cells.iter_mut().zip(&cleaned.layer.grids) {
        cell.geometry = g.geometry.clone();
    }

    let communities: Vec<Community> = villages
        .iter()
        .enumerate()
        .map(|(c, v)| Community {
            unit: v.clone(),
            street: comm_cells[c].0,
            geometry: dissolve(
                cells
                    .iter()
                    .filter(|g| g.community == c)
                    .flat_map(|g| g.geometry.0.iter()),
            ),
        })
        .collect();
    let streets: Vec<Street> = towns
        .iter()
        .enumerate()
        .map(|(s, t)| Street {
            unit: t.clone(),
            geometry: dissolve(
                cells
                    .iter()
                    .filter(|g| communities[g.community].street == s)
                    .flat_map(|g| g.geometry.0.iter()),
            ),
        })
        .collect();
    let boundary = dissolve(cells.iter().flat_map(|g| g.geometry.0.iter()));
    Ok(District {
        boundary,
        streets,
        communities,
        grids: cells,
    })
}

fn project(p: &Polygon<f64>, lm: &LocalMetric) -> Polygon<f64> {
    let ring = |r: &LineString<f64>| LineString(r.0.iter().map(|&c| lm.to_xy(c)).collect());
    Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
}

fn unproject(p: &Polygon<f64>, lm: &LocalMetric) -> Polygon<f64> {
    // Rounded to 1e-7° (≈ 1 cm): plenty for grid boundaries, and compact files.
    let round = |c: Coord<f64>| {
        let c = lm.to_lonlat(c);
        Coord {
            x: (c.x * 1e7).round() / 1e7,
            y: (c.y * 1e7).round() / 1e7,
        }
    };
    let ring = |r: &LineString<f64>| {
        let mut v: Vec<Coord<f64>> = r.0.iter().map(|&c| round(c)).collect();
        v.dedup();
        LineString(v)
    };
    Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
}

/// Splits an area (metric coordinates) into `n` Voronoi cells of well-spread random sites.
fn split(
    poly: &MultiPolygon<f64>,
    n: usize,
    rng: &mut Rng,
    what: &str,
) -> Result<Vec<MultiPolygon<f64>>, DistrictError> {
    if n <= 1 {
        return Ok(vec![poly.clone()]);
    }
    let sites = spread_sites(poly, n, rng);
    voronoi_in(&sites, poly, what)
}

/// `n` random sites inside `poly`, each the best of several candidates (farthest from the
/// sites so far), so cells come out of similar size.
fn spread_sites(poly: &MultiPolygon<f64>, n: usize, rng: &mut Rng) -> Vec<Coord<f64>> {
    let Some(r) = poly.bounding_rect() else {
        return Vec::new();
    };
    let mut sites: Vec<Coord<f64>> = Vec::with_capacity(n);
    let mut guard = 0;
    while sites.len() < n && guard < 100_000 {
        let mut best: Option<(f64, Coord<f64>)> = None;
        let mut tries = 0;
        while tries < 12 && guard < 100_000 {
            guard += 1;
            let p = Coord {
                x: rng.range(r.min().x, r.max().x),
                y: rng.range(r.min().y, r.max().y),
            };
            if !poly.contains(&Point(p)) {
                continue;
            }
            tries += 1;
            let d = sites
                .iter()
                .map(|s| (s.x - p.x).hypot(s.y - p.y))
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(bd, _)| d > bd) {
                best = Some((d, p));
            }
        }
        if let Some((_, p)) = best {
            sites.push(p);
        }
    }
    sites
}

/// Voronoi cells of `sites` clipped to `clip`, in the order of the sites. A cell cut in pieces
/// by a concave outline keeps all its pieces (so the cells still tile `clip`).
fn voronoi_in(
    sites: &[Coord<f64>],
    clip: &MultiPolygon<f64>,
    what: &str,
) -> Result<Vec<MultiPolygon<f64>>, DistrictError> {
    let mut pts: Vec<Point<f64>> = sites.iter().map(|&c| Point(c)).collect();
    // Voronoi needs three sites that are not collinear, and cells reaching past `clip`: add
    // far-away sites, whose cells are clipped off below.
    let r = clip
        .bounding_rect()
        .ok_or_else(|| DistrictError::Voronoi(what.into(), "empty polygon".into()))?;
    let far = 10.0 * (r.width() + r.height());
    let c = r.center();
    for (dx, dy) in [(-far, -far), (far, -far), (0.0, far)] {
        pts.push(Point(Coord {
            x: c.x + dx,
            y: c.y + dy,
        }));
    }
    let cells = MultiPoint(pts)
        .voronoi_cells()
        .map_err(|e| DistrictError::Voronoi(what.into(), format!("{e:?}")))?;
    // Match cells to sites by containment (robust to the library's output order), then clip.
    let mut out = vec![MultiPolygon(vec![]); sites.len()];
    for cell in cells {
        if let Some(i) = sites.iter().position(|&s| cell.contains(&Point(s))) {
            out[i] = clip.intersection(&cell);
        }
    }
    if let Some(i) = out.iter().position(|p| p.0.is_empty()) {
        return Err(DistrictError::Voronoi(
            what.into(),
            format!("site {i} got no cell"),
        ));
    }
    Ok(out)
}

/// Splits `total` into integer parts proportional to `weights`, each at least 1 (largest
/// remainder method; ties to the earlier entry).
pub fn apportion(weights: &[f64], total: usize) -> Vec<usize> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let spare = total.saturating_sub(n) as f64;
    let sum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * spare).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| 1 + e.floor() as usize).collect();
    let mut left = total.saturating_sub(counts.iter().sum());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    counts
}

/// Gives some urban grids special kinds: the smaller grids of larger communities become street
/// shops, commercial buildings, markets, malls and construction sites (about 12 % in all).
fn carve_special_kinds(cells: &mut [GridCell], villages: &[Village], rng: &mut Rng) {
    const KINDS: [(&str, f64); 5] = [
        ("street-shops", 0.04),
        ("commercial-building", 0.03),
        ("market", 0.02),
        ("mall", 0.01),
        ("construction-site", 0.02),
    ];
    let urban: Vec<usize> = (0..cells.len())
        .filter(|&i| !villages[cells[i].community].is_village())
        .collect();
    let mut by_area: Vec<(f64, usize)> = urban
        .iter()
        .map(|&i| (area_m2(&cells[i].geometry), i))
        .collect();
    by_area.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    // Pick from the smaller half, at random, without repeats.
    let mut pool: Vec<usize> = by_area[..by_area.len() / 2]
        .iter()
        .map(|&(_, i)| i)
        .collect();
    for (kind, share) in KINDS {
        let n = ((urban.len() as f64) * share).round() as usize;
        for _ in 0..n {
            if pool.is_empty() {
                return;
            }
            let k = (rng.next_u64() % pool.len() as u64) as usize;
            let i = pool.swap_remove(k);
            cells[i].kind = kind;
            cells[i].households = match kind {
                "construction-site" | "market" | "mall" => rng.range(0.0, 30.0) as u32,
                _ => cells[i].households / 3,
            };
            cells[i].population = (cells[i].households as f64 * 2.5).round() as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_keeps_total_and_minimum() {
        let c = apportion(&[1.0, 10.0, 0.0, 5.5], 30);
        assert_eq!(c.iter().sum::<usize>(), 30);
        assert!(c.iter().all(|&n| n >= 1));
        assert!(c[1] > c[3] && c[3] > c[0]);
    }

    #[test]
    fn short_names() {
        let v = |name: &str| Village {
            code: "370303001001".into(),
            name: name.into(),
            town: "370303001".into(),
        };
        assert_eq!(v("新华社区居委会").short_name(), "新华社区");
        assert_eq!(v("王家村委会").short_name(), "王家村");
        assert!(v("王家村委会").is_village() && !v("新华社区居委会").is_village());
    }
}
