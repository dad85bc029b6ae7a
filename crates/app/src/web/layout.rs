//! The frame every page shares: head, navigation, the zone picker, and the one stylesheet.
//! Links are relative to the page ([`Root`]), so the same pages work at `/` locally and under
//! a path prefix on AWS (a custom domain's base path, or a named stage; the default stage has none).

use super::session::{tz_cookie, Viewer};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The stylesheet, inlined in every page: nothing is fetched, so pages work offline.
const CSS: &str = include_str!("dashboard.css");

/// The path from a page back to the dashboard's root: `""` for `/now`, `"../"` for
/// `/leads/L-1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root(pub String);

impl Root {
    pub fn of(path: &str) -> Root {
        let depth = path.trim_start_matches('/').matches('/').count();
        Root("../".repeat(depth))
    }
}

/// The pages in the navigation: path and label.
pub const PAGES: [(&str, &str); 6] = [
    ("now", "Now"),
    ("trends", "Trends"),
    ("conversion", "Speed vs conversion"),
    ("people", "People"),
    ("feedback", "Feedback"),
    ("rollout", "Rollout"),
];

/// A page for a signed-in viewer: `active` is its path in [`PAGES`] (none for a lead's page).
pub struct Page {
    pub title: String,
    pub active: Option<&'static str>,
    pub body: Markup,
    /// Seconds between reloads ("Now" keeps itself current).
    pub refresh: Option<u32>,
    /// The period the page shows, as its picker names it: the zone picker carries it on, so
    /// changing the zone keeps the period.
    pub period: Option<String>,
}

impl Page {
    pub fn new(title: impl Into<String>, active: Option<&'static str>, body: Markup) -> Page {
        Page {
            title: title.into(),
            active,
            body,
            refresh: None,
            period: None,
        }
    }

    /// The page shows the period its picker named (`None`: the page's default).
    pub fn keeping(mut self, period: Option<String>) -> Page {
        self.period = period;
        self
    }

    pub fn render(self, v: &Viewer) -> Response {
        let html = html! {
            (DOCTYPE)
            html lang="en" {
                (head(&self.title, self.refresh))
                body {
                    a class="skip" href="#main" { "Skip to content" }
                    header class="top" {
                        a class="brand" href={ (v.root.0) "now" } { "leadclock" }
                        nav aria-label="Dashboard pages" {
                            ul {
                                @for (path, label) in PAGES {
                                    li { a href={ (v.root.0) (path) }
                                        aria-current=[(self.active == Some(path)).then_some("page")] { (label) } }
                                }
                            }
                        }
                        (zone_picker(v, self.period.as_deref()))
                        @if !v.open {
                            form method="post" action={ (v.root.0) "logout" } class="logout" {
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                    main id="main" tabindex="-1" {
                        p class="scope" { "Showing " strong { (v.scope.to_string()) } }
                        (self.body)
                    }
                }
            }
        };
        let mut res = respond(StatusCode::OK, html);
        if v.chose_tz {
            let (k, val) = tz_cookie(v.tz);
            res.headers_mut().append(k, val);
        }
        res
    }
}

fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            // No favicon request: an empty inline icon.
            link rel="icon" href="data:,";
            @if let Some(s) = refresh { meta http-equiv="refresh" content=(s); }
            title { (title) " · leadclock" }
            style { (PreEscaped(CSS)) }
        }
    }
}

/// The zone picker: a GET form, so the page reloads in the chosen zone (then remembered).
fn zone_picker(v: &Viewer, period: Option<&str>) -> Markup {
    html! {
        form method="get" class="zone" {
            label for="tz" { "Time zone" }
            input id="tz" name="tz" list="zones" value=(v.tz.name()) size="18";
            @if let Some(p) = period { input type="hidden" name="period" value=(p); }
            datalist id="zones" {
                @for z in ZONES { option value=(z); }
            }
            button type="submit" { "Show" }
        }
    }
}

/// Zones offered in the picker; any IANA name may be typed.
const ZONES: [&str; 10] = [
    "UTC",
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
];

/// An HTML response that no cache keeps: every page holds someone's leads.
pub fn respond(status: StatusCode, page: Markup) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page.into_string())).into_response()
}

/// A page without navigation (the login form).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body { main id="main" class="narrow" { (body) } }
        }
    }
}

/// An instant in the viewer's zone, with the reporting zone beside it when they differ.
pub fn when(t: DateTime<Utc>, v: &Viewer, reporting: Tz) -> Markup {
    let mine = t.with_timezone(&v.tz).format("%a %d %b %H:%M %Z").to_string();
    let theirs = t.with_timezone(&reporting).format("%a %d %b %H:%M %Z").to_string();
    html! {
        time datetime=(t.to_rfc3339()) {
            (mine)
            @if v.tz != reporting { span class="other-zone" { " (" (theirs) ")" } }
        }
    }
}

/// A period's bounds in the viewer's zone.
pub fn period(from: DateTime<Utc>, to: DateTime<Utc>, v: &Viewer) -> String {
    let f = |t: DateTime<Utc>| t.with_timezone(&v.tz).format("%Y-%m-%d %H:%M").to_string();
    format!("{} to {} ({})", f(from), f(to), v.tz.name())
}

/// The period picker of the report pages: a GET form over the named periods.
pub fn period_picker(current: &str) -> Markup {
    const PERIODS: [(&str, &str); 6] = [
        ("today", "Today"),
        ("yesterday", "Yesterday"),
        ("week", "Last 7 days"),
        ("month", "Month to date"),
        ("last_month", "Last month"),
        ("quarter", "Last 90 days"),
    ];
    html! {
        form method="get" class="period" {
            label for="period" { "Period" }
            select id="period" name="period" {
                @for (value, label) in PERIODS {
                    option value=(value) selected[value == current] { (label) }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

/// An error in a page's frame: the report could not be read.
pub fn problem(message: &str) -> Markup {
    html! { p class="problem" role="alert" { (message) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_climb_back_to_the_root() {
        assert_eq!(Root::of("/now").0, "");
        assert_eq!(Root::of("/").0, "");
        assert_eq!(Root::of("/leads/L-1").0, "../");
    }

    #[test]
    fn the_zone_picker_carries_the_period_on_escaped() {
        let v = Viewer {
            scope: leadclock_domain::Scope::All,
            tz: chrono_tz::UTC,
            chose_tz: false,
            root: Root::of("/trends"),
            open: true,
        };
        let with = zone_picker(&v, Some("month")).into_string();
        assert!(
            with.contains(r#"<input type="hidden" name="period" value="month">"#),
            "{with}"
        );
        assert!(!zone_picker(&v, None).into_string().contains("name=\"period\""));
        let hostile = zone_picker(&v, Some("\"><b>")).into_string();
        assert!(hostile.contains("value=\"&quot;&gt;&lt;b&gt;\""), "{hostile}");
    }
}
