//! The graceful-shutdown drill against the real shop binary (signals are
//! per process), supervised so that it is restarted when it exits.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use chaos::{
    journal::{Journal, Status},
    runner::RunOptions,
};

use crate::helpers::{method_run, run_file, shipped, value};

/// The shop binary of this build, brought up to date with `cargo build -p
/// shop` (a no-op after `cargo test --workspace`, which builds it too).
fn shop_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "-p", "shop", "--bin", "shop"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("running cargo build -p shop");
    assert!(status.success(), "cargo build -p shop failed");
    profile_dir.join("shop")
}

/// Runs the shop binary and, like systemd or the kubelet, starts it again
/// when it exits; writes each process's pid to the pid file and keeps each
/// exit status.
struct Supervisor {
    exits: Arc<Mutex<Vec<Option<i32>>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Supervisor {
    fn start(envs: Vec<(String, String)>, pid_file: std::path::PathBuf) -> Supervisor {
        let exits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let binary = shop_binary();
        let task = tokio::spawn({
            let (exits, stop) = (exits.clone(), stop.clone());
            async move {
                loop {
                    let mut child = tokio::process::Command::new(&binary)
                        .envs(envs.iter().cloned())
                        .stdout(std::process::Stdio::null())
                        .kill_on_drop(true)
                        .spawn()
                        .expect("the shop binary starts");
                    std::fs::write(&pid_file, child.id().unwrap().to_string()).unwrap();
                    let status = child.wait().await.unwrap();
                    exits.lock().unwrap().push(status.code());
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                }
            }
        });
        Supervisor { exits, stop, task }
    }

    async fn shut_down(self, pid_file: &std::path::Path) -> Vec<Option<i32>> {
        self.stop.store(true, Ordering::Release);
        let pid = std::fs::read_to_string(pid_file).unwrap();
        std::process::Command::new("kill")
            .args(["-TERM", pid.trim()])
            .status()
            .unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
        let exits = self.exits.lock().unwrap().clone();
        exits
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_drill_loses_no_in_flight_request() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin_port) = (free_port(), free_port());
    let pid_file = dir.path().join("shop.pid");
    let envs = vec![
        ("SHOP_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
        (
            "SHOP_ADMIN_LISTEN".to_owned(),
            format!("127.0.0.1:{admin_port}"),
        ),
        (
            "DATABASE_URL".to_owned(),
            format!("sqlite://{}/shop.db", dir.path().display()),
        ),
        (
            "SHOP_ADMIN_TOKEN".to_owned(),
            crate::helpers::ADMIN_TOKEN.to_owned(),
        ),
        ("SHOP_RATE_LIMIT".to_owned(), "off".to_owned()),
        ("SHOP_SHUTDOWN_GRACE_SECONDS".to_owned(), "30".to_owned()),
    ];
    let supervisor = Supervisor::start(envs, pid_file.clone());
    let http = crate::helpers::client();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{admin_port}/readyz"))
            .send()
            .await
        {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the shop binary never became ready");
    let first_pid = std::fs::read_to_string(&pid_file).unwrap();

    let vars = chaos::experiment::Vars::none()
        .with("SHOP_URL", format!("http://127.0.0.1:{port}"))
        .with("SHOP_ADMIN_URL", format!("http://127.0.0.1:{admin_port}"))
        .with("SHOP_ADMIN_TOKEN", crate::helpers::ADMIN_TOKEN)
        .with("SHOP_PID_FILE", pid_file.display().to_string());
    let journal: Journal =
        run_file(&shipped("graceful-shutdown"), &vars, RunOptions::default()).await;

    let in_flight = method_run(&journal, "in-flight-requests-all-answered");
    println!(
        "in flight at SIGTERM: {}",
        in_flight.output.as_ref().unwrap()
    );
    assert!(
        in_flight.ok(),
        "a request in flight was lost:\n{}",
        journal.timeline()
    );
    let signal = method_run(&journal, "sigterm-the-shop");
    assert!(signal.ok(), "{}", journal.timeline());
    println!(
        "the shop exited {} ms after SIGTERM",
        value(signal, "waited_ms")
    );
    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
    assert_ne!(
        std::fs::read_to_string(&pid_file).unwrap(),
        first_pid,
        "the shop was never restarted"
    );

    let exits = supervisor.shut_down(&pid_file).await;
    assert_eq!(
        exits.first(),
        Some(&Some(0)),
        "the drained shop did not exit 0: {exits:?}"
    );
}
