//! End-to-end latency: from an event's `timestamp` to its item's `processedAt`.

/// The `p`-th percentile (0 < p ≤ 100) of `values` by the nearest-rank method: the
/// smallest value that at least p % of the values do not exceed. Always one of the values
/// (no interpolation between two measurements); `None` for no values.
pub fn percentile(values: &[i64], p: f64) -> Option<i64> {
    if values.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&values, 50.0), Some(5));
        assert_eq!(percentile(&values, 99.0), Some(10));
        assert_eq!(percentile(&values, 100.0), Some(10));
        assert_eq!(percentile(&values, 10.0), Some(1));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 99.0), Some(99));
        assert_eq!(percentile(&hundred, 50.0), Some(50));
    }

    #[test]
    fn one_value_is_every_percentile_and_none_is_none() {
        assert_eq!(percentile(&[42], 50.0), Some(42));
        assert_eq!(percentile(&[42], 99.0), Some(42));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1, 2], 0.0), None);
    }
}
