//! A real shop for experiments to run against, with its PostgreSQL link
//! through the fault proxy; experiment loading and running; small servers.

use std::{
    path::{Path, PathBuf},
    sync::LazyLock,
    time::Duration,
};

use chaos::{
    experiment::{Loaded, Vars},
    journal::{ActivityRun, Journal},
    proxy::FaultProxy,
    runner::{self, RunOptions},
    toxiproxy::NewProxy,
};
use reqwest::{redirect, Client};
use shop::{
    configuration::Settings,
    startup::{Application, Stopper},
    storage::Database,
};

/// Which database the shop runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// The name of the database link's proxy, as the shipped experiments expect.
pub(crate) const DB_PROXY: &str = "shop-db";
pub(crate) const ADMIN_TOKEN: &str = "test-token";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_test_writer()
            .try_init();
    }
});

/// An empty PostgreSQL database, dropped when the value is.
pub(crate) async fn fresh_postgres_database() -> fleet::postgres::TestDatabase {
    fleet::postgres::TestDatabase::create("chaos_test").await
}

/// `postgres://user@host:port/db` with `host:port` replaced.
fn via(url: &str, address: &str) -> (String, String) {
    let (scheme_and_credentials, rest) = url.rsplit_once('@').expect("user@host in the URL");
    let (host, database) = rest.split_once('/').expect("a database in the URL");
    (
        format!("{scheme_and_credentials}@{address}/{database}"),
        host.to_owned(),
    )
}

/// A shop served in this process until dropped. On PostgreSQL its database
/// link goes through a fault proxy (`proxy`), named [`DB_PROXY`].
pub(crate) struct Shop {
    pub(crate) url: String,
    pub(crate) admin_url: String,
    pub(crate) db: Database,
    pub(crate) proxy: Option<FaultProxy>,
    pub(crate) http: Client,
    stopper: Stopper,
    _dir: tempfile::TempDir,
    _database: Option<fleet::postgres::TestDatabase>,
}

pub(crate) async fn spawn_shop(backend: Backend) -> Shop {
    LazyLock::force(&TRACING);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut database = None;
    let (database_url, proxy) = match backend {
        Backend::Sqlite => (format!("sqlite://{}/shop.db", dir.path().display()), None),
        Backend::Postgres => {
            let direct = database.insert(fresh_postgres_database().await).url();
            let proxy = FaultProxy::start("127.0.0.1:0")
                .await
                .expect("the fault proxy starts");
            let (_, upstream) = via(direct, "");
            let link = proxy
                .create(NewProxy {
                    name: DB_PROXY.into(),
                    listen: "127.0.0.1:0".into(),
                    upstream,
                    enabled: true,
                })
                .expect("the database proxy is created");
            let (through_proxy, _) = via(direct, &link.listen);
            (through_proxy, Some(proxy))
        }
    };
    let settings = Settings::ephemeral(&database_url);
    let app = Application::build(settings).await.expect("the shop builds");
    let shop = Shop {
        url: format!("http://127.0.0.1:{}", app.port()),
        admin_url: format!("http://127.0.0.1:{}", app.admin_port()),
        db: app.database(),
        proxy,
        http: client(),
        stopper: app.stopper(),
        _dir: dir,
        _database: database,
    };
    tokio::spawn(app.run_until_stopped());
    shop
}

impl Shop {
    /// The variables the shipped experiments read.
    pub(crate) fn vars(&self) -> Vars {
        let mut vars = Vars::none()
            .with("SHOP_URL", &self.url)
            .with("SHOP_ADMIN_URL", &self.admin_url)
            .with("SHOP_ADMIN_TOKEN", ADMIN_TOKEN)
            .with("CHAOS_DB_PROXY", DB_PROXY);
        if let Some(proxy) = &self.proxy {
            vars = vars.with("CHAOS_PROXY_API", proxy.api_url());
        }
        vars
    }

    pub(crate) fn admin_port(&self) -> u16 {
        self.admin_url.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub(crate) async fn status(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    pub(crate) async fn admin_status(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.admin_url))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// `GET /admin/faults`.
    pub(crate) async fn active_faults(&self) -> Vec<serde_json::Value> {
        self.http
            .get(format!("{}/admin/faults", self.admin_url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("the fault API answers")
            .json()
            .await
            .expect("a JSON list")
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.stopper.stop();
    }
}

pub(crate) fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client")
}

/// A shipped experiment.
pub(crate) fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments")
        .join(format!("{name}.yaml"))
}

pub(crate) fn shipped_experiments() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments"))
            .expect("the experiments directory")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
    paths.sort();
    paths
}

/// Loads and runs an experiment file; prints the timeline (shown when a test fails).
pub(crate) async fn run_file(path: &Path, vars: &Vars, options: RunOptions) -> Journal {
    let loaded = Loaded::load(path, vars).unwrap_or_else(|e| panic!("{e}"));
    let journal = runner::run_loaded(&loaded, options).await;
    println!("{}", journal.timeline());
    journal
}

/// Parses and runs an experiment written in the test.
pub(crate) async fn run_yaml(yaml: &str, vars: &Vars, options: RunOptions) -> Journal {
    let loaded =
        Loaded::parse(yaml, "test experiment", None, vars).unwrap_or_else(|e| panic!("{e}"));
    let journal = runner::run_loaded(&loaded, options).await;
    println!("{}", journal.timeline());
    journal
}

/// The method run of that name.
pub(crate) fn method_run<'a>(journal: &'a Journal, name: &str) -> &'a ActivityRun {
    journal
        .run
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no method activity `{name}` ran:\n{}", journal.timeline()))
}

/// A key of an activity's output (null when it has none).
pub(crate) fn value(run: &ActivityRun, key: &str) -> serde_json::Value {
    run.output
        .as_ref()
        .map_or(serde_json::Value::Null, |o| o[key].clone())
}

/// An echo server on loopback: what it reads, it writes back.
pub(crate) async fn echo_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = socket.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    address
}

/// A server that writes `bytes` bytes to each connection, then closes it.
pub(crate) async fn source_server(bytes: usize) -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = socket.write_all(&vec![b'x'; bytes]).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    address
}
