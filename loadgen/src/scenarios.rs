//! The shopper mix, after the OpenTelemetry demo's and Online Boutique's load
//! generators: most visitors browse, some buy, a few programs use the API.
//! Each user type is a module; every transaction is named by the route of the
//! request it makes (`GET /product/{slug}`).

mod api_client;
mod browser;
pub(crate) mod common;
mod shopper;

use std::time::Duration;

use goose::prelude::*;

use crate::routes::{self, Route};

/// Think time between two transactions of a user, drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub min: Duration,
    pub max: Duration,
}

impl Pace {
    /// No think time: each user sends its next request as soon as it can, so
    /// the user count is the concurrency (capacity measurement).
    pub const FLAT_OUT: Pace = Pace {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    pub const fn millis(min: u64, max: u64) -> Pace {
        Pace {
            min: Duration::from_millis(min),
            max: Duration::from_millis(max),
        }
    }
}

/// One scenario of the mix: its name, weight, and the routes it requests.
#[derive(Debug, Clone, Copy)]
pub struct UserType {
    pub name: &'static str,
    /// Share of the users: 6 browsers to 3 shoppers to 1 API client.
    pub weight: usize,
    pub routes: &'static [Route],
}

pub const BROWSER: UserType = UserType {
    name: "anonymous browser",
    weight: 6,
    routes: &[
        routes::HOME,
        routes::STYLESHEET,
        routes::CATEGORY,
        routes::PRODUCT,
        routes::PRODUCT_IMAGE,
        routes::SEARCH,
    ],
};

pub const SHOPPER: UserType = UserType {
    name: "shopper",
    weight: 3,
    routes: &[
        routes::HOME,
        routes::PRODUCT,
        routes::CART_ADD,
        routes::CART,
        routes::CART_UPDATE,
        routes::CART_REMOVE,
        routes::CHECKOUT_PAGE,
        routes::CHECKOUT,
        routes::ORDER_PAGE,
    ],
};

pub const API_CLIENT: UserType = UserType {
    name: "api client",
    weight: 1,
    routes: &[
        routes::API_CATEGORIES,
        routes::API_PRODUCTS,
        routes::API_PRODUCT,
        routes::API_CART_CREATE,
        routes::API_CART_ADD,
        routes::API_CART_ITEM_UPDATE,
        routes::API_CART_ITEM_DELETE,
        routes::API_CART,
        routes::API_ORDER_CREATE,
        routes::API_ORDER,
    ],
};

/// Every user type of the mix.
pub const USER_TYPES: &[UserType] = &[BROWSER, SHOPPER, API_CLIENT];

/// The mix as Goose scenarios, each user thinking for `pace` between
/// transactions.
pub fn all(pace: Pace) -> Result<Vec<Scenario>, GooseError> {
    Ok(vec![browser(pace)?, shopper(pace)?, api_client(pace)?])
}

/// Goose's `transaction!`, for a function named by its path.
macro_rules! tx {
    ($function:path) => {
        Transaction::new(std::sync::Arc::new(move |user| {
            std::boxed::Box::pin($function(user))
        }))
    };
}

fn named(transaction: Transaction, route: &Route) -> Transaction {
    transaction.set_name(&route.key())
}

fn browser(pace: Pace) -> Result<Scenario, GooseError> {
    Ok(scenario!("anonymous browser")
        .set_weight(BROWSER.weight)?
        .set_wait_time(pace.min, pace.max)?
        .register_transaction(tx!(browser::on_start).set_on_start())
        .register_transaction(named(tx!(browser::home), &routes::HOME))
        .register_transaction(named(tx!(browser::category), &routes::CATEGORY))
        .register_transaction(named(tx!(browser::product), &routes::PRODUCT).set_weight(3)?)
        .register_transaction(named(tx!(browser::search), &routes::SEARCH))
        .register_transaction(tx!(common::stop_user).set_on_stop()))
}

fn shopper(pace: Pace) -> Result<Scenario, GooseError> {
    Ok(scenario!("shopper")
        .set_weight(SHOPPER.weight)?
        .set_wait_time(pace.min, pace.max)?
        .register_transaction(tx!(shopper::on_start).set_on_start())
        .register_transaction(named(tx!(shopper::home), &routes::HOME))
        // Two products into the cart, so that one can be removed.
        .register_transaction(named(tx!(shopper::view_product), &routes::PRODUCT))
        .register_transaction(named(tx!(shopper::add_to_cart), &routes::CART_ADD))
        .register_transaction(named(tx!(shopper::view_product), &routes::PRODUCT))
        .register_transaction(named(tx!(shopper::add_to_cart), &routes::CART_ADD))
        .register_transaction(named(tx!(shopper::view_cart), &routes::CART))
        .register_transaction(named(tx!(shopper::change_quantity), &routes::CART_UPDATE))
        .register_transaction(named(tx!(shopper::remove_item), &routes::CART_REMOVE))
        .register_transaction(named(tx!(shopper::checkout_page), &routes::CHECKOUT_PAGE))
        .register_transaction(named(tx!(shopper::place_order), &routes::CHECKOUT))
        .register_transaction(named(tx!(shopper::view_order), &routes::ORDER_PAGE))
        .register_transaction(tx!(common::stop_user).set_on_stop()))
}

fn api_client(pace: Pace) -> Result<Scenario, GooseError> {
    use api_client as api;
    Ok(scenario!("api client")
        .set_weight(API_CLIENT.weight)?
        .set_wait_time(pace.min, pace.max)?
        .register_transaction(tx!(api::on_start).set_on_start())
        .register_transaction(named(tx!(api::categories), &routes::API_CATEGORIES))
        .register_transaction(named(tx!(api::products), &routes::API_PRODUCTS))
        .register_transaction(named(tx!(api::product), &routes::API_PRODUCT))
        .register_transaction(named(tx!(api::create_cart), &routes::API_CART_CREATE))
        .register_transaction(named(tx!(api::add_items), &routes::API_CART_ADD))
        .register_transaction(named(
            tx!(api::change_quantity),
            &routes::API_CART_ITEM_UPDATE,
        ))
        .register_transaction(named(tx!(api::remove_item), &routes::API_CART_ITEM_DELETE))
        .register_transaction(named(tx!(api::view_cart), &routes::API_CART))
        .register_transaction(named(tx!(api::place_order), &routes::API_ORDER_CREATE))
        .register_transaction(named(tx!(api::view_order), &routes::API_ORDER))
        .register_transaction(tx!(common::stop_user).set_on_stop()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_belongs_to_a_user_type() {
        for route in routes::ALL {
            assert!(
                USER_TYPES.iter().any(|t| t.routes.contains(route)),
                "{} is requested by no user type",
                route.key()
            );
        }
    }

    #[test]
    fn the_mix_builds_three_weighted_scenarios() {
        let scenarios = all(Pace::millis(0, 10)).expect("valid scenarios");
        let weights: Vec<_> = scenarios
            .iter()
            .map(|s| (s.name.to_string(), s.weight))
            .collect();
        assert_eq!(
            weights,
            [
                ("anonymous browser".to_string(), 6),
                ("shopper".to_string(), 3),
                ("api client".to_string(), 1)
            ]
        );
    }
}
