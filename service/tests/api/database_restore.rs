//! The restore drill, locally on PostgreSQL: back up under load with the
//! backup script the cluster's CronJob runs, destroy the database, restore
//! with the restore Job's script, and measure what was lost (RPO) and how
//! long the shop was down (RTO). A missing or corrupt dump changes nothing.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    str::FromStr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use shop::{configuration::Settings, startup::Application};
use sqlx::postgres::PgConnectOptions;

/// A shop on its own PostgreSQL database, served until dropped.
struct Drill {
    database_url: String,
    options: PgConnectOptions,
    address: String,
    client: Client,
    stopper: shop::startup::Stopper,
    backups: tempfile::TempDir,
}

impl Drill {
    async fn start() -> Drill {
        let database_url = fleet::postgres::fresh_database("shop_restore").await;
        let app = Application::build(Settings::ephemeral(&database_url))
            .await
            .expect("the shop builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let stopper = app.stopper();
        tokio::spawn(app.run_until_stopped());
        Drill {
            options: PgConnectOptions::from_str(&database_url).unwrap(),
            database_url,
            address,
            client: Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            stopper,
            backups: tempfile::tempdir().unwrap(),
        }
    }

    fn database(&self) -> &str {
        self.options.get_database().unwrap()
    }

    /// One of the shipped scripts, connected to this drill's database.
    fn script(&self, name: &str, args: &[&Path]) -> Output {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../k8s/components/postgres-backup")
            .join(name);
        Command::new("sh")
            .arg(script)
            .args(args)
            .env("PGHOST", self.options.get_host())
            .env("PGPORT", self.options.get_port().to_string())
            .env("PGUSER", self.options.get_username())
            .env("PGDATABASE", self.database())
            .env("BACKUP_DIR", self.backups.path())
            .output()
            .expect("sh runs")
    }

    fn psql(&self, sql: &str) {
        let output = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                "postgres",
                "-c",
                sql,
            ])
            .env("PGHOST", self.options.get_host())
            .env("PGPORT", self.options.get_port().to_string())
            .env("PGUSER", self.options.get_username())
            .output()
            .expect("psql runs (Debian package postgresql-client)");
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Places one order of one unit of `product`; its id once acknowledged.
    async fn place_order(&self, product: i64) -> Option<String> {
        let cart: Value = self
            .client
            .post(format!("{}/api/v1/carts", self.address))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let cart = cart["id"].as_str()?.to_owned();
        self.client
            .post(format!("{}/api/v1/carts/{cart}/items", self.address))
            .json(&json!({ "product_id": product, "quantity": 1 }))
            .send()
            .await
            .ok()?;
        let placed = self
            .client
            .post(format!("{}/api/v1/orders", self.address))
            .json(&json!({
                "cart_id": cart, "name": "Ada Lovelace", "email": "ada@example.com",
                "address": "12 Analytical Row, London",
            }))
            .send()
            .await
            .ok()?;
        if placed.status() != StatusCode::CREATED {
            return None;
        }
        let order: Value = placed.json().await.ok()?;
        order["id"].as_str().map(str::to_owned)
    }

    async fn has_order(&self, id: &str) -> bool {
        let response = self
            .client
            .get(format!("{}/api/v1/orders/{id}", self.address))
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::OK => true,
            StatusCode::NOT_FOUND => false,
            other => panic!("GET /api/v1/orders/{id}: {other}"),
        }
    }

    async fn finish(self) {
        self.stopper.stop();
        let _ = fleet::postgres::drop_database(&self.database_url).await;
        self.psql(&format!(
            r#"DROP DATABASE IF EXISTS "{}_before_restore" WITH (FORCE)"#,
            self.database()
        ));
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Acknowledged orders with the moment each was acknowledged.
type Acknowledged = Arc<Mutex<Vec<(String, Instant)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_every_order_acknowledged_before_it() {
    let drill = Arc::new(Drill::start().await);
    let acknowledged: Acknowledged = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // Four shoppers, 100 orders at most, one unit of a different product each
    // time so that stock never runs out.
    let shoppers: Vec<_> = (0..4)
        .map(|shopper| {
            let (drill, acknowledged, stop) = (drill.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                for n in 0..25 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let product = 1 + (shopper * 25 + n) % 50;
                    if let Some(id) = drill.place_order(product).await {
                        acknowledged.lock().unwrap().push((id, Instant::now()));
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let backup_started = Instant::now();
    let backup = drill.script("backup.sh", &[]);
    assert!(backup.status.success(), "backup: {}", stderr(&backup));
    let backup_done = Instant::now();
    // Orders go on after the backup: these are the ones a restore loses.
    while acknowledged.lock().unwrap().len() < 40 && !shoppers.iter().all(|s| s.is_finished()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for shopper in shoppers {
        shopper.await.unwrap();
    }
    let last_ack = acknowledged
        .lock()
        .unwrap()
        .iter()
        .map(|(_, at)| *at)
        .max()
        .unwrap();

    // Disaster, then recovery: RTO from the drop to the first order read back.
    let destroyed = Instant::now();
    drill.psql(&format!(
        r#"DROP DATABASE "{}" WITH (FORCE)"#,
        drill.database()
    ));
    let restore = drill.script("restore.sh", &[]);
    assert!(restore.status.success(), "restore: {}", stderr(&restore));
    let acknowledged = acknowledged.lock().unwrap().clone();
    let (first, _) = &acknowledged[0];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = drill
            .client
            .get(format!("{}/api/v1/orders/{first}", drill.address))
            .send()
            .await;
        if answer.is_ok_and(|a| a.status() == StatusCode::OK) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the shop did not recover within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rto = destroyed.elapsed();

    let mut lost = Vec::new();
    for (id, at) in &acknowledged {
        if !drill.has_order(id).await {
            assert!(
                *at >= backup_started,
                "order {id}, acknowledged before the backup, is missing"
            );
            lost.push((id.clone(), *at));
        }
    }
    let before = acknowledged
        .iter()
        .filter(|(_, at)| *at < backup_started)
        .count();
    let after: Vec<_> = acknowledged
        .iter()
        .filter(|(_, at)| *at > backup_done)
        .collect();
    // pg_dump's snapshot is taken when it starts: nothing acknowledged after
    // it finished can be in the dump, and the drill reports those as lost.
    for (id, _) in &after {
        assert!(
            lost.iter().any(|(l, _)| l == id),
            "order {id} came after the backup yet survived"
        );
    }
    let first_lost = lost.iter().map(|(_, at)| *at).min().unwrap_or(last_ack);
    println!(
        "database-restore drill: {} orders acknowledged, {before} before the backup started \
         (all restored), {} after it finished; lost (RPO): {} orders, {:.2} s of writes; \
         RTO: {:.2} s (drop to the first order read back)",
        acknowledged.len(),
        after.len(),
        lost.len(),
        last_ack.saturating_duration_since(first_lost).as_secs_f64(),
        rto.as_secs_f64(),
    );
    Arc::into_inner(drill).unwrap().finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_corrupt_dump_fails_clearly_and_leaves_the_database_untouched() {
    let drill = Drill::start().await;
    let order = drill.place_order(1).await.expect("an order");

    let output = drill.script("restore.sh", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no shop-*.dump in"),
        "{}",
        stderr(&output)
    );

    let missing = drill.backups.path().join("shop-missing.dump");
    let output = drill.script("restore.sh", &[&missing]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no such dump"),
        "{}",
        stderr(&output)
    );

    let garbage = drill.backups.path().join("shop-garbage.dump");
    std::fs::write(&garbage, b"PGDMP this is not a dump").unwrap();
    let output = drill.script("restore.sh", &[&garbage]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a readable pg_dump archive"),
        "{}",
        stderr(&output)
    );

    // A real dump cut short: its table of contents may still read, the
    // restore itself fails, and the database stays as it was.
    let backup = drill.script("backup.sh", &[]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    let dump = std::fs::read_dir(drill.backups.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("shop-2")
        })
        .expect("the backup's dump");
    let bytes = std::fs::read(&dump).unwrap();
    let truncated = drill.backups.path().join("shop-truncated.dump");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let output = drill.script("restore.sh", &[&truncated]);
    assert!(!output.status.success(), "a truncated dump was restored");
    assert!(
        stderr(&output).contains("is untouched"),
        "{}",
        stderr(&output)
    );

    assert!(drill.has_order(&order).await, "the database was changed");
    let second = drill.place_order(2).await;
    assert!(second.is_some(), "the shop no longer takes orders");
    drill.finish().await;
}
