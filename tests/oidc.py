"""A real OpenID provider on the loopback for the sign-in tests: node-oidc-provider, started
by `tests/js/oidc_provider.mjs` with the clients, key and accounts a test gives it.

`provider(...)` starts one and stops it after; `Provider.sign_in_redirects` plays the browser
between the app's redirect to the provider and the provider's redirect back to the app
(cookies kept, so a second visit finds the provider's own session, as `prompt=none` needs).
Keys are made here (joserfc), so a test can also sign a token with the provider's key, or
with a key the provider never published.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.processes import stop

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "js" / "oidc_provider.mjs"
MODULE = ROOT / "tests" / "js" / "node_modules" / "oidc-provider"
NODE = shutil.which("node")

CLIENT_ID = "statuspage"
CLIENT_SECRET = "a client secret the test provider knows"
CALLBACK = "http://localhost/login/sso/callback"

MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
    pytest.mark.skipif(
        not MODULE.exists(),
        reason="oidc-provider is not installed: npm ci --prefix tests/js (make test does it)",
    ),
]


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class Provider:
    issuer: str
    key: RSAKey
    process: subprocess.Popen[str]
    browser: requests.Session = field(default_factory=requests.Session)

    def control(self, method: str, path: str, body: dict[str, Any]) -> None:
        answer = requests.request(method, f"{self.issuer}/__test/{path}", json=body, timeout=10)
        answer.raise_for_status()

    def set_claims(self, sub: str, **claims: Any) -> None:
        """From the next token on, the account `sub` has exactly these claims."""
        self.control("PUT", f"accounts/{sub}", claims)

    def login_as(self, sub: str) -> None:
        self.control("POST", "login-as", {"sub": sub})

    def next_id_token(self, id_token: str) -> None:
        """The next token response carries `id_token` instead of the provider's own."""
        self.control("POST", "next-id-token", {"id_token": id_token})

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """An ID token of `claims` signed with `key` (by default the provider's own)."""
        key = key or self.key
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key)

    def follow(self, url: str, *, until: str = CALLBACK) -> str:
        """Play the browser from `url` (the provider's authorization address) through the
        provider's redirects; return the first address that leaves the provider for `until`
        (the app's callback, with its code and state)."""
        for _ in range(10):
            if url.startswith(until):
                return url
            answer = self.browser.get(url, allow_redirects=False, timeout=10)
            location = answer.headers.get("Location")
            assert answer.status_code in (302, 303) and location, (answer.status_code, answer.text)
            url = requests.compat.urljoin(url, location)
        raise AssertionError("the provider never sent the browser back")

    def code_for(self, client_id: str, secret: str, redirect_uri: str, nonce: str) -> str:
        """A genuine ID token of this provider for `client_id` with `nonce`: a whole sign-in
        against it, as another site using the same client would do."""
        verifier = "v" * 50
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        start = requests.Request(
            "GET",
            f"{self.issuer}/auth",
            params={
                "client_id": client_id,
                "response_type": "code",
                "scope": "openid email profile",
                "redirect_uri": redirect_uri,
                "state": "s" * 20,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        ).prepare()
        back = self.follow(str(start.url), until=redirect_uri)
        code = parse_qs(urlsplit(back).query)["code"][0]
        answer = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["id_token"])


def client(redirect_uri: str = CALLBACK) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [redirect_uri],
        "response_types": ["code"],
        "grant_types": ["authorization_code"],
    }


@contextmanager
def provider(
    folder: Path,
    accounts: dict[str, dict[str, Any]],
    *,
    kid: str = "provider-key",
    clients: list[dict[str, Any]] | None = None,
) -> Iterator[Provider]:
    """A running provider with `accounts` (sub -> claims) and this app as its client."""
    key = new_key(kid)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"oidc-{kid}.json"
    path.write_text(
        json.dumps(
            {
                "clients": clients or [client()],
                "jwks": {"keys": [key.as_dict(private=True)]},
                "accounts": accounts,
            }
        )
    )
    assert NODE is not None
    log = folder / f"oidc-{kid}.log"  # the provider's own messages, for a failing test
    with open(log, "w") as errors:
        process = subprocess.Popen(
            [NODE, str(SCRIPT), str(path)],
            cwd=SCRIPT.parent,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "NODE_ENV": "test"},
        )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()  # the provider prints its issuer once it listens
        if not line:
            raise AssertionError(f"the provider did not start: {log.read_text()}")
        yield Provider(json.loads(line)["issuer"], key, process)
    finally:
        stop(process, timeout=10)
        process.stdout.close()
