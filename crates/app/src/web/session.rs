//! Who is looking: a read token kept in a session cookie after the login form, never in a URL.
//!
//! The cookie is `Secure` (browsers keep it over HTTPS, and on `localhost` for `make run`),
//! `HttpOnly` (no script reads it) and `SameSite=Strict` (no other site's page sends it, so a
//! cross-site page cannot read as the viewer). The login and logout posts are refused when the
//! browser says they come from another site (`Sec-Fetch-Site`, else `Origin`), so no other
//! site can sign a viewer in as someone else or out. It holds the token itself: the
//! token is checked on every request against the current tokens, so a rotated-out token ends
//! its sessions at once, on both hosts, with no session store.

use super::layout::{self, Root};
use crate::auth::{self, AuthError};
use crate::http::ApiState;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use leadclock_domain::Scope;
use maud::{html, Markup};
use serde::Deserialize;

pub const SESSION_COOKIE: &str = "leadclock_session";
pub const TZ_COOKIE: &str = "leadclock_tz";
/// A session lasts a working day; then the form asks again.
const SESSION_SECONDS: u32 = 12 * 3600;
/// A pasted token longer than this is not one of ours.
const MAX_TOKEN_BYTES: usize = 512;

/// A reader of the dashboard: what they may see and the zone they read times in.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub scope: Scope,
    /// The zone the viewer chose (`?tz=`, then remembered in a cookie); the reporting zone
    /// until they choose.
    pub tz: Tz,
    /// `?tz=` named a zone on this request: the page remembers it.
    pub chose_tz: bool,
    pub root: Root,
    /// Auth is off (`--insecure-no-auth`): no login, no logout.
    pub open: bool,
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The zone `?tz=` names, if it names one (the query decoded as a form encodes it).
fn tz_query(parts: &Parts) -> Option<Tz> {
    #[derive(Deserialize)]
    struct ZoneQuery {
        tz: Option<String>,
    }
    let q = axum::extract::Query::<ZoneQuery>::try_from_uri(&parts.uri).ok()?;
    q.0.tz?.trim().parse().ok()
}

/// Whether a form post comes from a page of this site. `SameSite=Strict` keeps the session
/// cookie off other sites' requests, but the login form sets a cookie rather than reading one:
/// without this check another site could post its own token and sign a visitor in as it
/// (login CSRF), or sign them out. Browsers send `Sec-Fetch-Site` (or at least `Origin`) on
/// every form post; a client that sends neither is not a browser and has no session to abuse.
fn same_site_post(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text("origin"), text("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

/// A post from another site's page: refused, with the form to sign in from this one.
fn cross_site(open: bool) -> Response {
    tracing::warn!("dashboard form post from another site refused");
    login_page(
        StatusCode::FORBIDDEN,
        Some("That form was sent from another site. Sign in from this page."),
        open,
    )
}

impl<S, T, N, C> FromRequestParts<ApiState<S, T, N, C>> for Viewer
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    /// Not logged in: to the login form.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState<S, T, N, C>) -> Result<Self, Response> {
        let root = Root::of(parts.uri.path());
        let cfg = state.auth.current().await;
        let scope = auth::read_scope(&cfg, cookie(&parts.headers, SESSION_COOKIE)).map_err(|_| {
            let to = format!("{}login", root.0);
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        })?;
        let chosen = tz_query(parts);
        let remembered = cookie(&parts.headers, TZ_COOKIE).and_then(|v| v.parse().ok());
        Ok(Viewer {
            scope,
            tz: chosen.or(remembered).unwrap_or(state.app.policy.reporting_timezone),
            chose_tz: chosen.is_some(),
            root,
            open: cfg.insecure,
        })
    }
}

fn set_cookie(value: String) -> (header::HeaderName, HeaderValue) {
    let v = HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""));
    (header::SET_COOKIE, v)
}

/// The cookie that remembers a chosen zone (not a secret: readable by the page's own forms).
pub fn tz_cookie(tz: Tz) -> (header::HeaderName, HeaderValue) {
    set_cookie(format!(
        "{TZ_COOKIE}={}; Path=/; Max-Age=31536000; Secure; SameSite=Strict",
        tz.name()
    ))
}

/// `GET /login`: the form.
pub async fn form<S, T, N, C>(State(state): State<ApiState<S, T, N, C>>) -> Response
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    let open = state.auth.current().await.insecure;
    login_page(StatusCode::OK, None, open)
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
}

/// `POST /login`: a read token in, a session cookie out; a wrong one is the form again, 401.
pub async fn login<S, T, N, C>(
    State(state): State<ApiState<S, T, N, C>>,
    headers: HeaderMap,
    Form(login): Form<Login>,
) -> Response
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
    N: Send + Sync + 'static,
    C: Send + Sync + 'static,
{
    let cfg = state.auth.current().await;
    if !same_site_post(&headers) {
        return cross_site(cfg.insecure);
    }
    let token = login.token.trim();
    let checked = if token.is_empty() || token.len() > MAX_TOKEN_BYTES || !token.bytes().all(cookie_safe) {
        Err(AuthError::NoToken)
    } else {
        auth::read_scope(&cfg, Some(token))
    };
    match checked {
        Ok(scope) => {
            tracing::info!(scope = %scope_kind(&scope), "dashboard login");
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; Max-Age={SESSION_SECONDS}; Secure; HttpOnly; SameSite=Strict"
            );
            (
                StatusCode::SEE_OTHER,
                [set_cookie(cookie), (header::LOCATION, HeaderValue::from_static("now"))],
            )
                .into_response()
        }
        Err(_) => {
            tracing::warn!("dashboard login refused");
            login_page(
                StatusCode::UNAUTHORIZED,
                Some("That is not a read token. Check it and try again."),
                cfg.insecure,
            )
        }
    }
}

/// A byte a token may hold and still travel in a cookie unquoted.
fn cookie_safe(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\')
}

/// The kind of a scope, for logs: never the team's or person's name (a person is PII).
fn scope_kind(s: &Scope) -> &'static str {
    match s {
        Scope::All => "all",
        Scope::Team(_) => "team",
        Scope::Person(_) => "person",
    }
}

/// `POST /logout`: the session cookie cleared.
pub async fn logout(headers: HeaderMap) -> Response {
    if !same_site_post(&headers) {
        return cross_site(false);
    }
    let cleared = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
    (
        StatusCode::SEE_OTHER,
        [
            set_cookie(cleared),
            (header::LOCATION, HeaderValue::from_static("login")),
        ],
    )
        .into_response()
}

fn login_page(status: StatusCode, problem: Option<&str>, open: bool) -> Response {
    let body: Markup = html! {
        h1 { "Sign in" }
        @if open {
            p { "Authentication is off on this server (" code { "--insecure-no-auth" } "): "
                a href="now" { "go to the dashboard" } "." }
        }
        form method="post" action="login" class="login" {
            @if let Some(p) = problem {
                p id="login-problem" class="problem" role="alert" { (p) }
            }
            label for="token" { "Read token" }
            input id="token" name="token" type="password" autocomplete="current-password" required
                aria-describedby=[problem.map(|_| "login-problem")];
            p class="hint" { "One of " code { "LEADCLOCK_READ_TOKENS" } ". A team or person token shows that team's or person's leads only." }
            button type="submit" { "Sign in" }
        }
    };
    layout::respond(status, layout::bare("Sign in", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; leadclock_session_x=no"));
        h.append(header::COOKIE, HeaderValue::from_static("leadclock_session=tok; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn form_posts_from_other_sites_are_told_apart() {
        assert!(same_site_post(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(
            same_site_post(&headers(&[("sec-fetch-site", "none")])),
            "typed or bookmarked"
        );
        assert!(!same_site_post(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://x.test"),
            ("host", "x.test")
        ])));
        assert!(
            !same_site_post(&headers(&[("sec-fetch-site", "same-site")])),
            "a sibling subdomain is another tenant"
        );
        assert!(same_site_post(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_site_post(&headers(&[
            ("origin", "https://evil.test"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_site_post(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(
            same_site_post(&HeaderMap::new()),
            "curl: no browser, no session to abuse"
        );
    }

    #[test]
    fn the_zone_query_is_decoded_as_a_form_encodes_it() {
        let parts = |uri: &str| axum::http::Request::get(uri).body(()).unwrap().into_parts().0;
        assert_eq!(
            tz_query(&parts("/now?tz=Europe%2FBerlin")),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            tz_query(&parts("/now?period=week&tz=America/New_York")),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(tz_query(&parts("/now?tz=Nowhere%2FLand")), None);
        assert_eq!(tz_query(&parts("/now")), None);
    }
}
