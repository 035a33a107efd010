"""The API contract, declared once: request and response shapes of the Manage API v1 and the
public API v2 (docs/api.md says why pydantic).

- `requests`: the bodies and query strings clients send, as pydantic models. Validating a
  request and documenting it are the same declaration.
- `responses`: the objects the APIs answer with, as typed dicts (Statuspage's shapes). The
  serializers build them; pydantic turns the same declarations into JSON Schema.
- `operations`: `@operation(...)` binds a view to its request and response shapes; it
  validates the request (field errors as a JSON 422) and is what `statuspage.contract.openapi` reads
  to generate /api/openapi.json.

Shapes and types only: rules about the data (who may do what, which window may move) stay in
`statuspage.services`.
"""
