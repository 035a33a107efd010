"""An admin's first password sign-in in chromium: the authenticator set up from the QR page,
the recovery codes shown once, then later sign-ins with a code, a wrong code, and a recovery
code that works once. Every page is checked by axe-core and fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from statuspage.services import factors
from tests import browser_checks as bc
from tests.helpers import NOW, PASSWORD
from tests.live import serve

pytestmark = bc.MARKS

STEP = int(NOW.timestamp()) // factors.STEP_SECONDS


@pytest.fixture(scope="module", params=["sqlite"])
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = str(tmp_path_factory.mktemp("sign-in"))
    with bc.module_app(folder, NOW) as app:
        email = bc.add_staff("admin", NOW)  # no authenticator yet
        with serve(app) as base:
            yield base, email


def checked(page: Any) -> None:
    bc.assert_accessible(page)
    assert not bc.horizontal_overflow(page), page.url


def password(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url("**/")


def test_an_admin_sets_up_an_authenticator_then_signs_in_with_codes(
    site: tuple[str, str], browser: Any
) -> None:
    base, email = site
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        # The first sign-in: the password, then setting up the app before anything opens.
        password(page, base, email)
        assert page.url.endswith("/login/enrol")
        assert page.locator("svg.qr[role=img] title").count() == 1
        checked(page)
        bc.screenshot(page, "sign-in-enrol")
        key = page.locator("#totp-key").inner_text().replace(" ", "")
        assert re.fullmatch(r"[A-Z2-7]{32}", key)
        page.get_by_label("Code from the app").fill(factors.code_at(key, STEP))
        page.get_by_role("button", name="Turn on the second step").click()
        page.get_by_role("heading", name="Recovery codes").wait_for()
        codes = page.locator(".recovery-codes code").all_inner_texts()
        assert len(set(codes)) == 10
        checked(page)
        page.get_by_role("link", name="I have kept them: continue").click()
        page.wait_for_url("**/admin/")
        sign_out(page)

        # Later: the password, a wrong code (refused, said so), the app's next code.
        password(page, base, email)
        assert page.url.endswith("/login/code")
        checked(page)
        page.get_by_label("Code").fill(factors.code_at(key, STEP))  # used at set-up
        page.get_by_role("button", name="Continue").click()
        page.get_by_text("That code is not right, or it was used already.").wait_for()
        assert page.get_by_label("Code").get_attribute("aria-invalid") == "true"
        checked(page)
        assert page.goto(base + "/admin/").url.endswith("/login?next=%2Fadmin%2F")
        page.goto(base + "/login/code")
        page.get_by_label("Code").fill(factors.code_at(key, STEP + 1))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/admin/")
        sign_out(page)

        # A recovery code works once.
        for attempt in ("works", "refused"):
            password(page, base, email)
            page.get_by_label("Code").fill(codes[0].lower())
            page.get_by_role("button", name="Continue").click()
            if attempt == "works":
                page.wait_for_url("**/admin/")
                page.get_by_text("You signed in with a recovery code; 9 are left.").wait_for()
                sign_out(page)
            else:
                page.get_by_text("That code is not right").wait_for()
                assert "/login/code" in page.url
    finally:
        context.close()
