use super::behavior::Rules;
use super::*;

fn autoscaler(min: u32, max: u32, target: f64) -> Autoscaler {
    Autoscaler {
        min_replicas: min,
        max_replicas: max,
        target_rps_per_pod: target,
        scale_up: Rules::default_scale_up(),
        scale_down: Rules::default_scale_down(),
    }
}

fn pods(startup: usize) -> Pods {
    Pods {
        capacity_rps: 100.0,
        startup_seconds: startup,
        metric_window_seconds: 60,
    }
}

fn availability() -> Vec<(String, f64)> {
    vec![("availability".into(), 99.9), ("page-latency".into(), 99.0)]
}

fn demand(points: &str) -> Demand {
    Demand::from_csv("test", points).unwrap()
}

#[test]
fn a_slow_ramp_is_followed_and_holds_the_slo() {
    let ramp = demand("0,100\n1800,700\n2400,700\n");
    let sim = simulate(&autoscaler(2, 20, 70.0), &pods(30), &ramp, &availability()).unwrap();
    assert!(sim.held, "{:?}", sim.verdicts);
    assert_eq!(sim.bad_requests, 0.0);
    // 700 req/s at 70 per pod: ten replicas by the end, or eleven when a
    // lagging metric overshot (700 / 11 is within the tolerance of 70).
    let last = sim.timeline.last().unwrap().replicas;
    assert!((10..=11).contains(&last), "{last}");
}

#[test]
fn a_spike_faster_than_pod_start_up_breaches_and_the_same_spike_with_instant_pods_holds_longer() {
    let spike = demand("0,150\n300,150\n301,900\n900,900\n");
    let slow = simulate(
        &autoscaler(2, 20, 70.0),
        &pods(120),
        &spike,
        &availability(),
    )
    .unwrap();
    let fast = simulate(&autoscaler(2, 20, 70.0), &pods(0), &spike, &availability()).unwrap();
    assert!(!slow.held);
    assert!(slow.overloaded_seconds > fast.overloaded_seconds);
    assert!(slow.bad_requests > fast.bad_requests);
    // Past 99.9 % the budget of 0.1 % is blown, while 99 % may still hold.
    assert!(!slow.verdicts[0].held);
    assert!(slow.verdicts[0].budget_spent > slow.verdicts[1].budget_spent);
}

#[test]
fn a_max_replicas_below_the_peak_breaches_at_the_cap() {
    let flat = demand("0,100\n600,1000\n1200,1000\n");
    let sim = simulate(&autoscaler(1, 4, 70.0), &pods(10), &flat, &availability()).unwrap();
    assert_eq!(sim.highest_replicas, 4);
    assert!(!sim.held);
    // 600 s at 1000 req/s against 400 of capacity is at least 360,000 bad.
    assert!(sim.bad_requests >= 360_000.0, "{}", sim.bad_requests);
}

#[test]
fn replicas_stay_up_through_the_scale_down_window_after_a_burst() {
    let burst = demand("0,100\n60,100\n61,700\n240,700\n241,100\n1200,100\n");
    let sim = simulate(&autoscaler(2, 20, 70.0), &pods(15), &burst, &availability()).unwrap();
    let at = |second: usize| {
        sim.timeline
            .iter()
            .find(|t| t.second == second)
            .unwrap()
            .replicas
    };
    let top = at(240);
    assert!(top >= 10, "{top}");
    // 240 s after the burst, still within 300 s of the high recommendations
    // made while it lasted, the replicas stay far above the 2 asked for.
    assert!(at(480) >= 10, "{}", at(480));
    assert_eq!(at(1200), 2);
}

#[test]
fn a_peak_below_one_replica_is_refused() {
    let low = demand("0,10\n60,50\n");
    assert!(matches!(
        simulate(&autoscaler(2, 20, 70.0), &pods(0), &low, &availability()),
        Err(SimulateError::PeakBelowOneReplica { .. })
    ));
}
