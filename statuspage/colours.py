"""Colours as WCAG 2 sees them: relative luminance and contrast ratio of sRGB hex colours.

The embed checks a host page's `?accent=` with it (an accent too pale for text on the
embed's background is used for its stripe only), and tests/pages/test_contrast.py holds the
site's palettes to 4.5:1 for text and 3:1 for interface parts such as the focus ring.
"""

from __future__ import annotations

import re

HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
TEXT_CONTRAST = 4.5  # WCAG 1.4.3, normal text
UI_CONTRAST = 3.0  # WCAG 1.4.11, interface components and focus indicators


def parse_hex(value: str) -> str | None:
    """`#abc`, `abc`, `#aabbcc` or `aabbcc` as `#aabbcc` (lower case), else None."""
    found = HEX.fullmatch(value.strip())
    if found is None:
        return None
    digits = found.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def luminance(colour: str) -> float:
    """WCAG relative luminance of a hex colour (0 black .. 1 white)."""
    normal = parse_hex(colour)
    if normal is None:
        raise ValueError(f"not a hex colour: {colour!r}")
    channels = []
    for i in (1, 3, 5):
        c = int(normal[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two hex colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
