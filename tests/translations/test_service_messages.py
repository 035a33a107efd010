"""The rules' messages reach a form in the reader's language: every message a service gives
is a catalog template (marked with `N_`, its values as parameters), never text built in place."""

from __future__ import annotations

import ast

import pytest
from flask_babel import force_locale

from statuspage.i18n import N_
from statuspage.services.errors import Errors, Message
from statuspage.views.helpers import worded
from tests.helpers import PROJECT_ROOT

SERVICES = PROJECT_ROOT / "statuspage" / "services"


def _is_marked(node: ast.expr) -> bool:
    """`N_("...")` or a `Message`; a value passed through (a variable, another module's
    error text) is checked where it is made. A literal or an f-string is not."""
    return not isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp)


def _unmarked_messages() -> list[str]:
    found = []
    for path in sorted(SERVICES.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "add" and len(node.args) >= 2:
                message = node.args[1]
            elif isinstance(func, ast.Name) and func.id == "ValidationError" and node.args:
                arg = node.args[0]
                if not isinstance(arg, ast.Dict):
                    continue
                bad = [v for v in arg.values if v is not None and not _is_marked(v)]
                found += [f"{path.name}:{v.lineno}" for v in bad]
                continue
            else:
                continue
            if not _is_marked(message):
                found.append(f"{path.name}:{message.lineno}")
    return found


def test_every_service_message_is_a_catalog_template() -> None:
    assert _unmarked_messages() == []


def test_a_message_is_english_text_with_its_template_kept() -> None:
    errors = Errors()
    errors.add("title", N_("must be at most %(max)d characters"), max=200)
    message = errors.errors["title"]
    assert message == "must be at most 200 characters"
    assert isinstance(message, Message)
    assert message.template == "must be at most %(max)d characters"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "como máximo 200 caracteres"), ("de", "höchstens 200 Zeichen")],
)
def test_a_form_shows_the_message_in_the_readers_language(
    app, language: str, expected: str
) -> None:
    message = Message(N_("must be at most %(max)d characters"), max=200)
    with app.test_request_context("/"), force_locale(language):
        assert expected in worded(message)
