//! Named load profiles, each a Goose test plan (`users,ramp;users,hold;…`).
//!
//! The doc comment of each variant is what `loadgen run --help` shows, plan
//! included; a test keeps the two in step.

use clap::ValueEnum;

use crate::scenarios::Pace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// A few seconds, 5 users: does everything work? [5,2s;5,12s;0,0s]
    Smoke,
    /// Expected traffic for five minutes. [20,30s;20,5m;0,10s]
    Load,
    /// Steps past expected traffic to find where it breaks.
    /// [20,30s;20,1m;50,30s;50,1m;100,30s;100,1m;200,30s;200,1m;0,30s]
    Stress,
    /// Sudden bursts of 15 times the base load, then back.
    /// [10,10s;10,1m;150,10s;150,1m;10,10s;10,1m;150,10s;150,1m;10,10s;10,1m;0,0s]
    Spike,
    /// Steady expected traffic for two hours: leaks, pool exhaustion, slow growth.
    /// [30,1m;30,2h;0,30s]
    Soak,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::Smoke,
        Profile::Load,
        Profile::Stress,
        Profile::Spike,
        Profile::Soak,
    ];

    /// The Goose test plan.
    pub fn test_plan(self) -> &'static str {
        match self {
            Profile::Smoke => "5,2s;5,12s;0,0s",
            Profile::Load => "20,30s;20,5m;0,10s",
            Profile::Stress => "20,30s;20,1m;50,30s;50,1m;100,30s;100,1m;200,30s;200,1m;0,30s",
            Profile::Spike => {
                "10,10s;10,1m;150,10s;150,1m;10,10s;10,1m;150,10s;150,1m;10,10s;10,1m;0,0s"
            }
            Profile::Soak => "30,1m;30,2h;0,30s",
        }
    }

    /// Think time between a user's transactions. Smoke runs quick so every
    /// transaction runs within seconds; the others pace users like people.
    pub fn pace(self) -> Pace {
        match self {
            Profile::Smoke => Pace::millis(50, 200),
            Profile::Load | Profile::Soak => Pace::millis(500, 2_000),
            Profile::Stress | Profile::Spike => Pace::millis(250, 1_000),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Load => "load",
            Profile::Stress => "stress",
            Profile::Spike => "spike",
            Profile::Soak => "soak",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use goose::test_plan::TestPlan;

    #[test]
    fn every_profile_is_a_valid_test_plan() {
        for profile in Profile::ALL {
            let plan: Result<TestPlan, _> = profile.test_plan().parse();
            assert!(plan.is_ok(), "{profile:?}: {:?}", plan.err());
        }
    }

    #[test]
    fn the_help_text_shows_each_profiles_plan() {
        for profile in Profile::ALL {
            let value = profile.to_possible_value().expect("no profile is hidden");
            let help = value
                .get_help()
                .expect("every profile is documented")
                .to_string();
            assert!(
                help.contains(&format!("[{}]", profile.test_plan())),
                "{profile:?}: help {help:?} does not show its plan"
            );
        }
    }

    #[test]
    fn names_are_the_command_line_values() {
        for profile in Profile::ALL {
            assert_eq!(Profile::from_str(profile.name(), false), Ok(profile));
        }
    }

    #[test]
    fn every_profile_ends_by_stopping_all_users() {
        for profile in Profile::ALL {
            assert!(profile
                .test_plan()
                .rsplit(';')
                .next()
                .unwrap()
                .starts_with("0,"));
        }
    }
}
