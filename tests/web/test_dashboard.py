"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against a real
leadclock server on SQLite: log in, watch a breach appear, read the trends' numbers, move by
keyboard, see only what a scoped token may see. Every page is screenshotted."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from conftest import TOKENS, ago, login, seed_history, shoot

REPORTING = ZoneInfo("America/New_York")


def demo_lead(server, lead, owner, team=None, minutes_ago=20, touched_after=None, **extra):
    """A demo request (5-minute SLA) assigned a minute after the form; touched `touched_after`
    minutes after the assignment, or never."""
    server.post("form", {"lead_id": lead, "occurred_at": ago(minutes_ago), "lead_type": "demo_request", **extra})
    assignment = {"lead_id": lead, "occurred_at": ago(minutes_ago - 1), "owner": owner}
    if team:
        assignment["team"] = team
    server.post("assignment", assignment)
    if touched_after is not None:
        server.post("touch", {"lead_id": lead, "occurred_at": ago(minutes_ago - 1 - touched_after),
                              "channel": "call", "outcome": "connected"})


def test_login_keeps_the_token_in_a_strict_http_only_secure_cookie(page, server):
    page.goto(server.base + "/now")
    assert page.url.endswith("/login"), "an anonymous reader is sent to the form"
    page.get_by_label("Read token").fill("not-a-token")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as resp:
        page.get_by_role("button", name="Sign in").click()
    assert resp.value.status == 401
    assert "not a read token" in page.get_by_role("alert").inner_text()
    login(page, server)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "leadclock_session"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert TOKENS["all"] not in page.url
    assert page.evaluate("document.cookie").find(TOKENS["all"]) == -1, "no script can read the token"
    shoot(page, "login-done")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(server.base + "/trends")
    assert page.url.endswith("/login"), "signed out means signed out"


def test_a_breached_lead_appears_on_now_after_posting_events(page, server):
    login(page, server)
    assert page.locator("#open-count").inner_text() == "0"
    demo_lead(server, "L-LATE", "alice", minutes_ago=20)            # deadline 14 minutes ago
    server.post("form", {"lead_id": "L-FRESH", "occurred_at": ago(3), "lead_type": "free_trial"})
    server.post("assignment", {"lead_id": "L-FRESH", "occurred_at": ago(2), "owner": "bob"})
    page.reload()
    late = page.locator('tr[data-lead="L-LATE"]')
    assert "breached" in late.get_attribute("class")
    assert "Breached" in late.inner_text() and "breached 1" in late.inner_text()
    fresh = page.locator('tr[data-lead="L-FRESH"]')
    assert "On track" in fresh.inner_text()
    rows = page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.lead)")
    assert rows == ["L-LATE", "L-FRESH"], "soonest breach first: the breached lead leads"
    assert page.locator("#breached-count").inner_text() == "1"
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "60"
    shoot(page, "now")
    page.get_by_role("link", name="L-LATE").click()
    page.wait_for_url("**/leads/L-LATE")
    assert page.locator("#clocks").get_by_text("breached").count() == 1
    assert page.locator("svg rect.open-hours").count() >= 1, "business hours are shaded"
    assert page.locator("svg line.deadline").count() == 2
    shoot(page, "lead")
    assert not page.errors, page.errors


def test_trends_render_the_right_numbers(page, server):
    # Three demo requests assigned at one instant: two answered in 2 and 3 minutes (met), one
    # never (breached). The day's compliance is 2 of 3; the API's report says the same.
    demo_lead(server, "L-A", "alice", touched_after=2)
    demo_lead(server, "L-B", "bob", touched_after=3)
    demo_lead(server, "L-C", "alice")
    assigned = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=19)
    day = assigned.astimezone(REPORTING).date().isoformat()
    login(page, server)
    page.get_by_role("link", name="Trends").click()
    page.wait_for_url("**/trends")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Trends"
    page.locator("summary", has_text="Day by day").click()
    row = page.locator(f'details tr[data-first-day="{day}"]')
    assert row.locator("td.compliance").inner_text().startswith("66.7% (2/3")
    assert row.locator("td").first.inner_text() == "3", "three MQLs that day"
    point = page.locator('svg[aria-label="Daily SLA compliance per lead type"] circle[data-series="all lead types"]').last
    assert abs(float(point.get_attribute("data-value")) - 200 / 3) < 1e-6
    api = server.get_json("/v1/metrics?period=today")["overall"]["sla"]["overall"]["rate"]
    if assigned.astimezone(REPORTING).date() == dt.datetime.now(REPORTING).date():
        assert (api["numerator"], api["denominator"]) == (2, 3)
    bands = page.locator('svg[aria-label="Daily SLA compliance per lead type"] rect[class^="band-"]')
    assert bands.count() == 3, "the methodology's bands are drawn"
    shoot(page, "trends")
    assert not page.errors, page.errors


def test_keyboard_reaches_the_content_and_every_page(page, server):
    login(page, server)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(server.base + "/now")
    labels = []
    for _ in range(12):
        page.keyboard.press("Tab")
        labels.append(page.evaluate("document.activeElement.textContent.trim()"))
    for name in ["Now", "Trends", "Speed vs conversion", "People", "Feedback", "Rollout"]:
        assert name in labels, (name, labels)
    while page.evaluate("document.activeElement.textContent.trim()") != "People":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/people")
    assert page.get_by_role("heading", level=1).inner_text() == "People"
    outline = page.evaluate("""() => { const a = document.querySelector('nav a'); a.focus();
        return getComputedStyle(a).outlineStyle; }""")
    assert outline != "none", "focus is visible"


def test_scoped_tokens_see_only_their_own_leads(page, server):
    demo_lead(server, "L-EAST", "alice", team="east")
    demo_lead(server, "L-EMEA", "amelie", team="emea")
    login(page, server, "east")
    assert page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.lead)") == ["L-EAST"]
    assert "team east" in page.locator(".scope").inner_text()
    page.get_by_role("button", name="Sign out").click()
    login(page, server, "amelie")
    assert page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.lead)") == ["L-EMEA"]
    resp = page.goto(server.base + "/leads/L-EAST")
    assert resp.status == 404, "another team's lead does not exist for this reader"
    api = server.get_json("/v1/metrics?period=today", token=TOKENS["amelie"])
    assert [o["lead_id"] for o in api["open_slas"]] == ["L-EMEA"], "the API is scoped alike"


def test_times_read_in_the_viewers_zone_beside_the_reporting_zone(page, server):
    demo_lead(server, "L-TZ", "alice")
    login(page, server)
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Show").first.click()
    page.wait_for_url(re.compile(r".*tz=Europe%2FBerlin"))
    deadline = page.locator('tr[data-lead="L-TZ"] td').nth(5).inner_text()
    assert "CET" in deadline and "(" in deadline and ("EST" in deadline or "EDT" in deadline), deadline
    page.goto(page.url.split("?")[0])
    assert "CET" in page.locator('tr[data-lead="L-TZ"] td').nth(5).inner_text(), "the zone is remembered"


def test_every_page_renders_escapes_user_text_and_fits_a_phone(page, server):
    seed_history(server)
    demo_lead(server, "L-1", "alice", touched_after=2, source="organic")
    demo_lead(server, "L-2", "bob", touched_after=40)
    demo_lead(server, "L-3", "amelie", team="emea")
    server.post("form", {"lead_id": "L-4", "occurred_at": ago(15), "lead_type": "free_trial"})
    server.post("assignment", {"lead_id": "L-4", "occurred_at": ago(14), "owner": "bob"})
    server.post("stage", {"lead_id": "L-1", "occurred_at": ago(5), "stage": "sal"})
    server.post("stage", {"lead_id": "L-2", "occurred_at": ago(4), "stage": "rejected",
                          "reason": "<script>window.pwned = 1</script> not our ICP"})
    login(page, server)
    for path, heading in [("now", "Now"), ("trends", "Trends"), ("conversion", "Speed vs conversion"),
                          ("people", "People"), ("feedback", "Feedback"), ("rollout", "Rollout")]:
        resp = page.goto(f"{server.base}/{path}")
        assert resp.status == 200 and resp.headers["cache-control"] == "no-store"
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert page.locator('a[href^="http"], script, link[rel="stylesheet"]').count() == 0, "nothing fetched"
        shoot(page, path)
    page.goto(server.base + "/feedback")
    assert page.evaluate("window.pwned") is None
    assert "<script>window.pwned = 1</script> not our ICP" in page.locator("#reasons").inner_text()
    page.goto(server.base + "/people")
    scores = [int(x) for x in page.locator("#reps td.score").all_inner_texts()]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True), scores
    page.goto(server.base + "/trends")
    weekly = page.locator('svg[aria-label="Weekly SLA compliance per lead type"] circle[data-series="all lead types"]')
    assert weekly.count() >= 10, "a quarter of history draws most weeks"
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ["now", "trends", "people"]:
        page.goto(f"{server.base}/{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
    page.goto(f"{server.base}/now")
    shoot(page, "now-phone", full_page=False)
    assert not page.errors, page.errors
