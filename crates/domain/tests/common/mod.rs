//! Helpers the domain's property tests share.

/// Fisher–Yates with a small LCG seeded by `seed`: deterministic per proptest case, and any
/// permutation is reachable.
pub fn shuffle<T>(xs: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..xs.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        xs.swap(i, (state >> 33) as usize % (i + 1));
    }
}
