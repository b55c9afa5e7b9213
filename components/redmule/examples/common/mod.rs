//! What the schedule examples share.

use vp_redmule::schedule::Geometry;

/// The array from `GEO="rows cols stages"`, else RedMulE's default 12 x 4 x 3.
pub fn geometry_from_env() -> Geometry {
    match std::env::var("GEO") {
        Ok(g) => {
            let v: Vec<u32> = g
                .split_whitespace()
                .map(|s| s.parse().expect("GEO: three numbers, rows cols stages"))
                .collect();
            assert_eq!(v.len(), 3, "GEO: three numbers, rows cols stages");
            Geometry {
                rows: v[0],
                cols: v[1],
                stages: v[2],
            }
        }
        Err(_) => Geometry::REDMULE,
    }
}
