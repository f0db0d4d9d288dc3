//! Who may talk to the server: the `Host` names it answers, the browser
//! origins it serves, and what a request body must declare itself as.
//!
//! Every request passes [`check`] before any route, API key or body:
//!
//! 1. `Host` (or an absolute request target) must name this server: the
//!    bound address, `localhost` or a `*.localhost` name, a loopback
//!    address, any IP address when bound to an unspecified one (`0.0.0.0`,
//!    `::`), or a host allowed with `with_allowed_host`; else 421. A web
//!    page that re-points its own name at 127.0.0.1 (DNS rebinding) sends
//!    its own name, so it is refused.
//! 2. A request a browser sends for a page of another origin is refused
//!    (403) unless that origin is allowed with `with_allowed_origin`. It is
//!    recognized by its `Origin` header (anything but the server's own
//!    `http://HOST` or `https://HOST`) or by `Sec-Fetch-Site` (present and
//!    neither `same-origin` nor `none`: that covers a page on another port
//!    of the same machine, which is `same-site`, and requests that carry
//!    no `Origin`). Clients that are not browsers send neither header and
//!    pass. The one exception is a top-level navigation to the viewer page
//!    `GET /` (someone following a link to it): the page holds no data.
//!    Allowed origins get CORS answers: preflights are answered, responses
//!    carry `Access-Control-Allow-Origin`.
//!
//! [`json_body`] then refuses a `POST` whose `Content-Type` is not
//! `application/json` (415): a page can send `text/plain` to any address
//! without asking first, never `application/json`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::http::detail;
use super::listen::Transport;
use super::server::ObservationServerBuilder;

/// The access rules: allowed origins and hosts (see the builder's
/// `with_allowed_origin` and `with_allowed_host`), and the connection
/// settings (timeouts and the connection limit).
#[derive(Clone, Debug, Default)]
pub(crate) struct Access {
    /// Browser origins let in, as `scheme://host[:port]`, lower case.
    origins: Vec<String>,
    /// Extra `Host` names answered, lower case, without a port.
    hosts: Vec<String>,
    /// Timeouts and the connection limit.
    pub(crate) transport: Transport,
}

impl ObservationServerBuilder {
    /// Lets web pages of `origin` (`scheme://host[:port]`, as browsers send
    /// it in `Origin`, e.g. `http://localhost:3000`) call the server:
    /// requests from a browser page of any other origin than the server's
    /// own are refused with 403, on every route and on the websocket.
    /// Repeatable; the origin is compared whole, without wildcards. Allowed
    /// origins get CORS answers (preflights, `Access-Control-Allow-Origin`);
    /// an API key, when set, is still required.
    pub fn with_allowed_origin(mut self, origin: impl Into<String>) -> Self {
        let origin = origin
            .into()
            .trim()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if !self.access.origins.contains(&origin) {
            self.access.origins.push(origin);
        }
        self
    }

    /// Answers requests whose `Host` names `host` (a name, with or without
    /// a port: the port is not compared). By default only the bound
    /// address, `localhost` (and `*.localhost`) and loopback addresses are
    /// answered, and any IP address when bound to `0.0.0.0` or `::`; other
    /// names get 421 Misdirected Request, so that a web page cannot reach
    /// the server by pointing its own name at it (DNS rebinding). Give the
    /// names clients use to reach a server exposed beyond loopback.
    /// Repeatable.
    pub fn with_allowed_host(mut self, host: impl Into<String>) -> Self {
        let host = host.into();
        if let Some(name) = parse_host(host.trim()).map(|host| match host {
            Host::Name(name) => name,
            Host::Ip(ip) => ip.to_string(),
        }) {
            if !self.access.hosts.contains(&name) {
                self.access.hosts.push(name);
            }
        }
        self
    }
}

/// The rules with the address the server is bound to.
#[derive(Debug)]
pub(crate) struct Guard {
    access: Access,
    bound: SocketAddr,
}

impl Guard {
    pub(crate) fn new(access: Access, bound: SocketAddr) -> Self {
        Guard { access, bound }
    }

    /// Whether `host` (from `Host` or the request target) names this server.
    fn answers(&self, host: &Host) -> bool {
        match host {
            Host::Ip(ip) => {
                let ip = ip.to_canonical();
                ip.is_loopback()
                    || ip == self.bound.ip().to_canonical()
                    || self.bound.ip().is_unspecified()
                    || self.access.hosts.contains(&ip.to_string())
            }
            Host::Name(name) => {
                name == "localhost"
                    || name.ends_with(".localhost")
                    || self.access.hosts.contains(name)
            }
        }
    }

    fn allows_origin(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.access.origins.contains(&origin)
    }
}

/// A `Host` value without its port.
#[derive(Debug, PartialEq)]
enum Host {
    Ip(IpAddr),
    /// Lower case, without a trailing dot.
    Name(String),
}

/// `name`, `name:port`, `1.2.3.4[:port]` or `[v6][:port]`; `None` when it
/// is none of these.
fn parse_host(text: &str) -> Option<Host> {
    let digits = |port: &str| port.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(digits);
        return (port_ok)
            .then(|| ip.parse::<Ipv6Addr>().ok())
            .flatten()
            .map(|ip| Host::Ip(IpAddr::V6(ip)));
    }
    let name = match text.split_once(':') {
        Some((name, port)) if digits(port) => name,
        Some(_) => return None,
        None => text,
    };
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Some(Host::Ip(IpAddr::V4(ip)));
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then_some(Host::Name(name))
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap_or("\u{fffd}"))
}

/// The `Host` rule, then the origin rule (with CORS for allowed origins);
/// see the module's documentation.
pub(crate) async fn check(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    // The request target's authority wins over `Host`, as in HTTP/1.1.
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| text(headers, "host").map(str::to_owned));
    if let Some(authority) = &authority {
        let named = parse_host(authority.trim());
        if !named.as_ref().is_some_and(|host| guard.answers(host)) {
            return detail(
                StatusCode::MISDIRECTED_REQUEST,
                &format!(
                    "this server does not answer for the host {authority:?}: use its address, \
                     localhost or a loopback address, or start it with --allow-host NAME \
                     (with_allowed_host) to answer for that name"
                ),
            );
        }
    }
    let origin = text(headers, "origin");
    let site = text(headers, "sec-fetch-site");
    let own = |origin: &str| {
        authority.as_deref().is_some_and(|authority| {
            let origin = origin.to_ascii_lowercase();
            let authority = authority.trim().to_ascii_lowercase();
            origin.strip_prefix("http://") == Some(authority.as_str())
                || origin.strip_prefix("https://") == Some(authority.as_str())
        })
    };
    let foreign = origin.is_some_and(|origin| !own(origin))
        || site.is_some_and(|site| site != "same-origin" && site != "none");
    if !foreign {
        return next.run(request).await;
    }
    let Some(origin) = origin.filter(|origin| guard.allows_origin(origin)) else {
        if is_navigation_to_viewer(&request) {
            return next.run(request).await;
        }
        return refused(origin, site);
    };
    let allow = HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("null"));
    let preflight = request.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let private = headers.contains_key("access-control-request-private-network");
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let answer = response.headers_mut();
        answer.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        answer.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, x-api-key"),
        );
        answer.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        if private {
            answer.insert(
                "access-control-allow-private-network",
                HeaderValue::from_static("true"),
            );
        }
        response
    } else {
        next.run(request).await
    };
    let answer = response.headers_mut();
    answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    answer.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// A person following a link to the viewer page (a top-level `GET /`):
/// the page is static and holds no data; what it then asks for is
/// same-origin.
fn is_navigation_to_viewer(request: &Request) -> bool {
    let headers = request.headers();
    (request.method() == Method::GET || request.method() == Method::HEAD)
        && request.uri().path() == "/"
        && !headers.contains_key("origin")
        && text(headers, "sec-fetch-mode") == Some("navigate")
        && text(headers, "sec-fetch-dest") == Some("document")
}

/// The 403 for a page of another origin.
fn refused(origin: Option<&str>, site: Option<&str>) -> Response {
    let message = match origin {
        Some(origin) => format!(
            "requests from web pages of the origin {origin:?} are refused: only the server's own \
             pages may call it; start it with --allow-origin {origin} (with_allowed_origin) to \
             let that origin in"
        ),
        None => format!(
            "requests a browser sends for a page of another site or origin (Sec-Fetch-Site: {}) \
             are refused; only the server's own pages may call it",
            site.unwrap_or("")
        ),
    };
    detail(StatusCode::FORBIDDEN, &message)
}

/// Refuses a `POST` whose body is not declared `application/json`
/// (parameters such as `; charset=utf-8` allowed) with 415, before the
/// body is read.
pub(crate) async fn json_body(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let declared = request.headers().get(header::CONTENT_TYPE);
    let is_json = declared
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        return next.run(request).await;
    }
    let found = match declared {
        Some(value) => format!(
            "was declared as {:?}",
            String::from_utf8_lossy(value.as_bytes())
        ),
        None => "had no Content-Type".to_owned(),
    };
    detail(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &format!("the body {found}: send it as JSON with `Content-Type: application/json`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_parse_with_and_without_ports() {
        let ip = |text: &str| Some(Host::Ip(text.parse().unwrap()));
        assert_eq!(parse_host("127.0.0.1:15596"), ip("127.0.0.1"));
        assert_eq!(parse_host("[::1]:80"), ip("::1"));
        assert_eq!(parse_host("[::1]"), ip("::1"));
        assert_eq!(
            parse_host("LocalHost.:8080"),
            Some(Host::Name("localhost".into()))
        );
        assert_eq!(
            parse_host("evil.example"),
            Some(Host::Name("evil.example".into()))
        );
        assert_eq!(parse_host("a:b"), None);
        assert_eq!(parse_host("[::1]x"), None);
        assert_eq!(parse_host(""), None);
        assert_eq!(parse_host("a b"), None);
    }

    #[test]
    fn the_bound_address_loopback_and_localhost_names_are_answered() {
        let guard = Guard::new(Access::default(), "192.168.1.5:80".parse().unwrap());
        let answers = |text: &str| guard.answers(&parse_host(text).unwrap());
        assert!(answers("192.168.1.5:80"));
        assert!(answers("127.0.0.2"));
        assert!(answers("[::1]:80"));
        assert!(answers("localhost:80"));
        assert!(answers("app.localhost"));
        assert!(!answers("10.0.0.1"));
        assert!(!answers("evil.example"));
        assert!(!answers("localhost.evil.example"));

        let any = Guard::new(Access::default(), "0.0.0.0:80".parse().unwrap());
        assert!(any.answers(&parse_host("10.0.0.1").unwrap()));
        assert!(!any.answers(&parse_host("evil.example").unwrap()));
    }
}
