//! Vector tiles of the published grids on both backends: PostGIS's `ST_AsMVT` and the
//! in-process encoder give the same features; tiles inside the district are covered without
//! gaps or overlaps; bad addresses get a clear 400; `ETag` revalidation answers 304.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::api::{Db, databases, start};
use geo_types::Coord;
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use tessera::http::{AppState, app, tiles};
use tessera::spatial::tile::{BUFFER, DecodedFeature, EXTENT, TileId, decode};
use tower::ServiceExt;

async fn get(
    state: &AppState,
    uri: &str,
    etag: Option<&str>,
) -> (StatusCode, Vec<u8>, Option<String>, Option<String>) {
    let mut req = Request::builder().uri(uri);
    if let Some(e) = etag {
        req = req.header("if-none-match", e);
    }
    let resp = app(state.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let header = |h| {
        resp.headers()
            .get(h)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (ct, tag) = (header("content-type"), header("etag"));
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, bytes, ct, tag)
}

/// Every tile at zoom `z` that the published layer's bounding box reaches.
fn tiles_over(state: &AppState, z: u32) -> Vec<TileId> {
    let live = state.0.live.load();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for g in &live.layer.grids {
        for p in &g.geometry.0 {
            for c in &p.exterior().0 {
                (x0, y0, x1, y1) = (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y));
            }
        }
    }
    let world = TileId::new(0, 0, 0).unwrap();
    let n = f64::from(1u32 << z);
    let e = f64::from(EXTENT);
    let nw = world.project(Coord { x: x0, y: y1 });
    let se = world.project(Coord { x: x1, y: y0 });
    let (tx0, tx1) = ((nw.x / e * n) as u32, (se.x / e * n) as u32);
    let (ty0, ty1) = ((nw.y / e * n) as u32, (se.y / e * n) as u32);
    let mut out = Vec::new();
    for x in tx0..=tx1 {
        for y in ty0..=ty1 {
            out.push(TileId::new(z, x, y).unwrap());
        }
    }
    out
}

fn by_code(features: &[DecodedFeature]) -> BTreeMap<String, &DecodedFeature> {
    let mut m = BTreeMap::new();
    for f in features {
        assert_eq!(f.layer, "grids");
        assert_eq!(f.kind, "Polygon");
        let code = f
            .tag("code")
            .expect("every grid carries its code")
            .to_owned();
        assert!(
            m.insert(code.clone(), f).is_none(),
            "grid {code} twice in one tile"
        );
    }
    m
}

#[tokio::test]
async fn grid_tiles_agree_across_backends_and_cover_the_district() {
    for db in databases("grid_tiles_agree_across_backends_and_cover_the_district").await {
        grid_tiles(db).await;
    }
}

async fn grid_tiles(db: Db) {
    let postgres = matches!(db, Db::Postgres(_));
    let state = start(&db).await;
    let live = state.0.live.load_full();
    assert!(live.layer.grids.len() > 1000);
    let mut full_tiles = 0;
    let mut seen = std::collections::HashSet::new();
    for z in [9, 11, 13, 14] {
        for t in tiles_over(&state, z) {
            let uri = format!("/tiles/grids/{}/{}/{}.mvt", t.z, t.x, t.y);
            let (status, body, ct, _) = get(&state, &uri, None).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(ct.as_deref(), Some(tiles::MVT_MEDIA_TYPE));
            let served = decode(&body).unwrap();
            let served = by_code(&served);
            // The in-process encoder over the same live index.
            let mine_bytes = tiles::grid_tile_bytes(
                &live,
                t,
                &live.locator.intersecting_envelope(t.query_rect()),
            );
            let mine = decode(&mine_bytes).unwrap();
            let mine = by_code(&mine);
            if postgres {
                // PostGIS made the served tile: the same grids, the same tags, areas within
                // the snapping of a few boundary units.
                let a: Vec<_> = served.keys().collect();
                let b: Vec<_> = mine.keys().collect();
                let only_pg: Vec<_> = a.iter().filter(|k| !mine.contains_key(**k)).collect();
                let only_us: Vec<_> = b.iter().filter(|k| !served.contains_key(**k)).collect();
                // A grid grazing the buffer's edge by less than a unit may fall either way.
                for k in only_pg
                    .iter()
                    .map(|k| served[**k])
                    .chain(only_us.iter().map(|k| mine[**k]))
                {
                    assert!(
                        k.area.abs() <= 64.0,
                        "{uri}: grid {:?} only on one side with area {}",
                        k.tag("code"),
                        k.area
                    );
                }
                for (code, f) in &served {
                    let Some(g) = mine.get(code) else { continue };
                    let mut ta = f.tags.clone();
                    let mut tb = g.tags.clone();
                    ta.sort();
                    tb.sort();
                    assert_eq!(ta, tb, "{uri}: tags of {code}");
                    // Snapping moves each boundary point by at most half a unit (about
                    // 2·√area for a compact shape), and PostGIS also simplifies the
                    // snapped rings (Douglas–Peucker), dropping vertices we keep.
                    let tol = 4.0 + 2.0 * f.area.abs().sqrt() + 0.05 * f.area.abs();
                    assert!(
                        (f.area - g.area).abs() <= tol,
                        "{uri}: grid {code}: PostGIS area {} vs in-process {}",
                        f.area,
                        g.area
                    );
                }
            } else {
                assert_eq!(body, mine_bytes, "{uri}: SQLite serves the in-process tile");
            }
            // Names come with the codes.
            for f in served.values() {
                assert!(
                    f.tag("name").is_some() && f.tag("street").is_some(),
                    "{uri}: {:?}",
                    f.tags
                );
                assert!(
                    f.area > 0.0,
                    "{uri}: shells are clockwise in tile coordinates"
                );
            }
            seen.extend(served.keys().cloned());
            // A tile the coverage fills entirely: the grids tile it without gaps or overlaps
            // (their clipped areas add up to the buffered square).
            let rect = t.query_rect();
            let corners = [
                rect.min(),
                rect.max(),
                Coord {
                    x: rect.min().x,
                    y: rect.max().y,
                },
                Coord {
                    x: rect.max().x,
                    y: rect.min().y,
                },
            ];
            if z >= 13
                && corners.iter().all(|c| live.locator.locate(*c).is_some())
                && inside_outline(&live, rect)
            {
                full_tiles += 1;
                let side = f64::from(EXTENT + 2 * BUFFER);
                let sum: f64 = served.values().map(|f| f.area).sum();
                assert!(
                    (sum - side * side).abs() / (side * side) < 1e-3,
                    "{uri}: areas add up to {sum}, not {}",
                    side * side
                );
            }
        }
    }
    assert!(
        full_tiles > 10,
        "only {full_tiles} tiles lie wholly inside the district"
    );
    assert_eq!(
        seen.len(),
        live.layer.grids.len(),
        "every grid appears in some tile"
    );

    // Revalidation, bad addresses.
    let (status, _, _, etag) = get(&state, "/tiles/grids/12/3391/1596.mvt", None).await;
    assert_eq!(status, StatusCode::OK);
    let etag = etag.expect("tiles carry an ETag");
    let (status, body, _, _) = get(&state, "/tiles/grids/12/3391/1596.mvt", Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    for (uri, what) in [
        ("/tiles/grids/12/3391/1596.png", "1596.png"),
        ("/tiles/grids/25/0/0.mvt", "zoom 25"),
        ("/tiles/grids/3/8/0.mvt", "does not exist at zoom 3"),
    ] {
        let (status, body, _, _) = get(&state, uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "invalid_tile", "{uri}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(what),
            "{uri}: {v}"
        );
    }
    // Far from the district: an empty tile.
    let (status, body, _, _) = get(&state, "/tiles/grids/12/0/0.mvt", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
}

/// Whether the rectangle lies inside the district's outline (no hole of the outline in it).
fn inside_outline(live: &tessera::http::Live, rect: geo_types::Rect<f64>) -> bool {
    use geo::Contains;
    live.outline.contains(&rect.to_polygon())
}
