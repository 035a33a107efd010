"""Colour contrast of the site and the embed in both colour schemes (WCAG 2.2: 4.5:1 for
text, 3:1 for interface parts such as the focus ring), read from the stylesheets' custom
properties, so a palette change that breaks a pair fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from statuspage.colours import TEXT_CONTRAST, UI_CONTRAST, contrast, parse_hex
from statuspage.views.embed import BACKGROUNDS
from tests.browser_checks import CHROMIUM, chromium
from tests.helpers import PROJECT_ROOT

ROOT = PROJECT_ROOT
DARK_MEDIA = "@media (prefers-color-scheme: dark)"


def rules(css: str) -> list[tuple[str, str, str]]:
    """(at-rule around it or "", selector, declarations) of every rule, one level of
    @media deep, comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found: list[tuple[str, str, str]] = []

    def walk(text: str, media: str) -> None:
        i = 0
        while True:
            start = text.find("{", i)
            if start < 0:
                return
            prelude = text[i:start].strip()
            depth, j = 1, start + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            body = text[start + 1 : j - 1]
            if prelude.startswith("@media"):
                walk(body, " ".join(prelude.split()))
            else:
                found.append((media, prelude, body))
            i = j

    walk(css, "")
    return found


def properties(body: str) -> dict[str, str]:
    return {
        name.strip(): value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+)", body)
    }


def palettes(path: Path, light_selector: str, dark_selector: str) -> dict[str, dict[str, str]]:
    """The custom properties of the light scheme (top-level `light_selector` rules, in order)
    and of the dark one (the light ones overridden by `dark_selector` inside the dark
    media query), as lower-case #rrggbb."""
    light: dict[str, str] = {}
    dark: dict[str, str] = {}
    for media, selector, body in rules(path.read_text()):
        if media == "" and selector == light_selector:
            light.update(properties(body))
        elif media == DARK_MEDIA and selector == dark_selector:
            dark.update(properties(body))
    assert light and dark, f"{path.name}: no light or no dark palette"
    schemes = {"light": light, "dark": {**light, **dark}}
    return {
        scheme: {name: parse_hex(value) or value for name, value in values.items()}
        for scheme, values in schemes.items()
    }


SITE = palettes(ROOT / "static" / "style.css", ":root", ":root")

# The page's text, links and status words, written on the page's background.
ON_THE_PAGE = ("--fg", "--muted", "--link", "--ok", "--minor", "--major", "--critical", "--maint")
# The colours that carry words of --on-status: the statuses, and buttons (--link).
COLOURED = ("--ok", "--minor", "--major", "--critical", "--maint", "--link")
SITE_TEXT = [
    # (text, background): the page's text, links, status words, and what sits on colour
    *[(fg, "--bg") for fg in ON_THE_PAGE],
    *[("--on-status", bg) for bg in COLOURED],
    ("--fg", "--badge-bg"),
    ("--fg", "--info-bg"),
    ("--fg", "--error-bg"),
    ("--link", "--info-bg"),
    ("--quiet-fg", "--quiet-bg"),
]
SITE_UI = [
    ("--focus-ring", "--bg"),  # the ring against the page
    ("--focus-ring", "--focus-halo"),  # the two tones against each other
    ("--focus-halo", "--link"),  # the halo against a button it surrounds
    ("--focus-ring", "--info-bg"),  # a link focused inside a message
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("fg", "bg"), SITE_TEXT)
def test_site_text_reaches_4_5_to_1(scheme, fg, bg):
    colours = SITE[scheme]
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= TEXT_CONTRAST, (
        f"{scheme}: {fg} {colours[fg]} on {bg} {colours[bg]}: {ratio:.2f}"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("a", "b"), SITE_UI)
def test_site_focus_ring_reaches_3_to_1(scheme, a, b):
    colours = SITE[scheme]
    ratio = contrast(colours[a], colours[b])
    assert ratio >= UI_CONTRAST, f"{scheme}: {a} {colours[a]} next to {b} {colours[b]}: {ratio:.2f}"


def test_the_dark_scheme_changes_the_page_colours():
    assert SITE["dark"]["--bg"] != SITE["light"]["--bg"]
    assert contrast(SITE["dark"]["--bg"], "#000000") < 1.5  # a dark background indeed


def test_the_focus_rule_uses_the_two_tone_ring():
    """The site's focus rule draws the ring and the halo from the palette, not a fixed
    colour (the old #ffbf47 alone was 1.6:1 on white)."""
    focus = [
        body
        for media, selector, body in rules((ROOT / "static" / "style.css").read_text())
        if media == "" and "a:focus-visible" in selector
    ]
    assert focus, "no a:focus-visible rule"
    assert "var(--focus-ring)" in focus[0] and "var(--focus-halo)" in focus[0]


EMBED = palettes(ROOT / "static" / "embed.css", ":root", ".theme-auto")

EMBED_ON_THE_PAGE = ("fg", "muted", "link", "critical", "minor", "major", "ok", "maint")
EMBED_TEXT = [
    *[(f"--embed-{fg}", "--embed-bg") for fg in EMBED_ON_THE_PAGE],
    ("--embed-on-critical", "--embed-critical"),
    ("--embed-fg", "--embed-tag-bg"),
]
EMBED_UI = [
    ("--embed-focus-ring", "--embed-bg"),
    ("--embed-focus-ring", "--embed-focus-halo"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("fg", "bg", "least"),
    [(*p, TEXT_CONTRAST) for p in EMBED_TEXT] + [(*p, UI_CONTRAST) for p in EMBED_UI],
)
def test_embed_palettes(scheme, fg, bg, least):
    colours = EMBED[scheme]
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= least, f"embed {scheme}: {fg} {colours[fg]} on {bg} {colours[bg]}: {ratio:.2f}"


def test_embed_dark_theme_and_auto_dark_are_the_same_palette():
    """`.theme-dark` and `.theme-auto` under a dark preference must not drift apart."""
    css = (ROOT / "static" / "embed.css").read_text()
    forced = {}
    auto = {}
    for media, selector, body in rules(css):
        if media == "" and selector == ".theme-dark":
            forced = properties(body)
        elif media == DARK_MEDIA and selector == ".theme-auto":
            auto = properties(body)
    assert forced and forced == auto


def test_the_accent_check_uses_the_embeds_real_backgrounds():
    """The server decides whether an accent may colour text against these backgrounds."""
    assert parse_hex(EMBED["light"]["--embed-bg"]) == BACKGROUNDS["light"]
    assert parse_hex(EMBED["dark"]["--embed-bg"]) == BACKGROUNDS["dark"]


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [("#000", "#fff", 21.0), ("#fff", "#fff", 1.0), ("#767676", "#ffffff", 4.54)],
)
def test_contrast_ratio_matches_wcag(a, b, ratio):
    assert contrast(a, b) == pytest.approx(ratio, abs=0.01)


# --- in a browser: the schemes and the ring as chromium computes them --------------------------


_COMPUTED = """() => {
  const hex = (rgb) => "#" + rgb.match(/\\d+/g).slice(0, 3)
    .map((n) => Number(n).toString(16).padStart(2, "0")).join("");
  const el = document.activeElement, style = getComputedStyle(el);
  const halo = style.boxShadow.match(/rgba?\\([^)]*\\)/);
  return { tag: el.tagName, outline: hex(style.outlineColor), width: style.outlineWidth,
           halo: halo ? hex(halo[0]) : null,
           page: hex(getComputedStyle(document.body).backgroundColor),
           text: hex(getComputedStyle(document.body).color) };
}"""


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focused_link_shows_the_two_tone_ring_in_each_scheme(app, scheme):
    from tests.live import serve

    with serve(app) as base, chromium() as browser:
        page = browser.new_page(color_scheme=scheme)
        page.goto(base + "/?lang=en")
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # the site's name
        seen = page.evaluate(_COMPUTED)
    palette = SITE[scheme]
    assert seen["tag"] == "A"
    assert seen["page"] == palette["--bg"] and seen["text"] == palette["--fg"]
    assert seen["outline"] == palette["--focus-ring"] and seen["width"] == "3px"
    assert seen["halo"] == palette["--focus-halo"]
    assert contrast(seen["outline"], seen["page"]) >= UI_CONTRAST
