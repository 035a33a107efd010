"""OpenID Connect with Authlib: the authorization code flow with PKCE (S256), `state` and
`nonce`, and the ID token verified before anything of it is believed.

- The provider is found by discovery (OIDC_ISSUER + `/.well-known/openid-configuration`);
  the document must name that very issuer (OpenID Connect Discovery, section 4.3).
- `start` keeps the state, the nonce and the PKCE verifier in this browser's session (signed
  cookie) and sends the browser to the provider; `prompt=none` for a silent re-check.
- `finish` takes the provider's answer: the `state` must be one this browser was given (a
  tampered or replayed one is refused) and is used up; an `iss` parameter (RFC 9207) must
  name the issuer; the code is exchanged once, with the verifier, at the token endpoint;
  the ID token must be signed by a key of the provider's JWKS, name the issuer and this
  client as its audience, carry the nonce, and be within its lifetime. Only then are its
  claims handed to `services.directory`.

The client is built from the settings on first use and kept per app (per settings), with the
provider's metadata and keys; a key id the provider does not publish makes Authlib fetch the
keys once more (a rotated key), then refuses.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app, request
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

EXTENSION = "statuspage.sso"


class SignInError(Exception):
    """The directory's answer was refused or could not be had: `reason` is the provider's
    error code (`login_required`, `access_denied`...) or one of ours: `state` (unknown or
    used state), `issuer` (discovery or `iss` naming another issuer), `id_token` (missing,
    or failing verification), `unreachable` (the provider did not answer)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def configured() -> bool:
    config = current_app.config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def issuer() -> str:
    return str(current_app.config["OIDC_ISSUER"]).rstrip("/")


def _client() -> Any:
    config = current_app.config
    settings = (
        issuer(),
        str(config["OIDC_CLIENT_ID"]),
        str(config.get("OIDC_CLIENT_SECRET") or ""),
        str(config.get("OIDC_SCOPES") or "openid"),
        float(config.get("OIDC_TIMEOUT") or 10),
    )
    kept = current_app.extensions.get(EXTENSION)
    if kept is not None and kept[0] == settings:
        return kept[1]
    name, client_id, secret, scopes, timeout = settings
    oauth = OAuth()
    oauth.app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = oauth.register(  # type: ignore[no-untyped-call]  # the stubs leave it unannotated
        "directory",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=f"{name}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            "default_timeout": timeout,
        },
    )
    current_app.extensions[EXTENSION] = (settings, client)
    return client


def _metadata(client: Any) -> dict[str, Any]:
    try:
        metadata: dict[str, Any] = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SignInError("unreachable", str(exc)) from None
    if str(metadata.get("issuer", "")).rstrip("/") != issuer():
        current_app.extensions.pop(EXTENSION, None)
        raise SignInError("issuer", f"the discovery document names {metadata.get('issuer')!r}")
    return metadata


def start(redirect_uri: str, *, silent: bool = False) -> Response:
    """Send the browser to the provider to sign in (`silent`: `prompt=none`, no page shown;
    the provider answers `login_required` when its own sign-in is gone)."""
    client = _client()
    _metadata(client)
    extra = {"prompt": "none"} if silent else {}
    response: Response = client.authorize_redirect(redirect_uri, **extra)
    return response


def finish() -> dict[str, Any]:
    """The verified claims of the ID token the provider's answer to this browser leads to;
    SignInError when anything about it is wrong."""
    client = _client()
    metadata = _metadata(client)
    if "error" in request.args:
        raise SignInError(str(request.args["error"])[:64])
    returned = request.args.get("iss")
    if returned is not None and returned.rstrip("/") != issuer():
        raise SignInError("issuer", "the answer names another issuer")
    try:
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": client.client_id},
            }
        )
    except OAuthError as exc:
        reason = "state" if exc.error == "mismatching_state" else str(exc.error or "token")
        raise SignInError(reason[:64], str(exc.description or "")) from None
    except JoseError as exc:
        raise SignInError("id_token", str(exc)) from None
    except requests.RequestException as exc:
        raise SignInError("unreachable", str(exc)) from None
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise SignInError("id_token", "the provider sent no ID token")
    return dict(claims)
