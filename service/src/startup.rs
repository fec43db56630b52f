//! Building and running the application: two listeners (public and admin),
//! shared state, and graceful shutdown.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_governor::{Governor, GovernorConfigBuilder};
use actix_session::{storage::CookieSessionStore, SessionMiddleware};
use actix_web::{
    cookie::{Key, SameSite},
    dev::Server,
    middleware::{from_fn, Condition, DefaultHeaders},
    web, App, HttpServer,
};
use anyhow::Context;
use tokio::sync::Notify;

use crate::{
    cart_expiry,
    configuration::{RateLimit, Settings, Telemetry},
    faults::inject_faults,
    login_throttle::{Clock, LoginThrottle, SystemClock},
    metrics::{Metrics, ObserveHttp},
    product_pages::ProductPages,
    routes,
    state::{AppState, Readiness},
    storage::Database,
    templates,
};

/// Stops a running application as SIGTERM would; for tests and tools that
/// run the shop in-process.
#[derive(Clone, Default)]
pub struct Stopper(Arc<Notify>);

impl Stopper {
    pub fn stop(&self) {
        self.0.notify_one();
    }
}

pub struct Application {
    public: Server,
    admin: Server,
    port: u16,
    admin_port: u16,
    state: web::Data<AppState>,
    stopper: Stopper,
    drain_delay: Duration,
    /// The idle-cart sweep, stopped with the application.
    cart_sweep: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects to the database, migrates and seeds it, and binds both
    /// listeners. Nothing is served until [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the clock that login throttling reads,
    /// so that tests can let its window pass without waiting.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        templates::check().context("compiling the page templates")?;
        let metrics = Metrics::new().context("registering metrics")?;
        let db_metrics = match settings.telemetry {
            Telemetry::On => metrics.db.clone(),
            Telemetry::Off => metrics.db.clone().silenced(),
        };
        let mut db = Database::connect(&settings, db_metrics)?;
        db.migrate().await.with_context(|| {
            format!(
                "preparing the database at {}",
                crate::configuration::redact_password(&settings.database_url)
            )
        })?;
        db.seed_if_empty().await.context("seeding the catalogue")?;
        db.watch_announcements();
        let categories = db.categories().await.context("loading the categories")?;
        let state = web::Data::new(AppState {
            faults: db.faults().clone(),
            db,
            metrics,
            readiness: Readiness::default(),
            categories,
            product_pages: ProductPages::default(),
            admin_token: settings.admin_token.clone().filter(|t| !t.is_empty()),
            login_throttle: LoginThrottle::with_clock(clock),
        });

        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding the public address {}", settings.listen))?;
        let admin_listener = TcpListener::bind(&settings.admin_listen)
            .with_context(|| format!("binding the admin address {}", settings.admin_listen))?;
        let port = listener.local_addr()?.port();
        let admin_port = admin_listener.local_addr()?.port();

        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let public = public_server(&settings, state.clone(), listener, workers)?;
        let admin = HttpServer::new({
            let state = state.clone();
            move || App::new().app_data(state.clone()).configure(routes::admin)
        })
        .listen(admin_listener)?
        .workers(1)
        .disable_signals()
        .shutdown_timeout(settings.shutdown_grace_seconds)
        .run();

        tracing::info!(
            listen = %settings.listen,
            port,
            admin_listen = %settings.admin_listen,
            admin_port,
            database = state.db.system_name(),
            "shop started"
        );
        let cart_sweep = cart_expiry::spawn(state.db.clone(), settings.cart_ttl_hours);
        Ok(Application {
            cart_sweep,
            public,
            admin,
            port,
            admin_port,
            state,
            stopper: Stopper::default(),
            drain_delay: Duration::from_secs(settings.drain_delay_seconds),
        })
    }

    /// The public port (useful when binding port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// The database, for tests and tools that inspect what the shop stored.
    pub fn database(&self) -> Database {
        self.state.db.clone()
    }

    /// A handle that stops the application as SIGTERM would.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Serves until SIGTERM, SIGINT or [`Stopper::stop`], then drains:
    /// readiness turns false, the listener closes after the drain delay,
    /// in-flight requests get the grace period to finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let public_handle = self.public.handle();
        let admin_handle = self.admin.handle();
        let mut public = tokio::spawn(self.public);
        let admin = tokio::spawn(self.admin);

        tokio::select! {
            signal = shutdown_signal() => tracing::info!(signal, "shutting down"),
            () = self.stopper.0.notified() => tracing::info!("shutting down on request"),
            result = &mut public => {
                return result.context("the public server task failed")?.context("the public server failed");
            }
        }
        self.state.readiness.start_draining();
        self.cart_sweep.abort();
        if !self.drain_delay.is_zero() {
            tokio::time::sleep(self.drain_delay).await;
        }
        // Graceful: stop accepting, let in-flight requests finish.
        public_handle.stop(true).await;
        admin_handle.stop(true).await;
        let _ = public.await;
        let _ = admin.await;
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn public_server(
    settings: &Settings,
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: usize,
) -> anyhow::Result<Server> {
    let session_key = match &settings.session_key {
        Some(key) if key.len() >= 64 => Key::derive_from(key.as_bytes()),
        Some(_) => anyhow::bail!("SHOP_SESSION_KEY must be at least 64 bytes long"),
        None => Key::generate(),
    };
    let secure_cookies = settings.secure_cookies;
    let observed = settings.telemetry == Telemetry::On;
    let cors = settings.cors_allowed_origins.clone();
    let (rate_limited, per_second) = match settings.rate_limit {
        RateLimit::Off => (false, 1),
        RateLimit::PerSecond(n) => (true, u64::from(n.get())),
    };
    let governor = GovernorConfigBuilder::default()
        .requests_per_second(per_second)
        .burst_size((per_second * 2).min(u64::from(u32::MAX)) as u32)
        .finish()
        .context("configuring the rate limiter")?;

    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(|cfg| routes::public(cfg, &cors))
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), session_key.clone())
                    .cookie_name("shop_session".into())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_secure(secure_cookies)
                    .build(),
            )
            .wrap(Condition::new(rate_limited, Governor::new(&governor)))
            .wrap(security_headers())
            .wrap(from_fn(inject_faults))
            .wrap(Condition::new(
                observed,
                ObserveHttp::new(&state.metrics.http),
            ))
    })
    .listen(listener)?
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(settings.shutdown_grace_seconds)
    .run();
    Ok(server)
}

/// Headers on every public answer.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
}

/// Waits for SIGTERM or SIGINT and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
