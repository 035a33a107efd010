"""What the browser tests check on a page: axe-core's serious and critical violations, content
wider than a phone's screen, and screenshots kept as test artefacts.

Debian's chromium is driven through Playwright. axe-core comes from tests/js (pinned in its
package-lock.json, installed by `make test`); it is added to every document a context opens as
an init script, which the pages' Content-Security-Policy (no inline script, no eval) does not
apply to, so the pages are checked under the very headers they are served with.
"""

from __future__ import annotations

import email
import email.policy
import glob
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from babel.support import Translations
from flask import Flask

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.i18n import TRANSLATIONS_DIR
from statuspage.seed.defaults import seed_platforms
from statuspage.services import staff
from tests.helpers import FAST_HASH, PASSWORD, SECRET_KEY, authenticator_code, ensure_authenticator
from tests.live import serve, serving

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
AXE = os.path.join(ROOT, "tests", "js", "node_modules", "axe-core", "axe.min.js")
SCREENSHOTS = os.path.join(ROOT, "test-artefacts", "screenshots")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}
# The impacts that fail a page; "moderate" and "minor" findings are best practice only.
FAILING_IMPACTS = ("serious", "critical")
LANGUAGES = ("en", "es", "de")


# Marks for a module of browser tests: skipped, saying why, where chromium or axe-core is
# missing (`apt-get install chromium`; `make test` runs `npm ci` in tests/js).
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="Debian's chromium is not installed: apt-get install chromium",
    ),
    pytest.mark.skipif(
        not os.path.exists(AXE),
        reason="axe-core is not installed: npm ci --prefix tests/js (make test does it)",
    ),
]


# --- the app and the browser, one of each per test module --------------------------------


@contextmanager
def module_app(folder: str, now: datetime, **config: Any) -> Iterator[Flask]:
    """An app on its own SQLite file in `folder`, time pinned to `now`, platforms seeded,
    its app context pushed for the data a module sets up. Mail goes to files in
    `folder`/instance/mail (the embedded default), where a test reads its links."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(folder, 'browser.db')}",
            "FIXED_NOW": now,
            "RATELIMIT_ENABLED": False,
            "STATUSPAGE_URL": "http://localhost",
            **config,
        }
    )
    app.instance_path = os.path.join(folder, "instance")
    with app.app_context():
        _db.create_all()
        seed_platforms(_db.session, now)
        _db.session.commit()
        yield app
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@contextmanager
def serve_linked(app: Flask) -> Iterator[str]:
    """Serve `app` on a loopback port, the links it writes (in mail) pointing at that server;
    yields its base URL."""
    with serve(app) as base:
        app.config["STATUSPAGE_URL"] = base
        yield base


def add_staff(role: str, now: datetime) -> str:
    """A staff account of `role` (password PASSWORD); returns its email (not the demo's)."""
    email = f"{role}.tester@example.com"
    staff.create_user(
        _db.session,
        None,
        email=email,
        role=role,
        password=PASSWORD,
        now=now,
        hash_method=FAST_HASH,
    )
    _db.session.commit()
    return email


@contextmanager
def other_site(html: str, headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """Another site on the loopback (its own port, so its own origin) answering every GET with
    `html` (and `headers`, such as a Content-Security-Policy of its own); yields its address.
    A page the browser answered itself would count as a public site, which Chromium's Local
    Network Access stops from loading loopback scripts."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the handler's name is the protocol's)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Page)) as address:
        yield address


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium under Playwright, for a module's tests (its `browser` fixture);
    closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def new_context(browser: Any, *, viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
    """A context (own cookies) whose every document carries axe-core."""
    options.setdefault("timezone_id", "America/Denver")
    options.setdefault("locale", "en-US")
    context = browser.new_context(viewport=viewport, **options)
    context.add_init_script(path=AXE)
    return context


@contextmanager
def new_page(browser: Any, **options: Any) -> Iterator[Any]:
    """A page in a context of its own (made by `new_context` with `options`); the context is
    closed on exit."""
    context = new_context(browser, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


# A phone's window and input, as `new_context`/`new_page` options.
ON_A_PHONE: dict[str, Any] = {"viewport": PHONE, "is_mobile": True, "has_touch": True}


def mail_to(app: Flask, address: str) -> list[email.message.EmailMessage]:
    """The mail sent to `address`, oldest first, from the app's mail folder."""
    found = []
    for path in sorted(glob.glob(os.path.join(app.instance_path, "mail", "*.eml"))):
        with open(path, "rb") as fh:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the forms: the password, then for admins and CSS a code of their
    authenticator app (one is set up for them first if they have none)."""
    ensure_authenticator(email)
    page.goto(base + "/login?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/login/code" in page.url:
        page.get_by_label("Code").fill(authenticator_code(email))
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/admin/")


def gettext_in(lang: str) -> Callable[[str], str]:
    """The site's words in `lang`, from the same catalogs the pages use."""
    catalog = Translations.load(TRANSLATIONS_DIR, [lang])
    return catalog.gettext


# --- axe-core --------------------------------------------------------------------------------

_RUN_AXE = """async (impacts) => {
  if (!window.axe) { return null; }
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(" "), html: n.html.slice(0, 200),
        summary: (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 300),
      })),
    }));
}"""


def axe_violations(page: Any, impacts: tuple[str, ...] = FAILING_IMPACTS) -> list[str]:
    """axe-core's violations of `impacts` on the page as it stands, one readable line per
    element: rule, impact, what it asks, the element's selector and markup, why it fails."""
    found = page.evaluate(_RUN_AXE, list(impacts))
    if found is None:
        raise AssertionError(f"axe-core is not on {page.url}: was the context made by new_context?")
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} -- "
                f"{node['target']} {node['html']} -- {node['summary']}"
            )
    return lines


def assert_accessible(page: Any) -> None:
    problems = axe_violations(page)
    assert not problems, f"axe-core on {page.url}:\n" + "\n".join(problems)


# --- horizontal overflow -----------------------------------------------------------------------

# The layout viewport's width (clientWidth), not innerWidth: a phone browser (is_mobile)
# zooms out to fit wide content, and innerWidth grows with it.
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) { return null; }
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if (x !== "visible") { return true; }
    }
    return false;
  };
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) { name += "#" + el.id; }
    if (typeof el.className === "string" && el.className.trim()) {
      name += "." + el.className.trim().split(/\\s+/).join(".");
    }
    const parent = el.parentElement;
    const pname = parent ? parent.tagName.toLowerCase() +
      (parent.className && typeof parent.className === "string" && parent.className.trim()
        ? "." + parent.className.trim().split(/\\s+/).join(".") : "") : "";
    return pname + " > " + name;
  };
  const offenders = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5 || clipped(el)) { continue; }
    // Not drawn (hidden, or in a closed <details>): it widens nothing.
    if (!el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true })) {
      continue;
    }
    // Only the outermost offenders: an element whose parent sticks out as far is its child.
    const parent = el.parentElement;
    const pbox = parent ? parent.getBoundingClientRect() : null;
    if (pbox && parent !== document.body && pbox.right >= box.right - 0.5) { continue; }
    offenders.push({ what: describe(el), right: Math.round(box.right),
                     width: Math.round(box.width),
                     text: (el.innerText || "").replace(/\\s+/g, " ").slice(0, 60) });
  }
  offenders.sort((a, b) => b.right - a.right);
  return { scrollWidth: document.documentElement.scrollWidth, width: width,
           offenders: offenders.slice(0, 8) };
}"""


def horizontal_overflow(page: Any) -> list[str]:
    """[] when nothing is wider than the window; else the page's width and the elements
    sticking out furthest (outermost first), each with its right edge and text."""
    found = page.evaluate(_OVERFLOW)
    if found is None:
        return []
    head = f"page is {found['scrollWidth']} px wide in a {found['width']} px window"
    return [head] + [
        f"{o['what']}: right edge {o['right']} px, {o['width']} px wide ({o['text']!r})"
        for o in found["offenders"]
    ]


# --- touch targets -------------------------------------------------------------------------------

_SMALL = """(selector) => {
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility()) { continue; }
    const box = el.getBoundingClientRect();
    if (box.width < 24 || box.height < 24) {
      found.push(`${el.tagName.toLowerCase()} ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return found.slice(0, 10);
}"""


_BROKEN = """(selector) => {
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility()) { continue; }
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) { found.push(el.textContent.trim()); }
  }
  return found;
}"""


def broken_across_lines(page: Any, selector: str) -> list[str]:
    """The text of visible elements matching `selector` that wrap onto more than one line."""
    return list(page.evaluate(_BROKEN, selector))


def small_targets(page: Any, selector: str) -> list[str]:
    """Visible elements matching `selector` smaller than 24 x 24 px (WCAG 2.2, 2.5.8)."""
    return list(page.evaluate(_SMALL, selector))


# --- screenshots ---------------------------------------------------------------------------------


def screenshot(page: Any, name: str) -> str:
    """A full-page PNG in test-artefacts/screenshots/<name>.png at the repository's root."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    path = os.path.join(SCREENSHOTS, f"{safe}.png")
    page.screenshot(path=path, full_page=True)
    return path
