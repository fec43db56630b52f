//! One loadgen pod's share of a load test: Goose has no distributed mode, so
//! N pods of an Indexed Job each run the profile with 1/N of its users
//! (`--shard INDEX/N`), and `loadgen merge` adds their summaries up.

use std::fmt;
use std::str::FromStr;

/// Pod `index` of `count`, counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("{text:?} is not INDEX/COUNT with 0 <= INDEX < COUNT, such as 0/4");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// This pod's share of `users`: an even split, the first pods taking one
    /// more each when it does not divide, so that the shares add up to it.
    pub fn users(self, users: usize) -> usize {
        users / self.count + usize::from(self.index < users % self.count)
    }

    /// A Goose test plan (`users,time;users,time;...`) with every step's
    /// users replaced by this pod's share.
    pub fn test_plan(self, plan: &str) -> String {
        plan.split(';')
            .map(|step| match step.split_once(',') {
                Some((users, time)) => match users.trim().parse::<usize>() {
                    Ok(users) => format!("{},{time}", self.users(users)),
                    Err(_) => step.to_string(),
                },
                None => step.to_string(),
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_users_add_up_to_the_whole() {
        for users in [0, 1, 5, 20, 23] {
            let total: usize = (0..4)
                .map(|i| Shard { index: i, count: 4 }.users(users))
                .sum();
            assert_eq!(total, users);
        }
        assert_eq!(Shard { index: 0, count: 4 }.users(23), 6);
        assert_eq!(Shard { index: 3, count: 4 }.users(23), 5);
    }

    #[test]
    fn a_test_plan_is_split_step_by_step() {
        let shard: Shard = "1/4".parse().unwrap();
        assert_eq!(shard.test_plan("20,30s;20,5m;0,10s"), "5,30s;5,5m;0,10s");
        assert!(shard
            .test_plan("20,30s;20,5m;0,10s")
            .parse::<goose::test_plan::TestPlan>()
            .is_ok());
    }

    #[test]
    fn a_shard_outside_its_count_is_refused() {
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert_eq!("2/3".parse::<Shard>().unwrap().to_string(), "2/3");
    }
}
