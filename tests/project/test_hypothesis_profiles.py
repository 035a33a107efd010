"""The property tests run the same way every time under `make test` (the "ci" profile), and
explore under HYPOTHESIS_PROFILE=nightly (tests/conftest.py)."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st


def _draws(profile: settings) -> list[str]:
    drawn: list[str] = []

    @settings(profile)
    @given(st.text())
    def record(value: str) -> None:
        drawn.append(value)

    record()
    return drawn


def test_the_ci_profile_draws_the_same_examples_every_run():
    """Derandomised: a property passes or fails on its source, never on the draw of a run.
    A failure prints the blob that replays it."""
    ci = settings.get_profile("ci")
    first, second = _draws(ci), _draws(ci)
    assert first == second and len(set(first)) > 1
    assert ci.print_blob and ci.database is None
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci":
        assert settings.default.derandomize  # what `make test` loads


def test_the_nightly_profile_explores_a_new_draw_each_run():
    nightly = settings.get_profile("nightly")
    assert not nightly.derandomize and nightly.max_examples == 1000 and nightly.print_blob
