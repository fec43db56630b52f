//! The `chaos` binary: exit codes, the timeline on stdout, the journal file,
//! a dry run that touches nothing, and `chaos proxy`.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::Value;

use crate::helpers::{shipped, spawn_shop, Backend};

const EXPERIMENT: &str = r#"
title: CLI check
configuration:
  shop_url: ${SHOP_URL}
  admin_url: ${SHOP_ADMIN_URL}
  admin_token: ${SHOP_ADMIN_TOKEN}
steady-state-hypothesis:
  title: Home page served
  probes:
    - type: probe
      name: home
      provider: {type: http, url: "${shop_url}/"}
      tolerance: 200
method:
  - type: action
    name: fault
    provider:
      type: shop-fault
      fault: {kind: KIND, route: "*", probability: 1.0, latency_ms: 1, status: 500, duration_seconds: 30}
rollbacks:
  - type: action
    name: clear
    provider: {type: undo, action: fault}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exits_0_when_the_hypothesis_holds_and_1_when_it_deviates() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    for (kind, code, status) in [("latency", 0, "completed"), ("error", 1, "deviated")] {
        let path = dir.path().join(format!("{kind}.yaml"));
        std::fs::write(&path, EXPERIMENT.replace("KIND", kind)).unwrap();
        let journal_path = dir.path().join(format!("{kind}.json"));
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--journal",
                journal_path.to_str().unwrap(),
            ])
            .env("SHOP_URL", &shop.url)
            .env("SHOP_ADMIN_URL", &shop.admin_url)
            .env("SHOP_ADMIN_TOKEN", crate::helpers::ADMIN_TOKEN)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{kind}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for line in [
            "hypothesis-before",
            "method",
            "hypothesis-after",
            "rollback",
        ] {
            assert!(stdout.contains(line), "the timeline lacks {line}: {stdout}");
        }
        assert!(stdout.contains(&format!("{status} after")), "{stdout}");
        let journal: Value =
            serde_json::from_str(&std::fs::read_to_string(&journal_path).unwrap()).unwrap();
        assert_eq!(journal["outcome"], status);
        assert_eq!(journal["status"], "completed", "the Chaos Toolkit's status");
        assert_eq!(journal["deviated"], kind == "error");
        assert_eq!(journal["run"][0]["activity"]["name"], "fault");
        assert_eq!(
            journal["steady_states"]["after"]["probes"][0]["tolerance_met"],
            kind != "error"
        );
        let fault = &journal["run"][0];
        for field in ["start", "end", "duration", "status", "output"] {
            assert!(
                !fault[field].is_null(),
                "the journal's activity lacks {field}: {fault}"
            );
        }
        assert_eq!(
            journal["configuration"]["admin_token"], "***",
            "a secret reached the journal"
        );
        assert!(journal["experiment"]["configuration"]["admin_token"] == "${SHOP_ADMIN_TOKEN}");
        assert_eq!(
            shop.active_faults().await,
            Vec::<Value>::new(),
            "{kind}: fault left behind"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_still_rolls_back_and_exits_2() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.yaml");
    let long = EXPERIMENT.replace("KIND", "error").replace(
        "rollbacks:",
        "  - type: probe\n    name: wait\n    pauses: {before: 60}\n    provider: {type: http, url: \"${shop_url}/\"}\nrollbacks:",
    );
    std::fs::write(&path, long).unwrap();
    let journal_path = dir.path().join("long.json");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--journal",
            journal_path.to_str().unwrap(),
        ])
        .env("SHOP_URL", &shop.url)
        .env("SHOP_ADMIN_URL", &shop.admin_url)
        .env("SHOP_ADMIN_TOKEN", crate::helpers::ADMIN_TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut injected = false;
    for _ in 0..100 {
        if !shop.active_faults().await.is_empty() {
            injected = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(injected, "the run never injected its fault");
    Command::new("kill")
        .args(["-INT", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    let output = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the interrupted run did not end")
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(
        shop.active_faults().await,
        Vec::<Value>::new(),
        "the interrupted run left its fault"
    );
    let journal: Value =
        serde_json::from_str(&std::fs::read_to_string(&journal_path).unwrap()).unwrap();
    assert_eq!(journal["outcome"], "aborted");
    assert_eq!(journal["status"], "interrupted");
    assert_eq!(journal["aborted"], "interrupted");
    assert_eq!(journal["rollbacks"][0]["status"], "succeeded");
}

#[test]
fn a_dry_run_validates_and_plans_without_touching_anything() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on these ports, and there is no cluster: a dry run must not care.
    let output = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .args(["run", "--dry-run", shipped("pod-kill").to_str().unwrap()])
        .current_dir(dir.path())
        .env("SHOP_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("kill-one-shop-pod (k8s-delete-pods)"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped"), "{stdout}");
    let journal: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pod-kill.journal.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(journal["dry_run"], true);
    assert!(journal["run"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "skipped"));
}

#[tokio::test]
async fn chaos_proxy_serves_the_api_and_a_link() {
    let upstream = crate::helpers::echo_server().await;
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shop-chaos"))
        .args([
            "proxy",
            "--api",
            &format!("127.0.0.1:{api_port}"),
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
            "--name",
            "db",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let api_line = lines.next().unwrap().unwrap();
    let link_line = lines.next().unwrap().unwrap();
    assert!(
        api_line.contains(&format!("127.0.0.1:{api_port}")),
        "{api_line}"
    );
    let listen = link_line.split_whitespace().nth(2).unwrap().to_owned();

    let proxies: Value = crate::helpers::client()
        .get(format!("http://127.0.0.1:{api_port}/proxies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(proxies["db"]["listen"], listen.as_str(), "{link_line}");
    assert_eq!(proxies["db"]["upstream"], upstream.as_str());
    let mut stream = tokio::net::TcpStream::connect(&listen).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(b"hello").await.unwrap();
    let mut buffer = [0u8; 5];
    stream.read_exact(&mut buffer).await.unwrap();
    assert_eq!(&buffer, b"hello");

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "chaos proxy did not stop cleanly on SIGTERM: {status}"
    );
}
