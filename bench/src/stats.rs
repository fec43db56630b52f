//! Medians: each figure is the median of its rounds, so that one round
//! disturbed by a neighbour on a shared machine does not move it; quartiles
//! say how widely the rounds spread.

/// The median of `values` (the mean of the middle two for an even count);
/// `None` when there are none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

/// The lower and upper quartiles of `values`: the medians of the lower and
/// the upper half (the middle value, for an odd count, in neither); `None`
/// for fewer than two values.
pub fn quartiles(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if values.len() < 2 {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let half = values.len() / 2;
    let lower = median(values[..half].iter().copied())?;
    let upper = median(values[values.len() - half..].iter().copied())?;
    Some((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_ignores_one_outlier() {
        assert_eq!(median([10.0, 1000.0, 12.0]), Some(12.0));
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median([]), None);
        assert_eq!(median([f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn quartiles_are_the_medians_of_each_half() {
        assert_eq!(quartiles([1.0, 2.0, 3.0, 4.0]), Some((1.5, 3.5)));
        assert_eq!(quartiles([5.0, 1.0, 3.0, 2.0, 4.0]), Some((1.5, 4.5)));
        assert_eq!(quartiles([7.0, f64::NAN]), None);
    }
}
