"""Single sign-on against a real OpenID provider on the loopback (node-oidc-provider, started
by tests/oidc.py): sign-in, the role from the claims, no role no access, and every way an
answer can be forged or replayed, refused with nobody signed in.

The test plays the browser: the Flask test client for this app, `Provider.follow` for the
provider's side (its cookies kept, so a second visit finds the provider's own sign-in, as a
silent re-check needs). The app's settings are Entra ID's shape: app roles in the `roles`
claim, mapped by OIDC_ROLE_MAP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import select

from statuspage.models import AuditEntry, StaffSession, User
from statuspage.services import staff
from tests import oidc
from tests.helpers import NOW, forget_request_state, make_user

pytestmark = oidc.MARKS

ROLE_MAP = {
    "StatusPage.Admin": "admin",
    "StatusPage.CSS": "css",
    "StatusPage.Engineer": "engineer",
}
ANN = {"email": "ann@example.com", "name": "Ann Operator", "roles": ["StatusPage.CSS"]}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oidc.Provider]:
    with oidc.provider(tmp_path_factory.mktemp("idp"), {"ann": ANN}) as running:
        yield running


@pytest.fixture(scope="module")
def other_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oidc.Provider]:
    """Another issuer, with keys of its own, where the same client is registered."""
    folder = tmp_path_factory.mktemp("other-idp")
    with oidc.provider(folder, {"ann": ANN}, kid="other-key") as running:
        yield running


@pytest.fixture
def idp(app: Any, provider: oidc.Provider) -> oidc.Provider:
    """The provider, this app set up to use it, and a browser with no cookies of it yet."""
    provider.browser = requests.Session()
    provider.set_claims("ann", **ANN)
    provider.login_as("ann")
    app.config.update(
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=oidc.CLIENT_ID,
        OIDC_CLIENT_SECRET=oidc.CLIENT_SECRET,
        OIDC_ROLE_CLAIM="roles",
        OIDC_ROLE_MAP=ROLE_MAP,
    )
    return provider


def sign_in(client: Any, idp: oidc.Provider, tamper: Callable[[str], str] | None = None) -> Any:
    """A whole directory sign-in: the app's redirect, the provider, the callback."""
    forget_request_state()
    start = client.get("/login/sso?next=/admin/maintenance")
    assert start.status_code == 302, start.status_code
    url = start.headers["Location"]
    assert url.startswith(idp.issuer)
    callback = idp.follow(tamper(url) if tamper else url)
    forget_request_state()
    return client.get(callback)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**query_of(url), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def console(client: Any) -> int:
    forget_request_state()
    return int(client.get("/admin/").status_code)


def nobody_signed_in(db: Any, client: Any) -> bool:
    db.expire_all()
    return console(client) == 302 and db.scalar(select(StaffSession.id)) is None


def failures(db: Any) -> list[dict[str, Any]]:
    db.expire_all()
    rows = db.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in.failure")).all()
    return [row.after or {} for row in rows]


# --- signing in ---------------------------------------------------------------------------


def test_a_first_directory_sign_in_creates_the_staff_member_with_the_mapped_role(client, db, idp):
    response = sign_in(client, idp)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/maintenance")
    assert console(client) == 200
    user = db.scalar(select(User).where(User.email == "ann@example.com"))
    assert user.role == "css" and user.name == "Ann Operator"
    assert user.sso_issuer == idp.issuer and user.sso_subject == "ann"
    assert user.password_hash is None
    row = db.scalar(select(StaffSession))
    assert row.method == "sso" and row.user_id == user.id and row.directory_checked_at == NOW
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert {"user.create", "user.link", "sign_in"} <= set(actions)


def test_the_role_follows_the_directory_at_every_sign_in(app, client, db, idp):
    sign_in(client, idp)
    user = db.scalar(select(User).where(User.email == "ann@example.com"))
    plaintext, _ = staff.create_token(db, None, user, name="made as css", now=NOW)
    db.commit()
    idp.set_claims("ann", **{**ANN, "roles": ["StatusPage.Engineer", "StatusPage.Admin"]})
    again = app.test_client()
    assert sign_in(again, idp).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).role == "admin"  # the strongest role the claims give
    assert staff.authenticate_token(db, plaintext, NOW) is None  # made under the old role
    assert console(client) == 302  # the session signed in as css ended with the role
    assert console(again) == 200


def test_roles_can_come_from_the_groups_claim(app, client, db, idp):
    app.config.update(OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP={"0b5e-ops-engineers": "engineer"})
    idp.set_claims("ann", email="ann@example.com", groups=["0b5e-ops-engineers", "all-staff"])
    assert sign_in(client, idp).status_code == 302
    assert db.scalar(select(User.role).where(User.email == "ann@example.com")) == "engineer"


def test_no_matching_role_means_no_access_on_a_translated_page(client, db, idp):
    idp.set_claims("ann", email="ann@example.com", roles=["Someone.Else"])
    client.get("/login?lang=es")  # the language the staff member chose
    response = sign_in(client, idp)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Sin acceso" in page and "ningún rol" in page
    assert nobody_signed_in(db, client)
    assert db.scalar(select(User.id)) is None  # no account made for a stranger
    assert failures(db)[-1]["reason"] == "no_role"


def test_an_account_made_by_hand_is_tied_to_the_directory_and_then_signs_in_only_there(
    app, client, db, idp
):
    made = make_user(db, "engineer", "ann@example.com")
    assert sign_in(client, idp).status_code == 302
    db.expire_all()
    tied = db.get(User, made.id)
    assert tied.sso_subject == "ann" and tied.role == "css"
    # Its password no longer signs in: the directory decides who this is and what role.
    assert staff.authenticate(db, "ann@example.com", "correct horse battery") is not None
    from statuspage.security import policy

    with app.test_request_context():
        assert not policy().password_allowed(tied)


def test_a_break_glass_admin_never_signs_in_through_the_directory(app, client, db, idp):
    make_user(db, "admin", "ann@example.com")
    app.config["BREAK_GLASS_ADMINS"] = ["Ann@Example.com"]
    idp.set_claims("ann", **{**ANN, "roles": ["StatusPage.Engineer"]})
    response = sign_in(client, idp)
    assert response.status_code == 403
    db.expire_all()
    user = db.scalar(select(User).where(User.email == "ann@example.com"))
    assert user.role == "admin" and user.sso_subject is None  # untouched by the directory
    assert failures(db)[-1]["reason"] == "break_glass"


# --- answers that must be refused ----------------------------------------------------------


def test_a_tampered_state_is_refused_and_signs_nobody_in(client, db, idp):
    start = client.get("/login/sso")
    callback = idp.follow(start.headers["Location"])
    forged = with_query(callback, state=query_of(callback)["state"][:-2] + "xx")
    response = client.get(forged)
    assert response.status_code == 401
    assert nobody_signed_in(db, client)
    assert failures(db)[-1]["reason"] == "state"


def test_a_replayed_code_is_refused(app, client, db, idp):
    start = client.get("/login/sso")
    callback = idp.follow(start.headers["Location"])
    assert client.get(callback).status_code == 302  # the genuine sign-in
    # The same answer again: its state was used up.
    replay = app.test_client()
    assert replay.get(callback).status_code == 401
    # The code under a state of its own: the provider has spent the code.
    begun = replay.get("/login/sso").headers["Location"]
    own_state = query_of(begun)["state"]
    forget_request_state()
    response = replay.get(with_query(callback, state=own_state))
    assert response.status_code == 401
    assert console(replay) == 302
    assert [f["reason"] for f in failures(db)] == ["state", "invalid_grant"]


def test_an_id_token_with_another_nonce_is_refused(client, db, idp):
    response = sign_in(client, idp, lambda url: with_query(url, nonce="not-the-apps-nonce"))
    assert response.status_code == 401
    assert nobody_signed_in(db, client)
    assert failures(db)[-1]["reason"] == "id_token"


def _claims(idp: oidc.Provider, url: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": idp.issuer,
        "sub": "ann",
        "aud": oidc.CLIENT_ID,
        "iat": now,
        "exp": now + 600,
        "nonce": query_of(url)["nonce"],
        **ANN,
    }
    claims.update(changes)
    return claims


def _with_id_token(client: Any, idp: oidc.Provider, forge: Callable[[str], str]) -> Any:
    """A sign-in whose token response carries the ID token `forge` makes (from the app's
    authorization request) instead of the provider's own."""
    forget_request_state()
    url = client.get("/login/sso").headers["Location"]
    idp.next_id_token(forge(url))
    callback = idp.follow(url)
    forget_request_state()
    return client.get(callback)


def test_an_id_token_from_another_issuer_is_refused(client, db, idp, other_provider):
    """A genuine ID token of another provider, for this client and with the right nonce."""

    def foreign(url: str) -> str:
        other_provider.browser = requests.Session()
        return other_provider.code_for(
            oidc.CLIENT_ID, oidc.CLIENT_SECRET, oidc.CALLBACK, query_of(url)["nonce"]
        )

    response = _with_id_token(client, idp, foreign)
    assert response.status_code == 401
    assert nobody_signed_in(db, client)
    assert failures(db)[-1]["reason"] == "id_token"


def test_an_id_token_naming_another_issuer_is_refused_even_with_the_providers_key(
    client, db, idp, other_provider
):
    response = _with_id_token(
        client, idp, lambda url: idp.sign(_claims(idp, url, iss=other_provider.issuer))
    )
    assert response.status_code == 401 and nobody_signed_in(db, client)


def test_an_id_token_signed_by_a_key_the_provider_never_published_is_refused(client, db, idp):
    stranger = oidc.new_key(idp.key.kid)  # even under the provider's key id
    response = _with_id_token(client, idp, lambda url: idp.sign(_claims(idp, url), stranger))
    assert response.status_code == 401 and nobody_signed_in(db, client)


def test_an_id_token_for_another_client_is_refused(client, db, idp):
    response = _with_id_token(
        client, idp, lambda url: idp.sign(_claims(idp, url, aud="another-client"))
    )
    assert response.status_code == 401 and nobody_signed_in(db, client)


def test_a_well_made_forged_token_would_pass_so_the_refusals_above_are_the_checks(client, db, idp):
    """The control for the four tests above: the same forgery with nothing wrong in it
    (the provider's key, issuer, audience and nonce) signs in."""
    response = _with_id_token(client, idp, lambda url: idp.sign(_claims(idp, url)))
    assert response.status_code == 302 and console(client) == 200


def test_a_discovery_document_naming_another_issuer_is_refused(app, client, db, idp):
    app.config["OIDC_ISSUER"] = idp.issuer.replace("127.0.0.1", "localhost")
    response = client.get("/login/sso")
    assert response.status_code == 503 and "Location" not in response.headers
    assert "could not be completed" in response.get_data(as_text=True)


# --- the directory, again, within the re-check setting ------------------------------------


def test_a_role_removed_at_the_provider_takes_effect_within_the_setting(app, client, db, idp):
    sign_in(client, idp)
    user = db.scalar(select(User).where(User.email == "ann@example.com"))
    plaintext, _ = staff.create_token(db, None, user, name="automation", now=NOW)
    db.commit()
    idp.set_claims("ann", email="ann@example.com", roles=[])  # removed from the app role
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=59)
    assert console(client) == 200  # within the hour the session stands
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=60)
    forget_request_state()
    asked = client.get("/admin/incidents/new")
    assert asked.status_code == 302 and "/login/sso?silent=1" in asked.headers["Location"]
    forget_request_state()
    to_provider = client.get(asked.headers["Location"])
    assert query_of(to_provider.headers["Location"])["prompt"] == "none"
    callback = idp.follow(to_provider.headers["Location"])  # no page: the provider's sign-in
    forget_request_state()
    answer = client.get(callback)
    assert answer.status_code == 403
    db.expire_all()
    assert console(client) == 302
    assert db.get(User, user.id).active is False
    assert staff.authenticate_token(db, plaintext, NOW + timedelta(minutes=60)) is None
    assert db.scalar(select(StaffSession.ended_reason)) == "no role in the directory"
    # Given the role again, the directory's next sign-in opens the account again.
    idp.set_claims("ann", **ANN)
    assert sign_in(app.test_client(), idp).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).active is True


def test_the_silent_recheck_keeps_the_session_while_the_role_holds(app, client, db, idp):
    sign_in(client, idp)
    session_id = db.scalar(select(StaffSession.id))
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=61)
    forget_request_state()
    asked = client.get("/admin/maintenance")
    callback = idp.follow(client.get(asked.headers["Location"]).headers["Location"])
    forget_request_state()
    back = client.get(callback)
    assert back.status_code == 302 and back.headers["Location"].endswith("/admin/maintenance")
    assert console(client) == 200
    db.expire_all()
    row = db.get(StaffSession, session_id)
    assert row.ended_at is None and row.directory_checked_at == NOW + timedelta(minutes=61)


def test_when_the_providers_own_sign_in_is_gone_the_recheck_asks_to_sign_in_there(
    app, client, db, idp
):
    sign_in(client, idp)
    idp.browser = requests.Session()  # the provider's cookie is gone
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=61)
    forget_request_state()
    asked = client.get("/admin/")
    to_provider = client.get(asked.headers["Location"]).headers["Location"]
    callback = idp.follow(to_provider)
    assert query_of(callback)["error"] == "login_required"
    forget_request_state()
    again = client.get(callback)
    assert again.status_code == 302 and "/login/sso" in again.headers["Location"]
    assert "silent" not in again.headers["Location"]
    assert console(client) == 302
