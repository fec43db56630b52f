/// Most units of one product a cart may hold.
pub const MAX_QUANTITY: i64 = 99;

/// Units of one product: 1 to [`MAX_QUANTITY`], or 0 where 0 means "remove".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    /// A quantity to add: at least 1.
    pub fn to_add(n: i64) -> Result<Self, String> {
        if (1..=MAX_QUANTITY).contains(&n) {
            Ok(Quantity(n))
        } else {
            Err(format!(
                "quantity must be between 1 and {MAX_QUANTITY}, got {n}"
            ))
        }
    }

    /// A quantity to set: 0 removes the product.
    pub fn to_set(n: i64) -> Result<Self, String> {
        if (0..=MAX_QUANTITY).contains(&n) {
            Ok(Quantity(n))
        } else {
            Err(format!(
                "quantity must be between 0 and {MAX_QUANTITY}, got {n}"
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_huge_quantities_are_rejected() {
        assert!(Quantity::to_add(-1).is_err());
        assert!(Quantity::to_add(0).is_err());
        assert!(Quantity::to_add(MAX_QUANTITY + 1).is_err());
        assert_eq!(Quantity::to_set(0).unwrap().get(), 0);
    }
}
