//! A small linear congruential generator shared by the local tests and the black-box tests:
//! the same generated data on every machine and run, with no dependency.

pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
    /// A whole number of minutes in `0..n`.
    pub fn minutes(&mut self, n: u64) -> chrono::Duration {
        chrono::Duration::minutes(self.below(n) as i64)
    }
}
