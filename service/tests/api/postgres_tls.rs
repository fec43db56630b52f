//! TLS to PostgreSQL: a private server started with `ssl=on` and a
//! certificate from a CA made here, reachable only over TLS (`hostssl`).

use std::{
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use reqwest::StatusCode;
use shop::{configuration::Settings, startup::Application};

/// A certificate authority of the test's own.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A server certificate for `localhost` and its key, both PEM.
    fn server_certificate(&self) -> (String, String) {
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A PostgreSQL server of its own, stopped when dropped.
struct TlsPostgres {
    dir: tempfile::TempDir,
    port: u16,
    ca_file: PathBuf,
}

fn bin(name: &str) -> PathBuf {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| {
            versions
                .filter_map(Result::ok)
                .map(|v| v.path().join("bin").join(name))
                .filter(|p| p.exists())
                .max()
        });
    found.unwrap_or_else(|| panic!("{name} not found: install the Debian package postgresql"))
}

/// initdb refuses to run as root: as root, run PostgreSQL as user postgres.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn postgres_command(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn as_postgres(program: &Path, args: &[&str]) {
    let output = postgres_command(program)
        .args(args)
        .output()
        .expect("the PostgreSQL tools run");
    assert!(
        output.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn chown_postgres(path: &Path) {
    if !is_root() {
        return;
    }
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

impl TlsPostgres {
    fn start(ca: &Ca) -> TlsPostgres {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        let tls = dir.path().join("tls");
        std::fs::create_dir(&tls).unwrap();
        let (cert, key) = ca.server_certificate();
        std::fs::write(tls.join("server.crt"), cert).unwrap();
        std::fs::write(tls.join("server.key"), key).unwrap();
        std::fs::set_permissions(
            tls.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let ca_file = dir.path().join("ca.crt");
        std::fs::write(&ca_file, ca.cert.pem()).unwrap();
        chown_postgres(dir.path());

        as_postgres(
            &bin("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
            ],
        );
        // Plain-text connections are refused: whatever connects, connects over TLS.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
        )
        .unwrap();
        chown_postgres(&data);
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {sock} -c listen_addresses=localhost -c ssl=on \
             -c ssl_cert_file={tls}/server.crt -c ssl_key_file={tls}/server.key",
            sock = dir.path().display(),
            tls = tls.display(),
        );
        as_postgres(
            &bin("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                dir.path().join("log").to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        TlsPostgres { dir, port, ca_file }
    }

    fn url(&self, query: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/postgres?{query}",
            self.port
        )
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = postgres_command(&bin("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

async fn build(url: &str) -> anyhow::Result<Application> {
    Application::build(Settings::ephemeral(url)).await
}

async fn serves_the_catalogue(app: Application) {
    let address = format!("http://127.0.0.1:{}/api/v1/categories", app.port());
    let stopper = app.stopper();
    let running = tokio::spawn(app.run_until_stopped());
    let response = reqwest::get(&address).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    stopper.stop();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_connects_with_verify_full_to_a_server_certified_by_its_ca() {
    let ca = Ca::new("shop test CA");
    let postgres = TlsPostgres::start(&ca);
    let url = postgres.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        postgres.ca_file.display()
    ));
    let app = build(&url).await.expect("the shop starts over TLS");
    serves_the_catalogue(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_encrypts_and_plain_text_is_refused_by_the_server() {
    let ca = Ca::new("shop test CA");
    let postgres = TlsPostgres::start(&ca);
    let app = build(&postgres.url("sslmode=require"))
        .await
        .expect("the shop starts with sslmode=require");
    serves_the_catalogue(app).await;
    // The same server without TLS: refused, so the shop above used TLS.
    let err = build(&postgres.url("sslmode=disable"))
        .await
        .err()
        .expect("plain text is refused");
    assert!(
        format!("{err:#}").contains("no pg_hba.conf entry"),
        "{err:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_a_clear_start_up_error() {
    let postgres = TlsPostgres::start(&Ca::new("the server's CA"));
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), Ca::new("another CA").cert.pem()).unwrap();
    let url = postgres.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        other.path().display()
    ));
    let err = build(&url)
        .await
        .err()
        .expect("an untrusted server is refused");
    let message = format!("{err:#}");
    assert!(message.contains("preparing the database at"), "{message}");
    assert!(message.contains("certificate"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_root_certificate_file_is_a_clear_start_up_error() {
    let postgres = TlsPostgres::start(&Ca::new("shop test CA"));
    let url = postgres.url("sslmode=verify-full&sslrootcert=/nonexistent/ca.crt");
    let err = build(&url)
        .await
        .err()
        .expect("a missing CA file is refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("reading the database CA certificate /nonexistent/ca.crt"),
        "{message}"
    );
}

/// The production overlay's wiring: libpq's PGSSLMODE and PGSSLROOTCERT
/// beneath a DATABASE_URL that names neither.
fn shop_with_libpq_tls_env(postgres: &TlsPostgres, root_cert: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("DATABASE_URL", postgres.url(""))
        .env("PGSSLMODE", "verify-full")
        .env("PGSSLROOTCERT", root_cert)
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .env("SHOP_ADMIN_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the shop binary runs")
}

#[test]
fn pgsslmode_and_pgsslrootcert_from_the_environment_are_honoured() {
    use std::io::{BufRead, BufReader};

    let postgres = TlsPostgres::start(&Ca::new("shop test CA"));
    let mut shop = shop_with_libpq_tls_env(&postgres, &postgres.ca_file);
    let stdout = BufReader::new(shop.stdout.take().unwrap());
    let started = stdout
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("shop started"));
    let _ = shop.kill();
    let _ = shop.wait();
    assert!(started, "the shop did not start with its CA");

    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), Ca::new("another CA").cert.pem()).unwrap();
    let output = shop_with_libpq_tls_env(&postgres, other.path())
        .wait_with_output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
