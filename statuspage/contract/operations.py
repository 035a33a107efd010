"""`@operation`: a view's request and response shapes, declared where the view is.

The decorator validates the JSON body and the query string against the declared models and
hands the view the parsed values (`body=`, `query=`); a mistake becomes one domain
`ValidationError` (field -> message), answered as a JSON 422 before anything is written.
`statuspage.contract.openapi` reads the same declaration (`view.contract_operation`) to write the
document, so what is checked and what is documented cannot drift apart.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import annotated_types
import pydantic
from flask import request
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from statuspage.contract import requests
from statuspage.services.errors import Errors, ValidationError

# The attribute a declared view carries (kept by functools.wraps on outer decorators).
ATTRIBUTE = "contract_operation"
# Set by the Manage API's token check to the token scope the operation needs
# (`Authorization: OAuth <token>` of a token with that scope).
SECURED = "requires_token"
# The deepest nesting of arrays and objects a JSON body may have (the deepest declared field,
# `metadata.network_status.customer_case_numbers`, is at level 5).
JSON_DEPTH_MAX = 32
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


@dataclass
class Operation:
    """One API operation's contract. `response` is any type pydantic can describe (a typed
    dict, a list of them, a union); `body` and `query` are models that validate."""

    summary: str
    response: Any
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    example: dict[str, Any] | None = None
    description: str = ""
    errors: dict[int, str] = field(default_factory=dict)
    # The rules beyond the schemas (field -> the rule in words): what a request the schemas
    # accept may still be refused for with a 422 naming that field, e.g. an unknown component
    # id or an end before the start. Documented with the 422, and as `x-rules`.
    rules: dict[str, str] = field(default_factory=dict)


def operation(
    summary: str,
    response: Any,
    *,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    example: dict[str, Any] | None = None,
    description: str = "",
    errors: dict[int, str] | None = None,
    rules: dict[str, str] | None = None,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Declare a view's contract; validate its body and query string on every request.
    The view is called with `body=`/`query=` added to its arguments, so the one it becomes
    takes its other arguments only (`...`: a ParamSpec cannot drop keyword arguments)."""
    declared = Operation(
        summary, response, status, body, query, example, description, errors or {}, rules or {}
    )

    def decorate(view: Callable[..., R]) -> Callable[..., R]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> R:
            # Read at request time: the declaration is the one the document shows.
            if declared.body is not None:
                kwargs["body"] = parse_body(declared.body, json_body(declared.body))
            if declared.query is not None:
                kwargs["query"] = parse(declared.query, request.args.to_dict())
            return view(*args, **kwargs)

        setattr(wrapped, ATTRIBUTE, declared)
        return wrapped

    return decorate


def json_body(model: type[BaseModel]) -> Any:
    """The request's JSON, or None when it is not JSON. A body nested deeper than
    `JSON_DEPTH_MAX` is refused before it is parsed: the parser recurses once per level, and
    no body of this API nests a tenth as deep (`[[[[...` would otherwise exhaust the stack)."""
    if not request.is_json:
        return None
    if nests_deeper(request.get_data(cache=True), JSON_DEPTH_MAX):
        [wrapper] = model.model_fields
        raise ValidationError(
            {wrapper: f"the JSON nests deeper than {JSON_DEPTH_MAX} levels of arrays and objects"}
        )
    return request.get_json(silent=True)


def nests_deeper(raw: bytes, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest more than `limit` levels deep
    (brackets inside strings do not count). Linear in the text, no recursion, and it stops at
    the first level too deep; malformed text is the parser's to refuse."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the usual body: too few brackets to nest that deep
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def parse(model: type[M], data: Any) -> M:
    """`data` as `model`, or a ValidationError naming each field that is wrong."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = Errors()
        for error in exc.errors():
            key, info = field_key(model, error["loc"])
            errors.add(key or "__all__", message(error, info))
        errors.raise_if_any()
        raise  # pragma: no cover - every pydantic error names at least one message


def parse_body(model: type[M], data: Any) -> M:
    """A wrapped body (`{"incident": {...}}`): a missing or malformed wrapper is reported
    under the wrapper's name, and field errors under the field's own name, as Statuspage
    clients know them (`name`, `metadata.network_status`)."""
    [wrapper] = model.model_fields
    if not isinstance(data, dict) or not isinstance(data.get(wrapper), dict):
        raise ValidationError({wrapper: f'send a JSON object {{"{wrapper}": {{...}}}}'})
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        inner = _model_of(model.model_fields[wrapper].annotation)
        errors = Errors()
        for error in exc.errors():
            loc = error["loc"][1:]
            key, info = field_key(inner, loc) if inner is not None else ("", None)
            errors.add(key or wrapper, message(error, info))
        errors.raise_if_any()
        raise  # pragma: no cover


def field_key(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> tuple[str, FieldInfo | None]:
    """The dotted name of the declared field an error is about: list positions, map keys and
    unknown names are left out, so `component_ids[3]` is reported as `component_ids`."""
    names: list[str] = []
    info: FieldInfo | None = None
    current = model
    for part in loc:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            break
        names.append(part)
        info = current.model_fields[part]
        current = _model_of(info.annotation)
    return ".".join(names), info


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside `Model`, `Model | None` or `Annotated[Model, ...]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _bounds(info: FieldInfo | None) -> tuple[Any, Any]:
    low = high = None
    for item in info.metadata if info is not None else []:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
    return low, high


# A pattern's mismatch in words (the patterns themselves are in the document).
PATTERN_WORDS = {
    requests.LINE_PATTERN: "must be one line, without control characters",
    requests.TITLE_PATTERN: "must be one line with more than spaces, without control characters",
    requests.TEXT_PATTERN: "must not contain control characters",
    requests.CASE_PATTERN: "must be letters, digits, '.', '_', '/' or '-', up to 64",
    requests.CASES_PATTERN: "must be at most 100 case numbers (letters, digits, '.', '_', "
    "'/' or '-', up to 64 each) between commas, semicolons or spaces",
    requests.ENDPOINT_PATTERN: "must be an https URL of a host, without a user name, password, "
    "fragment or spaces",
}

WHOLE_NUMBER = (
    "int_type",
    "int_parsing",
    "int_from_float",
    "greater_than_equal",
    "less_than_equal",
)


def message(error: Any, info: FieldInfo | None) -> str:
    """A field error in the words the API has always used."""
    kind, ctx = error["type"], error.get("ctx") or {}
    low, high = _bounds(info)
    if kind == "extra_forbidden":
        holder = _model_of(info.annotation) if info is not None else None
        known = ", ".join(holder.model_fields) if holder is not None else ""
        return f"unknown field {str(error['loc'][-1])[:40]!r}; known: {known}"
    if kind in WHOLE_NUMBER:
        if low is not None and high is not None:
            return f"must be a whole number from {low} to {high}"
        return "must be a whole number"
    words = {
        "missing": "is required",
        "string_type": "must be a string",
        "bool_type": "must be true or false",
        "list_type": "must be a list",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "timezone_aware": "needs a time zone offset",
        "datetime_type": "must be an ISO 8601 date-time",
        "datetime_parsing": "must be an ISO 8601 date-time",
        "datetime_from_date_parsing": "must be an ISO 8601 date-time",
        "string_unicode": "must not contain an unpaired surrogate",
        "none_required": "is not offered here: leave it out",
    }
    if kind in words:
        return words[kind]
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(ctx.get("pattern")), "is not in the form this field takes")
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} (none is not a choice)"
    return str(error["msg"])
