//! Distances, and the exact radius filter: the query narrows to a latitude/longitude box,
//! this drops the box's corners.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentReader};

const EARTH_RADIUS_KM: f64 = 6_371.0;

/// Great-circle distance in kilometres.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The box around `center` holding the circle of `radius_km`: (min lat, max lat, min lon,
/// max lon). Near the poles the longitude span is the whole circle.
pub fn bounding_box(center: (f64, f64), radius_km: f64) -> (f64, f64, f64, f64) {
    let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
    let cos = center.0.to_radians().cos();
    let dlon = if cos < 1e-6 {
        180.0
    } else {
        (radius_km / (EARTH_RADIUS_KM * cos))
            .to_degrees()
            .min(180.0)
    };
    (
        (center.0 - dlat).max(-90.0),
        (center.0 + dlat).min(90.0),
        (center.1 - dlon).max(-180.0),
        (center.1 + dlon).min(180.0),
    )
}

/// Passes on to `inner` only documents within `radius_km` of `center`.
pub struct WithinRadius<C> {
    pub inner: C,
    pub center: (f64, f64),
    pub radius_km: f64,
}

impl<C: Collector> Collector for WithinRadius<C> {
    type Fruit = C::Fruit;
    type Child = WithinRadiusSegment<C::Child>;

    fn for_segment(&self, local_id: u32, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let fast = segment.fast_fields();
        Ok(WithinRadiusSegment {
            inner: self.inner.for_segment(local_id, segment)?,
            latitude: fast.f64("latitude")?,
            longitude: fast.f64("longitude")?,
            center: self.center,
            radius_km: self.radius_km,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<C::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<Self::Fruit> {
        self.inner.merge_fruits(fruits)
    }
}

pub struct WithinRadiusSegment<S> {
    inner: S,
    latitude: Column<f64>,
    longitude: Column<f64>,
    center: (f64, f64),
    radius_km: f64,
}

impl<S: SegmentCollector> SegmentCollector for WithinRadiusSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        let point = self.latitude.first(doc).zip(self.longitude.first(doc));
        if point.is_some_and(|p| haversine_km(self.center, p) <= self.radius_km) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.inner.harvest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phnom_penh_to_siem_reap_is_about_230_km() {
        let d = haversine_km((11.5564, 104.9282), (13.3633, 103.8564));
        assert!((225.0..240.0).contains(&d), "{d}");
        let (min_lat, max_lat, min_lon, max_lon) = bounding_box((11.5564, 104.9282), 10.0);
        assert!(min_lat < 11.5564 && max_lat > 11.5564 && min_lon < 104.9282 && max_lon > 104.9282);
    }
}
