//! Sampling audits (抽查回访): a seeded random sample of the cases closed in a period, drawn so
//! that anyone with the seed can draw the same sample again.

/// SplitMix64: a small, well-known generator; enough to shuffle with a published seed.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Draws `ceil(rate × n)` of `ids` (rate in 0–1) with `seed`, in ascending order. The same ids,
/// rate and seed always give the same sample, whatever the order the ids come in.
///
/// ```
/// use tessera::cases::audit::sample;
/// let ids: Vec<i64> = (1..=40).collect();
/// let s = sample(&ids, 0.1, 2026);
/// assert_eq!(s.len(), 4);
/// assert_eq!(s, sample(&ids.iter().rev().copied().collect::<Vec<_>>(), 0.1, 2026));
/// ```
pub fn sample(ids: &[i64], rate: f64, seed: u64) -> Vec<i64> {
    let mut pool: Vec<i64> = ids.to_vec();
    pool.sort_unstable();
    pool.dedup();
    let k = ((rate.clamp(0.0, 1.0) * pool.len() as f64).ceil() as usize).min(pool.len());
    let mut state = seed;
    // Partial Fisher–Yates: the first k positions are the sample.
    for i in 0..k {
        let j = i + (splitmix(&mut state) % (pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    let mut out = pool[..k].to_vec();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn sizes_and_spread() {
        let ids: Vec<i64> = (1..=1000).collect();
        assert_eq!(sample(&ids, 0.0, 1), Vec::<i64>::new());
        assert_eq!(sample(&ids, 1.0, 1), ids);
        assert_eq!(sample(&ids, 0.001, 1).len(), 1);
        let s = sample(&ids, 0.1, 7);
        assert_eq!(s.len(), 100);
        // Another seed, another sample; both spread over the whole range.
        assert_ne!(s, sample(&ids, 0.1, 8));
        assert!(s.iter().any(|&i| i < 200) && s.iter().any(|&i| i > 800));
    }
}
