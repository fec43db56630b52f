//! A SIGKILL by pid file is undone by waiting for the replacement, as a pod
//! kill is undone by waiting for the new pod.

use std::time::Duration;

use chaos::{experiment::Vars, runner::RunOptions};

use crate::helpers::{run_yaml, value};

fn sleeper() -> std::process::Child {
    std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("starting sleep")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_undo_of_a_kill_waits_until_the_pid_file_names_a_live_replacement() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("victim.pid");
    let mut victim = sleeper();
    std::fs::write(&pid_file, victim.id().to_string()).unwrap();
    // A supervisor of the test's own: a replacement, 1 s after the kill.
    let supervisor = {
        let pid_file = pid_file.clone();
        std::thread::spawn(move || {
            let _ = victim.wait();
            std::thread::sleep(Duration::from_secs(1));
            let replacement = sleeper();
            std::fs::write(&pid_file, replacement.id().to_string()).unwrap();
            replacement
        })
    };
    let yaml = format!(
        "title: kill and wait\n\
         description: d\n\
         blast-radius: {{ max-targets: 1 }}\n\
         method:\n\
         - type: action\n\
         \x20 name: kill-it\n\
         \x20 provider: {{ type: process-signal, signal: SIGKILL, pid_file: {} }}\n\
         rollbacks:\n\
         - type: action\n\
         \x20 name: wait-for-the-replacement\n\
         \x20 provider: {{ type: undo, action: kill-it }}\n\
         \x20 timeout: 30\n",
        pid_file.display()
    );

    let journal = run_yaml(&yaml, &Vars::none(), RunOptions::default()).await;

    let mut replacement = supervisor.join().unwrap();
    let rollback = &journal.rollbacks[0];
    assert!(rollback.ok(), "{}", journal.timeline());
    let undone = &value(rollback, "undone")[0];
    assert_eq!(undone["replaced_by"], replacement.id());
    assert!(undone["waited_ms"].as_u64().unwrap() >= 900, "{undone}");
    let _ = replacement.kill();
    let _ = replacement.wait();
}
