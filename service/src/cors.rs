//! Cross-origin access to the JSON API: only the origins named in
//! `SHOP_CORS_ALLOWED_ORIGINS`, and none by default. The pages use cookies
//! and CSRF tokens and never answer cross-origin requests.

use std::{fmt, str::FromStr};

use actix_cors::Cors;
use actix_web::http::{header, Method};

/// The origins allowed to call `/api/v1` from a browser, each
/// `scheme://host[:port]` as browsers send it in `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The middleware for `/api/v1`: preflights answered for the allowed
    /// origins, every other origin refused (no CORS headers, so the browser
    /// keeps the answer from the page).
    pub fn middleware(&self) -> Cors {
        let cors = self
            .0
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
        cors.allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allowed_headers([header::CONTENT_TYPE, header::ACCEPT])
            .allowed_header("idempotency-key")
            .expose_headers([header::RETRY_AFTER])
            .max_age(600)
    }
}

impl FromStr for CorsOrigins {
    type Err = String;

    /// A comma-separated list; blanks around commas are ignored, an empty
    /// string allows no origin.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let origins = s
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| {
                parse_origin(o).map_err(|why| {
                    format!("SHOP_CORS_ALLOWED_ORIGINS: `{o}` is not an origin ({why})")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CorsOrigins(origins))
    }
}

impl fmt::Display for CorsOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// An origin is a scheme, a host and an optional port: no path, no query,
/// no wildcard (a wildcard with cookies would open the API to every site).
fn parse_origin(origin: &str) -> Result<String, &'static str> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or("expected scheme://host[:port]")?;
    if scheme != "http" && scheme != "https" {
        return Err("the scheme must be http or https");
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (rest, None),
    };
    if host.is_empty() {
        return Err("the host is missing");
    }
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if !host_ok {
        return Err("only scheme://host[:port], without a path, query or wildcard");
    }
    if let Some(port) = port {
        port.parse::<u16>()
            .map_err(|_| "the port is not a number")?;
    }
    Ok(origin.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comma_separated_list_of_origins_parses() {
        let origins: CorsOrigins = " https://a.example , http://localhost:3000,"
            .parse()
            .unwrap();
        assert_eq!(
            origins.to_string(),
            "https://a.example,http://localhost:3000"
        );
        assert!("".parse::<CorsOrigins>().unwrap().is_empty());
    }

    #[test]
    fn paths_wildcards_and_missing_schemes_are_refused() {
        for bad in [
            "a.example",
            "https://a.example/shop",
            "*",
            "https://*.example",
            "ftp://a.example",
            "https://a.example:http",
            "https://",
        ] {
            assert!(bad.parse::<CorsOrigins>().is_err(), "{bad} was accepted");
        }
    }
}
