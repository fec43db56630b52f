//! The Chaos Toolkit's run-time strategies: when rollbacks run and when the
//! steady-state hypothesis is checked. Set in the experiment's `runtime`
//! section or by the CLI's `--rollback-strategy` and `--hypothesis-strategy`,
//! which win.

use serde::{Deserialize, Serialize};

/// `runtime: {rollbacks: {strategy: ...}, hypothesis: {strategy: ...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollbacks: Option<RollbacksRuntime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypothesis: Option<HypothesisRuntime>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbacksRuntime {
    #[serde(default)]
    pub strategy: RollbackStrategy,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HypothesisRuntime {
    #[serde(default)]
    pub strategy: HypothesisStrategy,
    /// Seconds between two checks, for `during-method-only` and `continuously`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
    /// Abort at the first deviation during the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
}

/// When the rollbacks run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackStrategy {
    /// Always, even when interrupted or the hypothesis failed: a fault left
    /// behind is worse than one rollback too many. (The Chaos Toolkit's
    /// default skips them on a failed or interrupted run.)
    #[default]
    Default,
    /// Always.
    Always,
    /// Never: the faults stay until they clear themselves.
    Never,
    /// Only when the experiment deviated.
    Deviated,
}

impl RollbackStrategy {
    /// Whether to run the rollbacks after a run that `deviated`.
    pub fn plays(self, deviated: bool) -> bool {
        match self {
            RollbackStrategy::Default | RollbackStrategy::Always => true,
            RollbackStrategy::Never => false,
            RollbackStrategy::Deviated => deviated,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RollbackStrategy::Default => "default",
            RollbackStrategy::Always => "always",
            RollbackStrategy::Never => "never",
            RollbackStrategy::Deviated => "deviated",
        }
    }
}

/// When the steady-state hypothesis is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HypothesisStrategy {
    /// Before the method (a gate) and after it.
    #[default]
    Default,
    /// Only before: the method runs if it holds; nothing can deviate.
    BeforeMethodOnly,
    /// Only after: the method runs at once.
    AfterMethodOnly,
    /// Only during the method, every `--hypothesis-frequency` seconds.
    DuringMethodOnly,
    /// Before, during (every `--hypothesis-frequency` seconds) and after.
    #[value(alias = "continously")]
    #[serde(alias = "continously")]
    Continuously,
    /// Never.
    Skip,
}

impl HypothesisStrategy {
    pub fn before(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::Default
                | HypothesisStrategy::BeforeMethodOnly
                | HypothesisStrategy::Continuously
        )
    }

    pub fn during(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::DuringMethodOnly | HypothesisStrategy::Continuously
        )
    }

    pub fn after(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::Default
                | HypothesisStrategy::AfterMethodOnly
                | HypothesisStrategy::Continuously
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisStrategy::Default => "default",
            HypothesisStrategy::BeforeMethodOnly => "before-method-only",
            HypothesisStrategy::AfterMethodOnly => "after-method-only",
            HypothesisStrategy::DuringMethodOnly => "during-method-only",
            HypothesisStrategy::Continuously => "continuously",
            HypothesisStrategy::Skip => "skip",
        }
    }
}
