//! Per-request authorisation of HTTPS callers, as LXD's `createCmd` does it: the client
//! certificate's fingerprint is looked up in the trust store; untrusted callers reach only
//! the endpoints LXD marks `AllowUntrusted` (and not when they claim to be authenticated),
//! restricted certificates reach only their projects, and `/internal` stays on the socket.
//! UNIX socket callers are always trusted.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::caller::{Access, ConnInfo};
use super::error::ApiError;
use crate::state::AppState;

/// Endpoints an untrusted caller may use (the handlers narrow what they answer).
const UNTRUSTED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/1.0"),
    ("POST", "/1.0/certificates"),
    ("GET", "/1.0/images"),
    // Pushed images come with a token (the handler refuses callers without one).
    ("POST", "/1.0/images"),
    ("GET", "/1.0/images/{fingerprint}"),
    ("GET", "/1.0/images/{fingerprint}/export"),
    ("GET", "/1.0/images/aliases/{name}"),
    ("GET", "/1.0/operations/{id}/wait"),
    ("GET", "/1.0/operations/{id}/websocket"),
];

/// Endpoints any trusted caller may use, restricted or not (LXD's `allowAuthenticated`).
const AUTHENTICATED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/1.0/certificates"),
    ("GET", "/1.0/certificates/{fingerprint}"),
    ("PUT", "/1.0/certificates/{fingerprint}"),
    ("PATCH", "/1.0/certificates/{fingerprint}"),
    ("GET", "/1.0/events"),
    ("GET", "/1.0/operations"),
    ("GET", "/1.0/operations/{id}"),
    ("DELETE", "/1.0/operations/{id}"),
    ("GET", "/1.0/projects"),
    ("GET", "/1.0/projects/{name}"),
    ("GET", "/1.0/resources"),
    ("GET", "/1.0/storage-pools"),
    ("GET", "/1.0/storage-pools/{name}"),
    ("GET", "/1.0/storage-pools/{name}/resources"),
];

/// Path prefixes of project-scoped endpoints (LXD's `allowProjectPermission`).
const PROJECT_PREFIXES: &[&str] = &[
    "/1.0/instances",
    "/1.0/containers",
    "/1.0/images",
    "/1.0/profiles",
    "/1.0/storage-pools/{name}/volumes",
];

/// Who may use an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Untrusted,
    Authenticated,
    Project,
    Admin,
}

/// The rule of `(method, route)`; `route` is the router's path pattern.
pub fn rule(method: &str, route: &str) -> Rule {
    let listed = |table: &[(&str, &str)]| table.iter().any(|(m, p)| *m == method && *p == route);
    if listed(UNTRUSTED_ROUTES) {
        Rule::Untrusted
    } else if listed(AUTHENTICATED_ROUTES) {
        Rule::Authenticated
    } else if PROJECT_PREFIXES.iter().any(|p| route.starts_with(p)) {
        Rule::Project
    } else {
        Rule::Admin
    }
}

fn request_project(req: &Request) -> String {
    let query = req.uri().query().unwrap_or("");
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "project")
        .map(|(_, v)| super::extract::percent_decode(v))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

fn forbidden() -> Response {
    ApiError::Forbidden("not authorized".into()).into_response()
}

/// The middleware: decide the caller's [`Access`] and refuse what it may not do.
pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(mut info) = req.extensions().get::<ConnInfo>().cloned() else {
        return next.run(req).await;
    };
    if info.protocol != "tls" {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let ip = info.remote.map(|a| a.to_string()).unwrap_or_default();
    if route.starts_with("/internal") {
        tracing::warn!(ip = %ip, "Rejecting remote internal API request");
        return forbidden();
    }
    let entry = info
        .peer
        .as_ref()
        .and_then(|p| state.trust.lookup(&p.fingerprint));
    info.access = match entry {
        Some(e) if e.restricted => Access::Restricted {
            projects: e.projects,
        },
        Some(_) => Access::Admin,
        None => Access::Untrusted,
    };
    let rule = rule(req.method().as_str(), &route);
    let allowed = match (&info.access, rule) {
        (Access::Admin, _) => true,
        (Access::Untrusted, Rule::Untrusted) => !req.headers().contains_key("X-LXD-authenticated"),
        (Access::Untrusted, _) => false,
        (Access::Restricted { .. }, Rule::Untrusted | Rule::Authenticated) => true,
        (Access::Restricted { projects }, Rule::Project) => {
            let project = request_project(&req);
            projects.contains(&project)
        }
        (Access::Restricted { .. }, Rule::Admin) => false,
    };
    if !allowed {
        if info.access == Access::Untrusted {
            tracing::warn!(ip = %ip, "Rejecting request from untrusted client");
        } else {
            tracing::warn!(ip = %ip, url = %req.uri(), "Rejecting restricted client request");
        }
        return forbidden();
    }
    req.extensions_mut().insert(info);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_classifies_routes_as_lxd_does() {
        assert_eq!(rule("GET", "/1.0"), Rule::Untrusted);
        assert_eq!(rule("PUT", "/1.0"), Rule::Admin);
        assert_eq!(rule("POST", "/1.0/certificates"), Rule::Untrusted);
        assert_eq!(rule("GET", "/1.0/certificates"), Rule::Authenticated);
        assert_eq!(
            rule("DELETE", "/1.0/certificates/{fingerprint}"),
            Rule::Admin
        );
        assert_eq!(rule("GET", "/1.0/instances"), Rule::Project);
        assert_eq!(rule("GET", "/1.0/images/aliases"), Rule::Project);
        assert_eq!(rule("GET", "/1.0/images/aliases/{name}"), Rule::Untrusted);
        assert_eq!(
            rule("POST", "/1.0/storage-pools/{name}/volumes/{type}"),
            Rule::Project
        );
        assert_eq!(rule("POST", "/1.0/storage-pools"), Rule::Admin);
        assert_eq!(rule("GET", "/1.0/warnings"), Rule::Admin);
    }
}
