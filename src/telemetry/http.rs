//! Requests and their latency, by route template (`/invite/{token}`, never the token itself),
//! method and status.

use std::time::Instant;

use ::metrics::{counter, histogram};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::{HTTP_DURATION, HTTP_REQUESTS};

/// Installed with `route_layer`, so routing has happened and the template is known.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    histogram!(HTTP_DURATION, "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

/// A request no route matched (the fallback's 404), counted under one label.
pub fn unmatched(method: &str) {
    counter!(HTTP_REQUESTS, "route" => "unmatched", "method" => method.to_owned(), "status" => "404")
        .increment(1);
}
