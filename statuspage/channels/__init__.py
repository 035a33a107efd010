"""The channels notices go by, behind one registry (docs/channels.md).

Every module of this package that defines `CHANNEL` (a `base.Channel`) is a channel; the
registry finds them when first asked, so adding a channel is adding its module (and its
templates, settings and tests). Services, queries, the API contract, the forms and delivery
read the registry and never name a channel module: they ask a channel (`get(name)`) what
they need to know.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Any

from statuspage.channels.base import Channel

__all__ = ["Channel", "all_channels", "find", "get", "names", "settings_from", "taking"]


@lru_cache(maxsize=1)
def _registry() -> dict[str, Channel]:
    found: list[Channel] = []
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        channel = getattr(loaded, "CHANNEL", None)
        if isinstance(channel, Channel):
            found.append(channel)
    found.sort(key=lambda c: (c.position, c.name))
    return {c.name: c for c in found}


def all_channels() -> tuple[Channel, ...]:
    """Every channel, in the order pages list them."""
    return tuple(_registry().values())


def names() -> tuple[str, ...]:
    return tuple(_registry())


def find(name: str | None) -> Channel | None:
    return _registry().get(name or "")


def get(name: str) -> Channel:
    """The channel `name` (KeyError for none)."""
    return _registry()[name]


def taking(kind: str) -> tuple[str, ...]:
    """The channels that take subscription notices of `kind`."""
    return tuple(c.name for c in all_channels() if c.takes(kind))


def settings_from(environ: Any) -> dict[str, Any]:
    """Every channel's own settings, read from `environ` (empty or unset: the default)."""
    out: dict[str, Any] = {}
    for channel in all_channels():
        for setting in channel.settings:
            raw = environ.get(setting.name)
            out[setting.name] = setting.parse(raw) if raw not in (None, "") else setting.default
    return out
