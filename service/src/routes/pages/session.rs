//! The shopper's session, kept in a signed and encrypted cookie: the cart id,
//! the CSRF token and who is logged in.

use actix_session::Session;
use anyhow::Context;
use serde::{de::DeserializeOwned, Serialize};

use super::PageError;

const CART_ID: &str = "cart_id";
const CSRF: &str = "csrf";
const CUSTOMER_ID: &str = "customer_id";
const CUSTOMER_NAME: &str = "customer_name";

pub(crate) struct ShopSession(Session);

impl From<Session> for ShopSession {
    fn from(session: Session) -> Self {
        ShopSession(session)
    }
}

impl ShopSession {
    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, PageError> {
        // A cookie we cannot read is treated as no session at all.
        Ok(self.0.get(key).unwrap_or(None))
    }

    fn set<T: Serialize>(&self, key: &str, value: T) -> Result<(), PageError> {
        self.0
            .insert(key, value)
            .with_context(|| format!("storing {key} in the session"))
            .map_err(PageError::from)
    }

    pub(crate) fn cart_id(&self) -> Result<Option<String>, PageError> {
        self.get(CART_ID)
    }

    pub(crate) fn set_cart_id(&self, id: &str) -> Result<(), PageError> {
        self.set(CART_ID, id)
    }

    pub(crate) fn customer_id(&self) -> Result<Option<i64>, PageError> {
        self.get(CUSTOMER_ID)
    }

    pub(crate) fn customer_name(&self) -> Result<Option<String>, PageError> {
        self.get(CUSTOMER_NAME)
    }

    /// The session's CSRF token, made on first use.
    pub(crate) fn csrf_token(&self) -> Result<String, PageError> {
        if let Some(token) = self.get::<String>(CSRF)? {
            return Ok(token);
        }
        // 128 bits from the thread's CSPRNG (ChaCha, seeded by the OS): the
        // same strength as a v4 UUID without a getrandom(2) call per
        // first visit.
        let token = format!("{:032x}", rand::random::<u128>());
        self.set(CSRF, &token)?;
        Ok(token)
    }

    /// Refuses a form whose token is not this session's.
    pub(crate) fn verify_csrf(&self, submitted: &str) -> Result<(), PageError> {
        match self.get::<String>(CSRF)? {
            Some(token) if super::super::same_secret(&token, submitted) => Ok(()),
            Some(_) => Err(PageError::Forbidden(
                "This form was not sent from this session's page. Go back, reload the page and try again.".into(),
            )),
            None => Err(PageError::Forbidden(
                "Your session has expired. Go back, reload the page and try again.".into(),
            )),
        }
    }

    /// Logs a customer in: a fresh session (against fixation) that keeps the cart.
    pub(crate) fn log_in(&self, id: i64, name: &str) -> Result<(), PageError> {
        let cart = self.cart_id()?;
        self.0.renew();
        self.0.remove(CSRF);
        self.set(CUSTOMER_ID, id)?;
        self.set(CUSTOMER_NAME, name)?;
        if let Some(cart) = cart {
            self.set_cart_id(&cart)?;
        }
        Ok(())
    }

    pub(crate) fn log_out(&self) {
        self.0.purge();
    }
}
