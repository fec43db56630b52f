use super::*;
use crate::capacity::CapacityFile;

/// The test fixture: 412.5 req/s at 0.9 cores, the pod requesting 0.25.
fn file(rps: f64) -> CapacityFile {
    let mut file: CapacityFile =
        serde_json::from_str(include_str!("../../tests/fixtures/capacity.json")).unwrap();
    file.capacity.as_mut().unwrap().requests_per_second = rps;
    file
}

fn input(capacity: &CapacityFile, peak: f64) -> HpaInput<'_> {
    HpaInput {
        capacity,
        capacity_path: "capacity.json",
        peak_rps: peak,
        headroom: 0.7,
        min_replicas: 2,
        max_replicas: 10,
        deployment: "shop",
    }
}

#[test]
fn replicas_and_targets_follow_from_the_measured_pod_headroom_and_peak() {
    let capacity = file(412.5);
    let sizing = sizing(&input(&capacity, 1000.0)).unwrap();
    // 412.5 × 0.7 = 288.75 → 288 req/s; 1000 / 288 → 4; 1500 / 288 → 6.
    // CPU: 0.9 cores used at capacity × 0.7 = 0.63 cores, 252 % of the
    // 0.25-core request.
    assert_eq!(
        sizing,
        Sizing {
            target_rps_per_replica: 288,
            replicas_at_peak: 4,
            min_replicas: 2,
            max_replicas: 6,
            cpu_utilization_percent: 252,
            capped: false,
        }
    );
}

#[test]
fn the_database_cap_bounds_the_maximum_and_says_so() {
    let capacity = file(100.0);
    let mut big = input(&capacity, 5000.0);
    big.max_replicas = 10;
    let sizing = sizing(&big).unwrap();
    // 70 req/s per replica: 5000 needs 72 replicas, 10 are allowed.
    assert_eq!(
        (sizing.replicas_at_peak, sizing.max_replicas, sizing.capped),
        (72, 10, true)
    );
    assert!(manifest(&big)
        .unwrap()
        .contains("the peak needs 72 replicas but --max-replicas caps them at 10"));
}

#[test]
fn a_small_peak_still_keeps_the_minimum() {
    let capacity = file(412.5);
    let sizing = sizing(&input(&capacity, 10.0)).unwrap();
    assert_eq!(
        (
            sizing.replicas_at_peak,
            sizing.min_replicas,
            sizing.max_replicas
        ),
        (1, 2, 2)
    );
}

#[test]
fn bad_inputs_are_refused_with_their_reason() {
    let capacity = file(100.0);
    let mut bad = input(&capacity, 100.0);
    bad.headroom = 1.5;
    assert_eq!(sizing(&bad), Err(HpaError::Headroom(1.5)));
    let mut none = file(1.0);
    none.capacity = None;
    assert!(matches!(
        sizing(&input(&none, 5.0)),
        Err(HpaError::NoCapacity(_))
    ));
    assert_eq!(sizing(&input(&capacity, 0.0)), Err(HpaError::Peak(0.0)));
    let mut idle = file(100.0);
    idle.capacity.as_mut().unwrap().cpu_cores = 0.0;
    assert_eq!(sizing(&input(&idle, 100.0)), Err(HpaError::NoCpu));
}

#[test]
fn the_manifest_records_its_inputs_and_the_measured_pod() {
    let capacity = file(412.5);
    let yaml = manifest(&input(&capacity, 1000.0)).unwrap();
    assert_eq!(recorded_inputs(&yaml), Some((1000.0, 0.7, 2, 10)));
    assert!(yaml.contains(
        "loadgen hpa --capacity capacity.json --peak-rps 1000 --headroom 0.7 --min-replicas 2 --max-replicas 10 --deployment shop --output k8s/base/hpa.yaml"
    ));
    assert!(
        yaml.contains("loadgen.shop.dev/measured-capacity-rps: '412.5'"),
        "{yaml}"
    );
    assert!(yaml.contains(
        "release build 0.1.0 of the shop on postgresql, CPU limit 1 cores (request 0.25, from k8s/base/shop/deployment.yaml)"
    ), "{yaml}");
    assert!(
        yaml.contains("CPU 252 % of the request = 0.9 cores x 0.7 / 0.25 cores"),
        "{yaml}"
    );
}
