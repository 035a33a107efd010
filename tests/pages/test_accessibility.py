"""No serious or critical axe-core violation on any page: every public page in English,
Spanish and German, and the staff pages signed in. The site holds the demo (an open master
case, resolved incidents, 90 days of maintenance, subscribers), so every part of a page shows.

One app, one live server and one browser for the module; each check opens its own page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from statuspage.extensions import db as _db
from statuspage.models import (
    MaintenanceWindow,
    Notice,
    Platform,
    Subscriber,
    User,
)
from statuspage.seed import demo
from statuspage.services.subscriptions import links, signup
from tests import browser_checks as bc
from tests.helpers import NOW
from tests.live import serve

pytestmark = bc.MARKS


@pytest.fixture(scope="module", params=["sqlite"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo on a live server: (base URL, the paths the pages are reached by)."""
    with bc.module_app(str(tmp_path_factory.mktemp("a11y")), NOW) as app:
        session = _db.session
        result = demo.seed(
            session, now=NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6)
        )
        session.commit()
        admin = bc.add_staff("admin", NOW)
        secret = app.config["SECRET_KEY"]
        # A confirmed subscriber (the manage and unsubscribe pages) and one waiting for
        # their confirmation link (the confirm page).
        confirmed = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
        signup.subscribe(
            session,
            secret=secret,
            email="pending@example.com",
            platforms=["cisco"],
            now=NOW,
        )
        session.commit()
        confirm_url = (
            session.scalars(select(Notice).where(Notice.kind == "subscription_confirm"))
            .one()
            .payload["confirm_url"]
        )
        assert result.open_master_case is not None and result.resolved_master_case is not None
        window = session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.id)).first()
        notice = session.scalars(select(Notice).order_by(Notice.id.desc())).first()
        paths = {
            "incident": result.open_master_case.id,
            "update": result.open_master_case.updates[0].id,
            "resolved": result.resolved_master_case.id,
            "window": window.id,
            "manage": links.manage_path(secret, confirmed),
            "unsubscribe": links.unsubscribe_path(secret, confirmed),
            "confirm": confirm_url,
            "platform": session.scalars(select(Platform.id).order_by(Platform.id)).first(),
            "user": session.scalars(select(User.id).where(User.email != admin)).first(),
            "notice": notice.id,
        }
        with serve(app) as base:
            yield base, paths, admin


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with bc.chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def public_page(browser: Any) -> Iterator[Any]:
    """One tab for every public check: a new page per check costs more than the check."""
    context = bc.new_context(browser)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def staff_page(browser: Any, site: Any) -> Iterator[Any]:
    base, _, admin = site
    context = bc.new_context(browser)
    page = context.new_page()
    bc.sign_in(page, base, admin)
    yield page
    context.close()


PUBLIC_PAGES = {
    "home": "/",
    "incident": "/incidents/{incident}",
    "resolved-master-case": "/incidents/{resolved}",
    "history": "/history",
    "maintenance": "/maintenance",
    "maintenance-next-month": "/maintenance?month=2026-12",
    "maintenance-list": "/maintenance?view=list",
    "maintenance-filtered": "/maintenance?view=list&platform=cisco&impact=with",
    "maintenance-window": "/maintenance/{window}",
    "subscribe": "/subscribe",
    "subscribe-to-incident": "/subscribe?incident={incident}",
    "manage": "{manage}",
    "confirm": "{confirm}",
    "unsubscribe": "{unsubscribe}",
    "help": "/help",
    "embed": "/embed",
    "embed-dark": "/embed?theme=dark&platforms=cisco",
    "not-found": "/no-such-page",
    "sign-in": "/login",
}


def _url(base: str, template: str, paths: dict[str, Any], lang: str) -> str:
    path = template.format(**paths)
    return f"{base}{path}{'&' if '?' in path else '?'}lang={lang}"


@pytest.mark.parametrize("lang", bc.LANGUAGES)
@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page_has_no_serious_axe_violation(
    site: Any, public_page: Any, name: str, lang: str
) -> None:
    base, paths, _ = site
    response = public_page.goto(_url(base, PUBLIC_PAGES[name], paths, lang))
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    assert public_page.locator("html").get_attribute("lang") == lang
    bc.assert_accessible(public_page)


@pytest.fixture(scope="module")
def dark_page(browser: Any) -> Iterator[Any]:
    """A reader whose system asks for dark colours (prefers-color-scheme: dark)."""
    context = bc.new_context(browser, color_scheme="dark")
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    "name", ["home", "incident", "history", "maintenance", "maintenance-window", "subscribe"]
)
def test_public_page_in_dark_colours_has_no_serious_axe_violation(
    site: Any, dark_page: Any, name: str
) -> None:
    base, paths, _ = site
    dark_page.goto(_url(base, PUBLIC_PAGES[name], paths, "en"))
    assert dark_page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    bc.assert_accessible(dark_page)


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_subscribe_form_with_errors_has_no_serious_axe_violation(
    site: Any, public_page: Any, lang: str
) -> None:
    """The form as it comes back refused: its messages are tied to their fields."""
    base, _, _ = site
    public_page.goto(f"{base}/subscribe?lang={lang}")
    with public_page.expect_navigation():
        public_page.locator("main form[method=post] [type=submit]").last.click()
    assert public_page.locator("[aria-invalid=true]").count() > 0
    bc.assert_accessible(public_page)


def test_subscribe_form_as_its_script_changes_it_has_no_serious_axe_violation(
    site: Any, public_page: Any
) -> None:
    """With a Teams channel chosen (its address field shown, e-mail's hidden) and the time
    zone list narrowed by the filter."""
    base, _, _ = site
    public_page.goto(f"{base}/subscribe?lang=en")
    public_page.get_by_label("Microsoft Teams channel").check()
    assert public_page.get_by_label("Microsoft Teams incoming webhook URL").is_visible()
    assert not public_page.get_by_label("Email address").is_visible()
    zone_filter = public_page.get_by_label("Find a time zone", exact=False)
    if zone_filter.count():
        zone_filter.fill("Madrid")
    bc.assert_accessible(public_page)


STAFF_PAGES = {
    "dashboard": "/admin/",
    "incident": "/admin/incidents/{incident}",
    "incident-edit": "/admin/incidents/{incident}/edit",
    "incident-resolve": "/admin/incidents/{incident}/resolve",
    "update-correct": "/admin/incidents/{incident}/updates/{update}/correct",
    "incident-new": "/admin/incidents/new",
    "maintenance": "/admin/maintenance",
    "maintenance-window": "/admin/maintenance/{window}",
    "maintenance-new": "/admin/maintenance/new",
    "series-new": "/admin/series/new",
    "notices": "/admin/notices",
    "notice": "/admin/notices/{notice}",
    "import": "/admin/subscribers/import",
    "platforms": "/admin/platforms",
    "platform": "/admin/platforms/{platform}",
    "users": "/admin/users",
    "user": "/admin/users/{user}",
    "tokens": "/admin/tokens",
    "audit": "/admin/audit",
}


@pytest.mark.parametrize("name", list(STAFF_PAGES))
def test_staff_page_has_no_serious_axe_violation(site: Any, staff_page: Any, name: str) -> None:
    base, paths, _ = site
    response = staff_page.goto(_url(base, STAFF_PAGES[name], paths, "en"))
    assert response is not None and response.status == 200
    assert "/login" not in staff_page.url
    bc.assert_accessible(staff_page)


@pytest.fixture(scope="module")
def dark_staff_page(browser: Any, site: Any) -> Iterator[Any]:
    base, _, admin = site
    context = bc.new_context(browser, color_scheme="dark")
    page = context.new_page()
    bc.sign_in(page, base, admin)
    yield page
    context.close()


@pytest.mark.parametrize("name", ["dashboard", "incident", "maintenance-window", "users"])
def test_staff_page_in_dark_colours_has_no_serious_axe_violation(
    site: Any, dark_staff_page: Any, name: str
) -> None:
    base, paths, _ = site
    dark_staff_page.goto(_url(base, STAFF_PAGES[name], paths, "en"))
    bc.assert_accessible(dark_staff_page)


def test_the_check_finds_a_serious_violation(site: Any, public_page: Any) -> None:
    """The checks above would fail: an image without a text alternative and a field without
    a label on a served page are reported, with the element."""
    base, _, _ = site
    page = public_page
    page.goto(base + "/help")
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          const input = document.createElement("input");
          input.type = "text";
          main.append(input);
          const img = document.createElement("img");
          img.src = "/static/none.png";
          main.append(img);
        }"""
    )
    found = "\n".join(bc.axe_violations(page))
    assert "label (critical)" in found and "<input" in found
    assert "image-alt (critical)" in found and "<img" in found
