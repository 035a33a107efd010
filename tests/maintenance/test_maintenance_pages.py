"""The public maintenance pages."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from statuspage.services import maintenance
from statuspage.views.caching import render_cache
from tests.browser_checks import ARGS, CHROMIUM
from tests.maintenance_fixtures import NOW, build, one_off, series


@pytest.fixture
def cal(db, admin):
    return build(db, admin)


def test_month_grid_places_windows_on_their_local_day(client, cal):
    html = client.get("/maintenance?month=2027-01").get_data(as_text=True)
    assert "January 2027" in html
    # the moved monthly window now starts Saturday 16 January at 22:00 MST
    moved = "22:00 MST</time> Monthly scheduled maintenance"
    assert moved in html
    assert html.index('data-date="2027-01-16"') < html.index(moved)
    assert html.index(moved) < html.index('data-date="2027-01-17"')


def test_list_shows_mt_and_utc_and_calendar_links(client, cal):
    html = client.get("/maintenance").get_data(as_text=True)
    assert "Emergency SBC patch" in html
    assert "MST" in html and "UTC" in html
    assert 'href="webcal://localhost/maintenance.ics"' in html
    assert '<time datetime="' in html


def test_window_page_has_the_four_details_and_sanitised_markdown(client, cal):
    html = client.get(f"/maintenance/{cal.unscheduled.id}").get_data(as_text=True)
    for text in (
        "Platforms affected",
        "Microsoft Teams",
        "Justification",
        "Security",
        # one compact line: MT in words, UTC beside it
        "Wed, Dec 2, 01:00–03:00 MST",
        "08:00–10:00 UTC",
    ):
        assert text in html
    assert "<script>alert(1)</script>" not in html
    assert "Repeats" not in html  # a one-off window has no rule


def test_in_progress_window_is_listed_as_such(app, client, db, cal):
    maintenance.advance_windows(db, cal.unscheduled.starts_at + timedelta(minutes=1))
    db.commit()
    app.config["FIXED_NOW"] = cal.unscheduled.starts_at + timedelta(minutes=1)
    html = app.test_client().get("/maintenance").get_data(as_text=True)
    assert "In progress" in html and "Emergency SBC patch" in html


@pytest.mark.parametrize("month", ["2027-13", "27-01", "abcd-ef", "1999-01", "2027-1"])
def test_bad_month_is_a_400_not_a_500(client, month):
    assert client.get(f"/maintenance?month={month}").status_code == 400


@pytest.mark.parametrize("window_id", ["0", "999999", "abc", "99999999999999999999999"])
def test_unknown_window_is_404(client, window_id):
    assert client.get(f"/maintenance/{window_id}").status_code == 404


def test_release_notes_shown_after_completion(client, db, admin, cal):
    window = cal.annotated
    maintenance.advance_windows(db, window.ends_at)
    maintenance.add_release_notes(db, admin, window, "Added **call parking**", window.ends_at)
    db.commit()
    html = client.get(f"/maintenance/{window.id}").get_data(as_text=True)
    assert "<strong>call parking</strong>" in html


# --- grid and list, filters, today, recurrence in words (issue 8) ---------------------


def main_of(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def titles(html: str) -> list[str]:
    """Window titles in the order the page lists them (list view rows)."""
    return re.findall(
        r'<li class="window[^"]*" data-start="[^"]+">\s*<a href="/maintenance/\d+">([^<]+)</a>',
        html,
    )


def test_grid_and_list_are_a_segmented_control_of_plain_links(client, cal):
    grid = main_of(client.get("/maintenance?month=2027-01").get_data(as_text=True))
    assert '<a href="?month=2027-01" aria-current="page">Grid</a>' in grid
    assert '<a href="?month=2027-01&amp;view=list">List</a>' in grid
    assert '<table class="month"' in grid
    listed = main_of(client.get("/maintenance?month=2027-01&view=list").get_data(as_text=True))
    assert '<a href="?month=2027-01&amp;view=list" aria-current="page">List</a>' in listed
    assert '<a href="?month=2027-01">Grid</a>' in listed
    assert '<table class="month"' not in listed
    # month navigation keeps the view
    assert 'href="?month=2026-12&amp;view=list" rel="prev"' in listed
    assert 'href="?month=2027-02&amp;view=list" rel="next"' in listed


@pytest.mark.parametrize("view", ["calendar", "LIST", "grid\x00"])
def test_unknown_view_is_a_400_saying_what_is_accepted(client, view):
    response = client.get("/maintenance", query_string={"view": view})
    assert response.status_code == 400
    assert "view must be grid or list" in response.get_data(as_text=True)


def test_list_view_is_the_month_in_date_order_with_compact_times(client, cal):
    html = main_of(client.get("/maintenance?month=2027-01&view=list").get_data(as_text=True))
    names = titles(html)
    assert names[0] == "Skype for Business certificate update"  # Fri, Jan 1, 00:00
    assert "Monthly scheduled maintenance" in names
    assert names.count("CallTower Connect release") == 1  # Tuesday 19 January
    starts = re.findall(r'<time datetime="([^"]+)" data-until', html)
    assert len(starts) == len(names) and starts == sorted(starts)
    assert all(s.startswith("2027-01") for s in starts)
    # the moved monthly window: one compact line, across midnight, MT then UTC
    assert (
        '<time datetime="2027-01-17T05:00:00Z" data-until="2027-01-17T11:00:00Z" class="when">'
        "Sat, Jan 16, 2027, 22:00 – Sun, Jan 17, 04:00 MST</time>"
        '<span class="utc"> · Sun, Jan 17, 05:00–11:00 UTC</span>'
    ) in html
    assert "|mt" not in html and " – 2027-01" not in html


def test_list_view_cancelled_windows_are_listed_as_cancelled(client, cal):
    html = main_of(client.get("/maintenance?month=2027-02&view=list").get_data(as_text=True))
    assert '<li class="window window-cancelled"' in html


def test_list_view_describes_each_series_in_words(client, cal):
    html = main_of(client.get("/maintenance?month=2027-01&view=list").get_data(as_text=True))
    assert "Repeats: every third Friday of the month, 22:00–04:00 MT" in html
    assert "Repeats: every Friday, 00:00–00:30 MT" in html
    assert "Repeats: every 3 weeks on Tuesday, 21:00–23:00 MT" in html
    assert "FREQ=" not in html


def test_window_of_a_series_shows_its_rule_in_words_and_where_it_moved_from(client, cal):
    html = main_of(client.get(f"/maintenance/{cal.moved.id}").get_data(as_text=True))
    assert "<dt>Repeats</dt>" in html
    assert "every third Friday of the month, 22:00–04:00 MT" in html
    assert "Part of the series “Monthly scheduled maintenance”." in html
    assert "Sat, Jan 16, 2027, 22:00 – Sun, Jan 17, 04:00 MST" in html
    assert "Moved from its usual time:" in html and "Fri, Jan 15, 2027, 22:00 MST" in html
    assert "FREQ=" not in html
    other = main_of(client.get(f"/maintenance/{cal.annotated.id}").get_data(as_text=True))
    assert "every 3 weeks on Tuesday, 21:00–23:00 MT" in other
    assert "Moved from" not in other


@pytest.mark.parametrize(("language", "weekday"), [("de", "Freitag"), ("es", "viernes")])
def test_rule_words_use_the_readers_weekday_names(client, cal, language, weekday):
    # The sentence's frame is translated by the catalogs; the weekday comes from CLDR.
    html = client.get(f"/maintenance/{cal.moved.id}?lang={language}").get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    recurrence = re.search(r'<dd class="recurrence">([^<]*)', html)
    assert recurrence is not None and weekday in recurrence.group(1)


def test_a_series_whose_rule_has_no_words_shows_the_rule(client, db, cal):
    monthly = series(db, "monthly-maintenance")
    monthly.rule = "FREQ=YEARLY;BYWEEKNO=3"  # stored by hand: no form accepts such words
    db.commit()
    html = main_of(client.get(f"/maintenance/{cal.moved.id}").get_data(as_text=True))
    assert "repeats by the rule FREQ=YEARLY;BYWEEKNO=3" in html


def test_today_is_marked_in_the_grid(client, cal):
    # NOW is 2026-11-20 15:00 UTC: Friday 20 November, 08:00 MST
    html = main_of(client.get("/maintenance").get_data(as_text=True))
    assert html.count('aria-current="date"') == 1
    cell = re.search(
        r'<td data-date="2026-11-20" class="([^"]*)" aria-current="date">(.*?)</td>', html, re.S
    )
    assert cell is not None
    assert "today" in cell.group(1).split()
    assert '<span class="day-name">Fri </span>20</span>' in cell.group(2)
    assert '<span class="today-label">Today</span>' in cell.group(2)
    # another month has no today
    assert 'aria-current="date"' not in client.get("/maintenance?month=2027-01").get_data(
        as_text=True
    )


def test_today_divides_the_list(client, db, admin, cal):
    # NOW is Friday 20 November, 08:00 MST
    earlier_today = NOW - timedelta(hours=7)  # 01:00 MST
    yesterday = NOW - timedelta(hours=21)  # Thursday 11:00 MST
    for title, start in (("Earlier today", earlier_today), ("Yesterday", yesterday)):
        one_off(
            db,
            admin,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            now=start - timedelta(days=1),
        )
    db.commit()
    html = main_of(client.get("/maintenance?view=list").get_data(as_text=True))
    divider = html.index(
        '<li class="today-divider" id="today"><span class="today-name">Today</span>'
    )
    assert html.index(">Yesterday<") < divider < html.index(">Earlier today<")
    # A day, not a moment: its date and no time (no <time> for a script to add one to).
    assert '<span class="today-date" data-day="2026-11-20">Fri, Nov 20</span></li>' in html
    # another month has no divider
    other = client.get("/maintenance?view=list&month=2027-01").get_data(as_text=True)
    assert "today-divider" not in other


def test_today_divider_ends_a_month_whose_windows_are_all_past(client, db, admin):
    start = NOW - timedelta(days=7)
    one_off(
        db,
        admin,
        title="Last week",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        now=start - timedelta(days=1),
    )
    db.commit()
    html = main_of(client.get("/maintenance?view=list&month=2026-11").get_data(as_text=True))
    assert html.index(">Last week<") < html.index('class="today-divider"')
    assert html.count("today-divider") == 1


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        (
            "platform=skype-for-business",
            {"Skype for Business certificate update", "Monthly scheduled maintenance"},
            {"CallTower Connect release"},
        ),
        (
            "platform=calltower-connect&platform=skype-for-business",
            {"Skype for Business certificate update", "CallTower Connect release"},
            set(),
        ),
        (
            "impact=without",
            {"Skype for Business certificate update", "CallTower Connect release"},
            {"Monthly scheduled maintenance"},
        ),
        (
            "impact=with",
            {"Monthly scheduled maintenance"},
            {"Skype for Business certificate update", "CallTower Connect release"},
        ),
        (
            "platform=calltower-connect&impact=with",
            {"Monthly scheduled maintenance"},
            {"Skype for Business certificate update", "CallTower Connect release"},
        ),
    ],
)
def test_filters_narrow_grid_and_list(client, cal, query, shown, hidden):
    for view in ("list", "grid"):
        html = main_of(
            client.get(f"/maintenance?month=2027-01&view={view}&{query}").get_data(as_text=True)
        )
        body = html[html.index("</details>") :]
        for title in shown:
            assert title in body, (view, title)
        for title in hidden:
            assert title not in body, (view, title)


def test_filters_are_a_get_form_that_remembers_the_choice(client, cal):
    html = main_of(
        client.get("/maintenance?month=2027-01&view=list&platform=cisco&impact=without").get_data(
            as_text=True
        )
    )
    assert '<form class="maint-filter" method="get" action="/maintenance">' in html
    assert '<input type="hidden" name="month" value="2027-01">' in html
    assert '<input type="hidden" name="view" value="list">' in html
    assert '<input type="checkbox" name="platform" value="cisco" checked>' in html
    assert '<input type="radio" name="impact" value="without" checked>' in html
    assert '<button type="submit">' in html
    assert '<details class="maint-filters" open>' in html
    # links keep the filters; "Clear filters" drops them and keeps month and view
    assert (
        'href="?month=2027-02&amp;view=list&amp;platform=cisco&amp;impact=without" rel="next"'
        in html
    )
    assert '<a href="?month=2027-01&amp;view=list">Clear filters</a>' in html


def test_filters_also_narrow_in_progress_upcoming_and_recent(app, client, db, cal):
    maintenance.advance_windows(db, cal.unscheduled.starts_at + timedelta(minutes=1))
    db.commit()
    app.config["FIXED_NOW"] = cal.unscheduled.starts_at + timedelta(minutes=1)
    html = main_of(app.test_client().get("/maintenance?platform=cisco").get_data(as_text=True))
    assert "In progress" not in html and "Emergency SBC patch" not in html
    html = main_of(
        app.test_client().get("/maintenance?platform=microsoft-teams").get_data(as_text=True)
    )
    assert "In progress" in html and "Emergency SBC patch" in html


def test_unknown_platform_says_so_and_offers_the_list(client, cal):
    response = client.get("/maintenance?platform=nope&view=list")
    assert response.status_code == 404
    html = main_of(response.get_data(as_text=True))
    assert "No platform is called “nope”. Choose one from the list." in html
    assert '<input type="checkbox" name="platform" value="cisco">' in html
    assert "Monthly scheduled maintenance" not in html


@pytest.mark.parametrize("impact", ["maintenance", "none", "WITH", "x" * 300])
def test_unknown_impact_is_a_400_saying_what_is_accepted(client, impact):
    response = client.get("/maintenance", query_string={"impact": impact})
    assert response.status_code == 400
    assert "impact must be with or without" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["\x00", "cisco\x07", "ü" * 100, "%00"])
def test_odd_platform_values_are_never_a_500(client, value):
    response = client.get("/maintenance", query_string={"platform": value})
    assert response.status_code == 404


def test_empty_filter_values_mean_no_filter(client, cal):
    response = client.get("/maintenance?month=2027-01&view=list&platform=&impact=")
    assert response.status_code == 200
    html = main_of(response.get_data(as_text=True))
    assert {"Monthly scheduled maintenance", "CallTower Connect release"} <= set(titles(html))


def test_each_filter_has_its_own_cached_body(app, client, cal):
    cache = render_cache()
    cache.clear()
    cisco = client.get("/maintenance?month=2027-01&view=list&platform=skype-for-business")
    connect = client.get("/maintenance?month=2027-01&view=list&platform=calltower-connect")
    assert cache.renders == 2
    assert cisco.headers["ETag"] != connect.headers["ETag"]
    assert "Skype for Business certificate update" in cisco.get_data(as_text=True)
    assert "Skype for Business certificate update" not in connect.get_data(as_text=True)
    with_impact = client.get("/maintenance?month=2027-01&view=list&impact=with")
    without = client.get("/maintenance?month=2027-01&view=list&impact=without")
    assert cache.renders == 4
    assert "CallTower Connect release" not in with_impact.get_data(as_text=True)
    assert "CallTower Connect release" in without.get_data(as_text=True)
    # the same filter again is served from the cache, byte for byte
    again = client.get("/maintenance?month=2027-01&view=list&platform=calltower-connect")
    assert cache.renders == 4
    assert again.get_data() == connect.get_data()


def test_maintenance_pages_run_a_fixed_number_of_statements(app, db, admin, cal):
    from tests.pages.support import add_windows, counting

    def count(path: str) -> int:
        render_cache().clear()
        with app.app_context(), counting() as statements:
            assert app.test_client().get(path).status_code == 200
        return len(statements)

    paths = ["/maintenance?month=2026-12", "/maintenance?month=2026-12&view=list"]
    small = [count(p) for p in paths]
    add_windows(db, admin, NOW, count=40, offset=0)
    large = [count(p) for p in paths]
    assert small == large, (small, large)


# --- a phone's width, in a real browser ------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_maintenance_pages_fit_a_390px_screen(app, cal, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.live import serve

    with serve(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        for path in (
            "/maintenance",
            "/maintenance?month=2027-01",
            "/maintenance?month=2027-01&view=list",
            "/maintenance?platform=cisco&platform=skype-for-business&impact=without",
            f"/maintenance/{cal.moved.id}",
        ):
            page.goto(base + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        # The month grid became a list of days: only days with windows (and today) show,
        # each with its weekday, one under the other.
        page.goto(base + "/maintenance?month=2027-01")
        cells = page.locator("table.month td")
        shown = [c for c in cells.all() if c.is_visible()]
        assert shown and len(shown) < cells.count()
        assert all("cal-window" in (c.inner_html()) for c in shown)
        boxes = [c.bounding_box() for c in shown]
        assert all(b is not None and b["width"] > 300 for b in boxes)
        assert all(c.locator(".day-name").is_visible() for c in shown)
        page.screenshot(path=str(tmp_path / "month-390.png"), full_page=True)
        # Today: marked and labelled in the narrow grid too.
        page.goto(base + "/maintenance")
        today = page.locator('td[aria-current="date"]')
        assert today.is_visible() and "Today" in today.inner_text()
        # Without JavaScript the filter is a plain form: tick, submit, the query holds it.
        page.goto(base + "/maintenance?month=2027-01&view=list")
        page.locator("details.maint-filters summary").click()
        page.get_by_label("Skype for Business").check()
        page.get_by_label("No customer impact").check()
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**platform=skype-for-business**")
        assert "impact=without" in page.url and "view=list" in page.url
        assert page.locator(".agenda .window").count() > 0
        assert "CallTower Connect release" not in page.locator(".agenda").inner_text()
        browser.close()
