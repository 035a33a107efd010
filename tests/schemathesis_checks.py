"""A check of our own for the Schemathesis run (tests/api/test_schemathesis.py), loaded with
SCHEMATHESIS_HOOKS=tests.schemathesis_checks.

Schemathesis's `positive_data_acceptance` expects a request the document allows to be
accepted. Some rules are beyond what a schema can say (a component id that exists, an end
after the start): the document names them per operation under `x-rules` and describes them
with the 422. tests/schemathesis.toml lets a 422 through that check, and this one holds it:
a 422 to a request the document allows must name only fields the operation lists there. A
422 about any other field is a constraint the document should have stated.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def rules_beyond_the_schemas_are_documented(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if response.status_code != 422 or meta is None or not meta.generation.mode.is_positive:
        return
    try:
        named = set(json.loads(response.content).get("errors", {}))
    except (ValueError, AttributeError):
        named = set()
    declared = set((case.operation.definition.raw or {}).get("x-rules", {}))
    undeclared = sorted(named - declared)
    if undeclared or not named:
        raise AssertionError(
            "a request valid by the document was refused with a 422 for "
            f"{undeclared or 'no field'} ({response.content[:300]!r}); the operation's "
            f"x-rules are {sorted(declared)}"
        )
