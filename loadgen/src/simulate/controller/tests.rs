//! Worked examples from the Kubernetes documentation's "Horizontal Pod
//! Autoscaling" page: the algorithm details and the `behavior` examples.

use super::*;
use crate::simulate::behavior::{Policy, PolicyKind::*};

fn rules(window: u32, select: Select, policies: &[(PolicyKind, u32, u32)]) -> Rules {
    Rules {
        stabilization_window_seconds: window,
        select_policy: select,
        policies: policies
            .iter()
            .map(|&(kind, value, period)| Policy::new(kind, value, period))
            .collect(),
    }
}

fn hpa(min: u32, max: u32, target: f64, up: Rules, down: Rules) -> Autoscaler {
    Autoscaler {
        min_replicas: min,
        max_replicas: max,
        target_rps_per_pod: target,
        scale_up: up,
        scale_down: down,
    }
}

fn all_ready(current: u32, mean: f64) -> Observation {
    Observation {
        current,
        with_metric: current,
        mean_metric: mean,
        missing: 0,
    }
}

/// An observation whose metric asks for `wanted` replicas out of `current`
/// (the mean cut to whole milli-units, so that the ceiling lands on `wanted`).
fn asking(current: u32, wanted: u32, target: f64) -> Observation {
    let mean = target * f64::from(wanted) / f64::from(current);
    all_ready(current, (mean * 1000.0).floor() / 1000.0)
}

#[test]
fn a_metric_at_twice_the_target_doubles_the_replicas_and_at_half_halves_them() {
    // "if the current metric value is 200m, and the desired value is 100m,
    // the number of replicas will be doubled ... If the current value is
    // instead 50m, you'll halve the number of replicas".
    assert_eq!(metric_replicas(&all_ready(4, 0.2), 0.1, TOLERANCE), 8);
    assert_eq!(metric_replicas(&all_ready(4, 0.05), 0.1, TOLERANCE), 2);
}

#[test]
fn a_ratio_within_the_tolerance_of_one_changes_nothing() {
    // "The control plane skips any scaling action if the ratio is
    // sufficiently close to 1.0 (within a configurable tolerance, 0.1 by
    // default)."
    assert_eq!(metric_replicas(&all_ready(4, 108.0), 100.0, TOLERANCE), 4);
    assert_eq!(metric_replicas(&all_ready(4, 92.0), 100.0, TOLERANCE), 4);
    assert_eq!(metric_replicas(&all_ready(4, 120.0), 100.0, TOLERANCE), 5);
}

#[test]
fn pods_without_a_metric_count_as_zero_going_up_and_as_the_target_going_down() {
    // "if any pods are missing metrics, the control plane assumes ... 100%
    // of the desired value in the case of a scale down, and 0% in the case
    // of a scale up ... If the new ratio reverses the scale direction, or is
    // within the tolerance, the control plane doesn't take any scaling
    // action."
    let up = Observation {
        current: 4,
        with_metric: 3,
        mean_metric: 300.0,
        missing: 1,
    };
    // (300 + 300 + 300 + 0) / 4 = 225 → ratio 2.25 → ceil(2.25 × 4) = 9.
    assert_eq!(metric_replicas(&up, 100.0, TOLERANCE), 9);
    let reversed = Observation {
        current: 4,
        with_metric: 2,
        mean_metric: 150.0,
        missing: 2,
    };
    // (150 + 150 + 0 + 0) / 4 = 75: the assumption turns up into down.
    assert_eq!(metric_replicas(&reversed, 100.0, TOLERANCE), 4);
    let down = Observation {
        current: 4,
        with_metric: 2,
        mean_metric: 20.0,
        missing: 2,
    };
    // (20 + 20 + 100 + 100) / 4 = 60 → ceil(0.6 × 4) = 3.
    assert_eq!(metric_replicas(&down, 100.0, TOLERANCE), 3);
}

#[test]
fn eighty_replicas_scale_down_by_eight_then_by_four_below_forty() {
    // The "Scaling policies" example: Pods 4 and Percent 10 per 60 s, the
    // policy allowing the most change wins. "if there are 80 replicas and
    // the target has to be scaled down to 10 replicas then during the first
    // step 8 replicas will be reduced. In the next iteration when the number
    // of replicas is 72, 10% of the pods is 7.2 but the number is rounded up
    // to 8 ... When the number of replicas falls below 40 the first policy
    // (Pods) is applied and 4 replicas will be reduced at a time."
    let down = rules(0, Select::Max, &[(Pods, 4, 60), (Percent, 10, 60)]);
    let mut controller = Controller::new(hpa(1, 100, 100.0, Rules::default_scale_up(), down));
    let mut replicas = 80;
    let mut seen = vec![replicas];
    for sync in 0..60 {
        let next = controller.sync(sync * 15, &asking(replicas, 10, 100.0));
        if next != replicas {
            seen.push(next);
            replicas = next;
        }
    }
    assert_eq!(
        seen,
        [80, 72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10]
    );
}

#[test]
fn a_policy_limits_the_change_within_its_period() {
    // Within one periodSeconds the change counts from the replicas at the
    // period's start: after 80 → 72 nothing more moves until 60 s passed.
    let down = rules(0, Select::Max, &[(Pods, 4, 60), (Percent, 10, 60)]);
    let mut controller = Controller::new(hpa(1, 100, 100.0, Rules::default_scale_up(), down));
    assert_eq!(controller.sync(0, &asking(80, 10, 100.0)), 72);
    assert_eq!(controller.sync(15, &asking(72, 10, 100.0)), 72);
    assert_eq!(controller.sync(45, &asking(72, 10, 100.0)), 72);
    assert_eq!(controller.sync(60, &asking(72, 10, 100.0)), 64);
}

#[test]
fn select_policy_min_takes_the_smaller_change() {
    // "To limit the rate at which pods are removed by the HPA to 10% per
    // minute ... To ensure that no more than 5 Pods are removed per minute,
    // you can add a second scale-down policy with a fixed size of 5, and set
    // selectPolicy to minimum."
    let down = rules(0, Select::Min, &[(Percent, 10, 60), (Pods, 5, 60)]);
    let mut controller = Controller::new(hpa(1, 200, 100.0, Rules::default_scale_up(), down));
    assert_eq!(controller.sync(0, &asking(100, 10, 100.0)), 95);
    assert_eq!(controller.sync(60, &asking(30, 10, 100.0)), 27);
}

#[test]
fn select_policy_disabled_never_scales_in_that_direction() {
    // "selectPolicy: Disabled" under scaleDown: "disable scale down".
    let down = rules(0, Select::Disabled, &[(Percent, 100, 15)]);
    let mut controller = Controller::new(hpa(1, 10, 100.0, Rules::default_scale_up(), down));
    assert_eq!(controller.sync(0, &asking(6, 1, 100.0)), 6);
    assert_eq!(controller.sync(600, &asking(6, 1, 100.0)), 6);
    assert_eq!(controller.sync(615, &asking(6, 9, 100.0)), 9);
}

#[test]
fn the_default_scale_up_adds_four_pods_or_doubles_every_fifteen_seconds() {
    // "There are 2 policies where 4 pods or a 100% of the currently running
    // replicas may at most be added every 15 seconds till the HPA reaches
    // its steady state."
    let mut controller = Controller::new(hpa(
        1,
        50,
        100.0,
        Rules::default_scale_up(),
        Rules::default_scale_down(),
    ));
    assert_eq!(controller.sync(0, &asking(1, 20, 100.0)), 5);
    assert_eq!(controller.sync(15, &asking(5, 20, 100.0)), 10);
    assert_eq!(controller.sync(30, &asking(10, 20, 100.0)), 20);
}

#[test]
fn the_scale_down_window_keeps_the_highest_recommendation_of_the_last_five_minutes() {
    // "stabilizationWindowSeconds: 300 ... all desired states from the past
    // 5 minutes will be considered. This approximates a rolling maximum".
    let mut controller = Controller::new(hpa(
        2,
        20,
        100.0,
        Rules::default_scale_up(),
        Rules::default_scale_down(),
    ));
    assert_eq!(controller.sync(0, &asking(10, 10, 100.0)), 10);
    assert_eq!(controller.sync(15, &asking(10, 3, 100.0)), 10);
    assert_eq!(controller.sync(285, &asking(10, 3, 100.0)), 10);
    // t = 0's recommendation of 10 has left the window; t = 15's is 3.
    assert_eq!(controller.sync(300, &asking(10, 3, 100.0)), 3);
}

#[test]
fn a_scale_up_window_keeps_the_lowest_recommendation_within_it() {
    let up = rules(60, Select::Max, &[(Percent, 100, 15)]);
    let mut controller = Controller::new(hpa(1, 20, 100.0, up, Rules::default_scale_down()));
    assert_eq!(controller.sync(0, &asking(4, 4, 100.0)), 4);
    // One burst asking for 8 does not scale while 4 is still in the window.
    assert_eq!(controller.sync(15, &asking(4, 8, 100.0)), 4);
    assert_eq!(controller.sync(60, &asking(4, 8, 100.0)), 8);
}

#[test]
fn min_and_max_replicas_bound_every_decision() {
    let mut controller = Controller::new(hpa(
        2,
        6,
        100.0,
        Rules::default_scale_up(),
        rules(0, Select::Max, &[(Percent, 100, 15)]),
    ));
    assert_eq!(controller.sync(0, &asking(4, 40, 100.0)), 6);
    assert_eq!(controller.sync(15, &asking(6, 1, 100.0)), 2);
    // A Deployment scaled outside the bounds by hand is brought back.
    assert_eq!(controller.sync(30, &all_ready(9, 0.0)), 6);
    assert_eq!(controller.sync(45, &all_ready(1, 500.0)), 2);
}
