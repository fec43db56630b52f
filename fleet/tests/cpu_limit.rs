//! The CPU limit holds a real process to its quota, as a pod's limit does.

use std::time::Duration;

use fleet::cpu_limit::{Cores, CpuLimit};

/// User plus system CPU time of a process, from /proc (in clock ticks of
/// 1/100 s, the value every Linux build uses).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process's stat");
    let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
fn a_cpu_limit_holds_a_busy_process_to_its_quota() {
    let limit = match CpuLimit::create("cpu-limit-test", Cores::new(0.2).unwrap()) {
        Ok(limit) => limit,
        // Not a pass: the test command runs as root on a machine with cgroups.
        Err(error) => panic!("{error}"),
    };
    let mut busy = std::process::Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .expect("starting a busy loop");
    limit.add(busy.id()).expect("joining the group");
    let before = cpu_seconds(busy.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_seconds(busy.id()) - before;
    let _ = busy.kill();
    let _ = busy.wait();
    let group = limit.path().to_owned();
    drop(limit);

    // 0.2 cores for 2 s is 0.4 s of CPU; unlimited it would be about 2 s.
    assert!(used < 0.8, "the busy loop used {used:.2} s of CPU in 2 s");
    assert!(!group.exists(), "{} was not removed", group.display());
}
