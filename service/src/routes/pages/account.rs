//! Registration, log in and out, and order history.

use actix_session::Session;
use std::time::Duration;

use actix_web::{
    http::{
        header::{HeaderValue, RETRY_AFTER},
        StatusCode,
    },
    web, HttpRequest, HttpResponse,
};
use minijinja::context;
use serde::Deserialize;

use super::{render, render_with, see_other, Layout, PageError, ShopSession};
use crate::{
    domain::{hash_password, verify_password, Email, Name, Password, ValidationErrors},
    state::AppState,
    storage::NewCustomer,
};

#[derive(Deserialize, serde::Serialize)]
pub(super) struct RegisterForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default, skip_serializing)]
    password: String,
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf_token: String,
}

pub(super) async fn register_form(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let layout = Layout::new(&state, &session).await?;
    let form = context! { name => "", email => "" };
    render("register.jinja", context! { layout, form })
}

pub(super) async fn register(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    let mut errors = ValidationErrors::new();
    let name = Name::parse(&form.name)
        .map_err(|e| errors.insert("name", e))
        .ok();
    let email = Email::parse(&form.email)
        .map_err(|e| errors.insert("email", e))
        .ok();
    let password = Password::parse(&form.password)
        .map_err(|e| errors.insert("password", e))
        .ok();
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        let layout = Layout::new(&state, &session).await?;
        return render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "register.jinja",
            context! { layout, form => &*form, errors },
        );
    };
    let customer = NewCustomer {
        email: email.into(),
        name: name.into(),
        password_hash: hash_password(password).await?,
    };
    let Some(id) = state.db.create_customer(&customer).await? else {
        let layout = Layout::new(&state, &session).await?;
        return render_with(
            StatusCode::CONFLICT,
            "register.jinja",
            context! { layout, form => &*form, error => "An account with this email already exists. Log in instead?" },
        );
    };
    session.log_in(id, &customer.name)?;
    Ok(see_other("/account/orders"))
}

pub(super) async fn login_form(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let layout = Layout::new(&state, &session).await?;
    render("login.jinja", context! { layout })
}

pub(super) async fn login(
    state: web::Data<AppState>,
    session: Session,
    request: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    // The same client key as the per-client rate limit: the peer address.
    let client = request
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if let Err(throttled) = state.login_throttle.check(&form.email, &client) {
        state.metrics.business.login_throttled(throttled.by);
        return too_many_attempts(&state, &session, &form.email, throttled.retry_after).await;
    }
    let customer = match Email::parse(&form.email) {
        Ok(email) => state.db.customer_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let hash = customer.as_ref().map(|c| c.password_hash.clone());
    let verified = verify_password(form.password.clone(), hash).await?;
    match customer {
        Some(customer) if verified => {
            state.login_throttle.record_success(&form.email);
            session.log_in(customer.id, &customer.name)?;
            Ok(see_other("/account/orders"))
        }
        _ => {
            state.login_throttle.record_failure(&form.email, &client);
            let layout = Layout::new(&state, &session).await?;
            render_with(
                StatusCode::UNAUTHORIZED,
                "login.jinja",
                context! { layout, email => &form.email, error => "The email or the password is wrong." },
            )
        }
    }
}

/// The log-in page again, 429 with `Retry-After` in whole seconds.
async fn too_many_attempts(
    state: &AppState,
    session: &ShopSession,
    email: &str,
    retry_after: Duration,
) -> Result<HttpResponse, PageError> {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let minutes = seconds.div_ceil(60).max(1);
    let layout = Layout::new(state, session).await?;
    let mut response = render_with(
        StatusCode::TOO_MANY_REQUESTS,
        "login.jinja",
        context! {
            layout,
            email,
            error => format!("Too many failed logins. Try again in {minutes} minutes."),
        },
    )?;
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    Ok(response)
}

pub(super) async fn logout(
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    session.log_out();
    Ok(see_other("/"))
}

pub(super) async fn orders(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let Some(customer) = session.customer_id()? else {
        return Ok(see_other("/account/login"));
    };
    let orders = state.db.orders_of_customer(customer).await?;
    let layout = Layout::new(&state, &session).await?;
    render("orders.jinja", context! { layout, orders })
}
