//! Distributions built only from integer operations and correctly rounded float arithmetic
//! (`+ - * / sqrt`), so that a seed gives the same traffic on every platform (no `ln`, `exp`,
//! `sin`, `powf`, whose last bits vary between math libraries).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A count with mean `mean`: binomial for small means, near-normal for large ones.
pub(crate) fn count(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean < 12.0 {
        // Binomial(n, mean/n) with n large enough to be close to Poisson.
        let n = 8 + 4 * (mean as u32 + 1);
        let p = mean / f64::from(n);
        return (0..n).filter(|_| rng.random::<f64>() < p).count() as u32;
    }
    // Irwin–Hall(3) scaled to unit variance approximates a normal deviate.
    let z = (rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5) * 2.0;
    let v = mean + mean.sqrt() * z;
    if v <= 0.0 { 0 } else { v.round() as u32 }
}

/// A heavy-tailed value: `min × 1.6^k × (1 + u)` with `P(k) = 2^-(k+1)` (a Pareto-like tail of
/// index ≈ 1.5), capped at `max`.
pub(crate) fn heavy(rng: &mut ChaCha8Rng, min: f64, max: f64) -> f64 {
    let k = rng.random::<u64>().trailing_zeros().min(40);
    let mut v = min * (1.0 + rng.random::<f64>());
    for _ in 0..k {
        v *= 1.6;
        if v >= max {
            return max;
        }
    }
    v.min(max)
}

/// Uniform in `[lo, hi]` (inclusive) as f64.
pub(crate) fn between(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Traffic level by hour of day (UTC), 1.0 on average: low at night, peak mid-afternoon.
const DIURNAL: [f64; 24] = [
    0.45, 0.38, 0.34, 0.32, 0.34, 0.42, 0.58, 0.80, 1.02, 1.20, 1.32, 1.40, 1.45, 1.50, 1.55, 1.58,
    1.55, 1.48, 1.38, 1.25, 1.10, 0.92, 0.74, 0.58,
];

/// The diurnal factor at Unix time `t`, linearly interpolated between hours.
pub(crate) fn diurnal(t: i64) -> f64 {
    let sec_of_day = t.rem_euclid(86_400);
    let hour = (sec_of_day / 3600) as usize;
    let frac = (sec_of_day % 3600) as f64 / 3600.0;
    DIURNAL[hour] + (DIURNAL[(hour + 1) % 24] - DIURNAL[hour]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn counts_average_to_their_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for mean in [0.5, 3.0, 11.0, 40.0, 400.0] {
            let n = 4000;
            let total: u64 = (0..n).map(|_| u64::from(count(&mut rng, mean))).sum();
            let avg = total as f64 / f64::from(n);
            assert!(
                (avg - mean).abs() < mean * 0.05 + 0.05,
                "mean {mean} gave {avg}"
            );
        }
    }

    #[test]
    fn heavy_values_stay_within_bounds() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..10_000 {
            let v = heavy(&mut rng, 5.0, 1000.0);
            assert!((5.0..=1000.0).contains(&v), "{v}");
        }
    }

    #[test]
    fn the_diurnal_curve_averages_about_one() {
        let avg: f64 = DIURNAL.iter().sum::<f64>() / 24.0;
        assert!((0.9..1.1).contains(&avg), "{avg}");
    }
}
