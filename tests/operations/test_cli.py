"""The command line: init, seed --demo, users create, tokens create (on both backends)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from statuspage import cli
from statuspage.extensions import db as _db
from statuspage.models import AuditEntry, Incident, MaintenanceSeries, Platform, User
from statuspage.seed.defaults import DEFAULT_PLATFORMS
from statuspage.services import factors, staff
from tests.helpers import NOW, csrf_of


@pytest.fixture
def cli_runner(blank_app: Flask) -> FlaskCliRunner:
    return blank_app.test_cli_runner()


@pytest.fixture
def initialised(cli_runner: FlaskCliRunner) -> FlaskCliRunner:
    result = cli_runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    return cli_runner


def count(model: type) -> int:
    _db.session.expire_all()
    return int(_db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_init_twice_migrates_seeds_once_and_succeeds_both_times(cli_runner: FlaskCliRunner):
    first = cli_runner.invoke(args=["init"])
    second = cli_runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "7 default platforms and 3 maintenance series created" in first.output
    assert "0 default platforms and 0 maintenance series created" in second.output
    assert sorted(_db.session.scalars(select(Platform.slug))) == sorted(
        slug for slug, _, _ in DEFAULT_PLATFORMS
    )
    assert count(MaintenanceSeries) == 3


def test_init_refuses_a_connect_anchor_that_is_not_a_tuesday(cli_runner: FlaskCliRunner):
    result = cli_runner.invoke(args=["init", "--connect-anchor", "2026-01-07"])
    assert result.exit_code == 2
    assert "not a Tuesday" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_seed_demo_builds_an_open_and_a_resolved_master_case(initialised: FlaskCliRunner):
    result = initialised.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output

    masters = list(_db.session.scalars(select(Incident).where(Incident.priority == "P1G")))
    open_cases = [i for i in masters if i.is_open]
    resolved_cases = [i for i in masters if not i.is_open]
    assert len(open_cases) == 1 and len(resolved_cases) == 1
    case = open_cases[0]
    assert case.case_number and len(case.customer_case_numbers) >= 2
    assert len(case.platforms) == 2
    times = sorted(u.display_at for u in case.updates)
    assert len(times) >= 4
    assert all(b - a <= timedelta(hours=1) for a, b in zip(times, times[1:], strict=False))
    assert NOW - timedelta(hours=1) < times[-1] <= NOW
    assert not case.is_update_overdue(NOW)
    affected = {ip.platform.slug: ip.platform.status for ip in case.platforms}
    assert all(status != "operational" for status in affected.values())
    assert resolved_cases[0].resolved_at is not None


@pytest.mark.slow
def test_seed_demo_history_is_in_the_past_with_full_timelines(initialised: FlaskCliRunner):
    assert initialised.invoke(args=["seed", "--demo"]).exit_code == 0
    history = list(_db.session.scalars(select(Incident).where(Incident.resolved_at.is_not(None))))
    assert len(history) >= 5
    assert {"P2", "P3", "P4"} <= {i.priority for i in history}
    for incident in history:
        assert NOW - timedelta(days=91) <= incident.started_at < incident.resolved_at <= NOW
        statuses = [u.status for u in sorted(incident.updates, key=lambda u: u.display_at)]
        assert statuses[:4] == ["investigating", "identified", "monitoring", "resolved"] or (
            statuses[0] == "investigating" and "resolved" in statuses
        )
    spread = max(i.started_at for i in history) - min(i.started_at for i in history)
    assert spread > timedelta(days=60)


@pytest.mark.slow
def test_seed_demo_prints_working_staff_logins_once(initialised: FlaskCliRunner):
    result = initialised.invoke(args=["seed", "--demo"])
    logins = re.findall(r"^\s+(admin|css|engineer)\s+(\S+@\S+)\s+(\S+)$", result.output, re.M)
    assert {role for role, _, _ in logins} == {"admin", "css", "engineer"}
    for role, email, password in logins:
        user = staff.authenticate(_db.session, email, password)
        assert user is not None and user.role == role


@pytest.mark.slow
def test_the_demos_admin_signs_in_with_its_password_and_the_printed_authenticator_key(
    initialised: FlaskCliRunner,
):
    """The demo stays usable locally: the admin's and CSS's second factor is an authenticator
    key the demo prints, which any app (or pyotp) turns into the code the sign-in asks for."""
    result = initialised.invoke(args=["seed", "--demo"])
    logins = re.findall(r"^\s+(admin|css|engineer)\s+(\S+@\S+)\s+(\S+)$", result.output, re.M)
    keys = dict(re.findall(r"^\s+key for (\S+@\S+): ([A-Z2-7]{32})$", result.output, re.M))
    assert set(keys) == {email for role, email, _ in logins if role in ("admin", "css")}
    email, password = next((e, p) for role, e, p in logins if role == "admin")
    client = initialised.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_of(page)
    first = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
    assert first.headers["Location"].endswith("/login/code")
    page = client.get("/login/code").get_data(as_text=True)
    token = csrf_of(page)
    code = pyotp.TOTP(keys[email]).at(NOW)
    done = client.post("/login/code", data={"csrf_token": token, "code": code})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")


def test_users_authenticator_prints_a_key_and_codes_once_and_removes_it(
    initialised: FlaskCliRunner,
):
    user = staff.create_user(
        _db.session, None, email="ops@example.com", role="css", password="x" * 12, now=NOW
    )
    _db.session.commit()
    made = initialised.invoke(args=["users", "authenticator", "ops@example.com"])
    assert made.exit_code == 0, made.output
    key = re.search(r"shown only now\): ([A-Z2-7]{32})$", made.output, re.M).group(1)
    codes = re.findall(r"^\s+([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})$", made.output, re.M)
    assert len(codes) == 10
    assert factors.verify(_db.session, user, pyotp.TOTP(key).at(NOW), NOW) == "totp"
    removed = initialised.invoke(args=["users", "authenticator", "ops@example.com", "--remove"])
    assert removed.exit_code == 0 and "Removed" in removed.output
    _db.session.expire_all()
    assert not factors.enrolled(_db.session, user)
    assert count(AuditEntry) >= 3  # user, enrolment, removal


@pytest.mark.slow
def test_seed_demo_refuses_a_second_time_and_writes_nothing(initialised: FlaskCliRunner):
    assert initialised.invoke(args=["seed", "--demo"]).exit_code == 0
    before = (count(Incident), count(User), count(AuditEntry))
    again = initialised.invoke(args=["seed", "--demo"])
    assert again.exit_code == 1
    assert "already holds staff or incidents" in again.output
    assert "Traceback" not in again.output
    quiet = initialised.invoke(args=["seed", "--demo", "--if-empty"])
    assert quiet.exit_code == 0
    assert "was not seeded" in quiet.output
    assert (count(Incident), count(User), count(AuditEntry)) == before


def test_commands_before_init_say_to_run_init(cli_runner: FlaskCliRunner):
    for args in (
        ["seed", "--demo"],
        ["users", "create", "a@example.com", "--role", "css"],
        ["tokens", "create", "a@example.com"],
    ):
        result = cli_runner.invoke(args=args)
        assert result.exit_code == 1, args
        assert "flask --app statuspage init" in result.output
        assert "Traceback" not in result.output


def test_users_create_with_a_password_makes_a_working_login(initialised: FlaskCliRunner):
    result = initialised.invoke(
        args=[
            "users",
            "create",
            "Ops@Example.com",
            "--role",
            "css",
            "--password",
            "a long enough secret",
            "--name",
            "On duty",
        ]
    )
    assert result.exit_code == 0, result.output
    user = staff.authenticate(_db.session, "ops@example.com", "a long enough secret")
    assert user is not None and user.role == "css" and user.name == "On duty"


def test_users_create_without_a_terminal_generates_and_prints_a_password(
    initialised: FlaskCliRunner,
):
    result = initialised.invoke(args=["users", "create", "eng@example.com", "--role", "engineer"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert len(password) >= 20
    assert staff.authenticate(_db.session, "eng@example.com", password) is not None


def test_users_create_on_a_terminal_asks_for_the_password_twice(
    initialised: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    result = initialised.invoke(
        args=["users", "create", "tty@example.com", "--role", "admin"],
        input="typed at a terminal\ntyped at a terminal\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "Generated password" not in result.output
    assert staff.authenticate(_db.session, "tty@example.com", "typed at a terminal") is not None


GOOD = "long enough pw"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dup@example.com", "--role", "css", "--password", GOOD], "email: a user with this"),
        (["new@example.com", "--role", "boss", "--password", GOOD], "role: must be one of"),
        (["new@example.com", "--role", "css", "--password", "short"], "password: must be at"),
        (["not-an-address", "--role", "css", "--password", GOOD], "email: "),
    ],
)
def test_users_create_with_bad_input_explains_and_writes_nothing(
    initialised: FlaskCliRunner, args: list[str], message: str
):
    staff.create_user(
        _db.session, None, email="dup@example.com", role="css", password="x" * 12, now=NOW
    )
    _db.session.commit()
    before = (count(User), count(AuditEntry))
    result = initialised.invoke(args=["users", "create", *args])
    assert result.exit_code == 1, result.output
    assert "the user was not created" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert (count(User), count(AuditEntry)) == before


def test_tokens_create_prints_a_token_that_authenticates_as_its_last_line(
    initialised: FlaskCliRunner,
):
    staff.create_user(
        _db.session, None, email="bot@example.com", role="engineer", password="x" * 12, now=NOW
    )
    _db.session.commit()
    result = initialised.invoke(args=["tokens", "create", "bot@example.com", "--name", "monitor"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    user = staff.authenticate_token(_db.session, token, NOW)
    assert user is not None and user.email == "bot@example.com"


def test_tokens_create_for_an_unknown_address_fails_without_a_token(
    initialised: FlaskCliRunner,
):
    result = initialised.invoke(args=["tokens", "create", "nobody@example.com"])
    assert result.exit_code == 1
    assert "no staff member has the address" in result.output
    assert "sp_" not in result.output
