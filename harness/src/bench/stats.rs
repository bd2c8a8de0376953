//! Order statistics of a subject's samples.

use std::time::Duration;

/// Median and spread of one subject's samples, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub median_us: f64,
    pub p10_us: f64,
    pub p90_us: f64,
    pub samples: usize,
}

impl Summary {
    /// `None` when there are no samples.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        Some(Summary {
            median_us: quantile(&us, 0.5),
            p10_us: quantile(&us, 0.1),
            p90_us: quantile(&us, 0.9),
            samples: us.len(),
        })
    }
}

/// Linear interpolation between the closest ranks of sorted, non-empty `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_known_samples() {
        let d: Vec<Duration> = (1..=11).rev().map(Duration::from_micros).collect();
        let s = Summary::of(&d).unwrap();
        assert_eq!(s.samples, 11);
        assert!((s.median_us - 6.0).abs() < 1e-9);
        assert!((s.p10_us - 2.0).abs() < 1e-9);
        assert!((s.p90_us - 10.0).abs() < 1e-9);
        assert_eq!(Summary::of(&[]), None);
    }
}
