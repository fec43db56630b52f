//! What every scenario shares: the user's HTTP client, one way to send a
//! request (named by route, with a `traceparent`), and the checks that turn a
//! wrong answer into a failed request with `set_failure`.

use std::time::Duration;

use goose::goose::GooseResponse;
use goose::metrics::GooseRequestMetric;
use goose::prelude::*;
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::RequestBuilder;

use crate::progress::{self, SlowRequest};
use crate::routes::Route;
use crate::trace::{TraceParent, TRACEPARENT};

/// A request slower than this is logged with its trace id.
const SLOW: Duration = Duration::from_millis(250);

/// Give the user a client of its own: cookies kept (the shop's session is a
/// cookie), redirects not followed, so a form post is timed and named on its
/// own and its `Location` can be checked.
pub(crate) async fn start_user(user: &mut GooseUser) -> TransactionResult {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("loadgen/", env!("CARGO_PKG_VERSION")))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .timeout(Duration::from_secs(30));
    user.set_client_builder(builder).await.map_err(Box::new)?;
    progress::user_started();
    Ok(())
}

pub(crate) async fn stop_user(_user: &mut GooseUser) -> TransactionResult {
    progress::user_stopped();
    Ok(())
}

/// A request body.
pub(crate) enum Body<'a> {
    Empty,
    Form(&'a [(&'a str, &'a str)]),
    Json(serde_json::Value),
}

/// Send `route` to `path` with a fresh `traceparent`, expecting `expect`.
/// A different status is a failed request in Goose's metrics.
pub(crate) async fn send(
    user: &mut GooseUser,
    route: &Route,
    path: &str,
    body: Body<'_>,
    expect: u16,
    headers: &[(&str, &str)],
) -> Result<GooseResponse, Box<TransactionError>> {
    let trace = TraceParent::random();
    let mut builder =
        request_builder(user, route.method.http(), path)?.header(TRACEPARENT, trace.to_string());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder = match body {
        Body::Empty => builder,
        Body::Form(fields) => builder.form(fields),
        Body::Json(value) => builder.json(&value),
    };
    let request = GooseRequest::builder()
        .method(route.method.goose())
        .name(route.pattern)
        .expect_status_code(expect)
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;

    let metric = &goose.request;
    let millis = metric.response_time as f64 + f64::from(metric.response_time_fraction_us) / 1000.0;
    progress::record(
        metric.success,
        || SlowRequest {
            request: route.key(),
            path: path.to_string(),
            status: metric.status_code,
            millis,
            trace_id: trace.trace_id(),
        },
        millis,
    );
    if millis >= SLOW.as_secs_f64() * 1000.0 || !metric.success {
        tracing::info!(
            trace_id = %trace.trace_id(),
            request = %route.key(),
            path,
            status = metric.status_code,
            millis,
            success = metric.success,
            "slow or failed request"
        );
    }
    Ok(goose)
}

/// A request for `path` on the user's host, with the user's client.
///
/// Goose's own builder (`GooseUser::get_request_builder`) parses the URL
/// three times: to see whether `path` is absolute, to join it to the host,
/// and again in the client from the joined text. Here it is joined once and
/// the client takes the parsed URL (`url` and `idna` were 6 % of a flood's
/// CPU in `perf`).
pub(crate) fn request_builder(
    user: &GooseUser,
    method: reqwest::Method,
    path: &str,
) -> Result<RequestBuilder, Box<TransactionError>> {
    let url = user.base_url.join(path).map_err(|e| Box::new(e.into()))?;
    Ok(user.client.request(method, url))
}

/// A response whose status was as expected, read whole.
struct Answer {
    request: GooseRequestMetric,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    /// Mark the request failed for a reason found in its answer.
    fn fail(mut self, user: &mut GooseUser, reason: &str) -> Box<TransactionError> {
        let tag = format!("{}: {reason}", self.request.name);
        fail_request(
            user,
            &mut self.request,
            &tag,
            Some(&self.headers),
            Some(&self.body),
        )
    }
}

/// Read the answer to a request `send` made, failing on no response or an
/// unexpected status.
async fn answer(
    user: &mut GooseUser,
    goose: GooseResponse,
) -> Result<Answer, Box<TransactionError>> {
    let GooseResponse {
        mut request,
        response,
    } = goose;
    let response = match response {
        Ok(response) => response,
        Err(e) => {
            let tag = format!("{}: no response: {e}", request.name);
            return Err(fail_request(user, &mut request, &tag, None, None));
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.text().await {
        Ok(body) => body,
        Err(e) => {
            let tag = format!("{}: unreadable body: {e}", request.name);
            return Err(fail_request(user, &mut request, &tag, Some(&headers), None));
        }
    };
    let answer = Answer {
        request,
        headers,
        body,
    };
    // `send` named the expected status, so Goose has already counted a
    // mismatch as a failed request; the transaction fails with it.
    if !answer.request.success {
        return Err(answer.fail(user, &format!("status {}", status.as_u16())));
    }
    Ok(answer)
}

/// Check an HTML page: expected status, and its `<main>` carries `id="page-…"`.
pub(crate) async fn page(
    user: &mut GooseUser,
    goose: GooseResponse,
    page_id: &str,
) -> Result<String, Box<TransactionError>> {
    let answer = answer(user, goose).await?;
    if !has_page_id(&answer.body, page_id) {
        return Err(answer.fail(user, &format!("page id {page_id} missing")));
    }
    Ok(answer.body)
}

/// Check a stylesheet or image: expected status, body read whole.
pub(crate) async fn asset(user: &mut GooseUser, goose: GooseResponse) -> TransactionResult {
    answer(user, goose).await.map(|_| ())
}

/// Check a JSON answer: expected status and a body that parses.
pub(crate) async fn json(
    user: &mut GooseUser,
    goose: GooseResponse,
) -> Result<serde_json::Value, Box<TransactionError>> {
    let answer = answer(user, goose).await?;
    match serde_json::from_str(&answer.body) {
        Ok(value) => Ok(value),
        Err(e) => Err(answer.fail(user, &format!("not JSON: {e}"))),
    }
}

/// Check a form post's redirect: expected status and a `Location` that starts
/// with `prefix`; returns the location's path.
pub(crate) async fn redirect(
    user: &mut GooseUser,
    goose: GooseResponse,
    prefix: &str,
) -> Result<String, Box<TransactionError>> {
    let answer = answer(user, goose).await?;
    let location = answer
        .headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(location_path);
    match location {
        Some(location) if location.starts_with(prefix) => Ok(location),
        other => {
            let reason = format!(
                "redirected to {} instead of {prefix}…",
                other.as_deref().unwrap_or("nowhere")
            );
            Err(answer.fail(user, &reason))
        }
    }
}

/// Mark `request` failed with `tag`, returning the transaction's error.
pub(crate) fn fail_request(
    user: &mut GooseUser,
    request: &mut GooseRequestMetric,
    tag: &str,
    headers: Option<&HeaderMap>,
    body: Option<&str>,
) -> Box<TransactionError> {
    match user.set_failure(tag, request, headers, body) {
        Err(e) => e,
        Ok(()) => Box::new(TransactionError::Custom(tag.to_string())),
    }
}

/// The path of a `Location` header, absolute or relative.
fn location_path(location: &str) -> String {
    match location.find("://") {
        Some(scheme_end) => {
            let rest = &location[scheme_end + 3..];
            rest.find('/')
                .map_or_else(|| "/".to_string(), |at| rest[at..].to_string())
        }
        None => location.to_string(),
    }
}

fn has_page_id(html: &str, page_id: &str) -> bool {
    html.contains(&format!("id=\"{page_id}\""))
}

/// The value of the form field `name` (`<input name=… value=…>`), as found
/// first on the page.
pub(crate) fn form_value(html: &str, name: &str) -> Option<String> {
    html.split("<input").skip(1).find_map(|tag| {
        let tag = &tag[..tag.find('>')?];
        (attribute(tag, "name")? == name).then(|| attribute(tag, "value").map(unescape))?
    })
}

/// The value of a double-quoted attribute within a tag's text.
fn attribute<'a>(tag: &'a str, attribute: &str) -> Option<&'a str> {
    let needle = format!("{attribute}=\"");
    tag.match_indices(&needle).find_map(|(at, _)| {
        let preceded_by_space = tag[..at].ends_with(char::is_whitespace);
        let start = at + needle.len();
        let end = tag[start..].find('"')? + start;
        preceded_by_space.then(|| &tag[start..end])
    })
}

/// Every distinct `href="/<prefix>/<slug>"` on the page, in page order.
pub(crate) fn links(html: &str, prefix: &str) -> Vec<String> {
    let needle = format!("href=\"{prefix}");
    let mut found = Vec::new();
    for (at, _) in html.match_indices(&needle) {
        let rest = &html[at + needle.len()..];
        let Some(end) = rest.find('"') else { continue };
        let slug = rest[..end].split(['?', '#']).next().unwrap_or_default();
        if !slug.is_empty() && !slug.contains('/') && !found.iter().any(|s| s == slug) {
            found.push(slug.to_string());
        }
    }
    found
}

/// Undo the HTML escaping a template applies to an attribute value.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// Pick one element at random.
pub(crate) fn pick<T: Clone>(items: &[T]) -> Option<T> {
    use rand::seq::IndexedRandom;
    items.choose(&mut rand::rng()).cloned()
}

/// A JSON id (number or string) as it appears in a path.
pub(crate) fn id_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCT_PAGE: &str = r#"<main id="page-product">
      <form method="post" action="/cart/items">
        <input type="hidden" name="csrf_token" value="a1b2&amp;c3">
        <input type="hidden" name="product_id" value="42">
        <input type="number" name="quantity" value="1" min="1">
      </form>
      <a href="/product/blue-mug">Blue mug</a> <a href="/product/red-cup?ref=x">Red</a>
      <a href="/product/blue-mug">again</a> <a href="/category/kitchen">Kitchen</a>
    </main>"#;

    #[test]
    fn form_values_are_read_and_unescaped() {
        assert_eq!(
            form_value(PRODUCT_PAGE, "csrf_token").as_deref(),
            Some("a1b2&c3")
        );
        assert_eq!(
            form_value(PRODUCT_PAGE, "product_id").as_deref(),
            Some("42")
        );
        assert_eq!(form_value(PRODUCT_PAGE, "missing"), None);
    }

    #[test]
    fn links_are_distinct_slugs_without_query() {
        assert_eq!(links(PRODUCT_PAGE, "/product/"), ["blue-mug", "red-cup"]);
        assert_eq!(links(PRODUCT_PAGE, "/category/"), ["kitchen"]);
        assert!(links(PRODUCT_PAGE, "/orders/").is_empty());
    }

    #[test]
    fn page_ids_must_match_exactly() {
        assert!(has_page_id(PRODUCT_PAGE, "page-product"));
        assert!(!has_page_id(PRODUCT_PAGE, "page-cart"));
    }

    #[test]
    fn locations_are_reduced_to_their_path() {
        assert_eq!(location_path("/orders/17"), "/orders/17");
        assert_eq!(
            location_path("http://127.0.0.1:8080/orders/17"),
            "/orders/17"
        );
        assert_eq!(location_path("http://127.0.0.1:8080"), "/");
    }

    #[test]
    fn ids_may_be_numbers_or_strings() {
        assert_eq!(id_of(&serde_json::json!(7)).as_deref(), Some("7"));
        assert_eq!(id_of(&serde_json::json!("c-1")).as_deref(), Some("c-1"));
        assert_eq!(id_of(&serde_json::json!(null)), None);
    }
}
