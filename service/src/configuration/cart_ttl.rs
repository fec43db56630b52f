use std::{fmt, str::FromStr, time::Duration};

/// How long a cart may sit idle before it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartTtl(Duration);

impl CartTtl {
    pub fn from_hours(hours: u32) -> Self {
        CartTtl(Duration::from_secs(u64::from(hours) * 3600))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

impl Default for CartTtl {
    fn default() -> Self {
        CartTtl::from_hours(72)
    }
}

impl FromStr for CartTtl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<u32>() {
            Ok(hours) if hours > 0 => Ok(CartTtl::from_hours(hours)),
            _ => Err(format!(
                "SHOP_CART_TTL_HOURS: expected a whole number of hours above 0, got `{s}`"
            )),
        }
    }
}

impl fmt::Display for CartTtl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs() / 3600)
    }
}
