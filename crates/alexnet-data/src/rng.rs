//! A small deterministic random number generator (SplitMix64), so that every random choice of the
//! data pipeline is a pure function of (seed, stream, index) on every platform.

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast, and good enough for augmentation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `index` within `stream` (e.g. an epoch) of run `seed`.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Self {
        let mut rng = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        let a = rng.next_u64() ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut rng = Rng(a);
        let b = rng.next_u64() ^ index.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7);
        Rng(b)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[low, high)`.
    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Uniform integer in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// `0..n` in the seeded random order of `epoch` (Fisher-Yates), a new order each epoch: the
/// order a training loop visits a dataset in. ImageFolder lists images class by class, so an
/// epoch in dataset order would give batches of one or two classes.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::for_item(seed, epoch, u64::MAX);
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_orders_are_seeded_permutations_that_mix_the_dataset() {
        let order = epoch_order(64, 3, 1);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..64).collect::<Vec<_>>());
        assert_eq!(order, epoch_order(64, 3, 1));
        assert_ne!(order, epoch_order(64, 3, 2));
        assert_ne!(order, epoch_order(64, 4, 1));
        // 4 classes of 16 images, listed class by class: the first batch of 16 holds them all.
        let classes: std::collections::HashSet<usize> =
            order[..16].iter().map(|i| i / 16).collect();
        assert_eq!(classes.len(), 4);
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_item(1, 2, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::for_item(1, 2, 3).next_u64(),
            Rng::for_item(1, 2, 4).next_u64()
        );
        assert_ne!(
            Rng::for_item(1, 2, 3).next_u64(),
            Rng::for_item(1, 3, 3).next_u64()
        );
        assert_ne!(
            Rng::for_item(1, 2, 3).next_u64(),
            Rng::for_item(2, 2, 3).next_u64()
        );
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut rng = Rng::for_item(7, 0, 0);
        let n = 20_000;
        let u: f64 = (0..n).map(|_| rng.uniform()).sum::<f64>() / n as f64;
        assert!((u - 0.5).abs() < 0.01, "{u}");
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
