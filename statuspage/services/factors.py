"""Second factors: a TOTP authenticator (RFC 6238) and ten single-use recovery codes.

Admins and CSS staff who sign in with a password need one (`required`): after the password,
a code from their authenticator app, or one of their recovery codes. A code is six digits
for a 30-second step; the step before and the step after are accepted too (a phone's clock
drifts, and typing takes time), but never a step at or before the last one accepted
(`SecondFactor.last_step`), so a code cannot be used twice, nor an older one after it
(RFC 6238, section 5.2). Recovery codes carry 80 random bits each, are shown once, stored as
SHA-256 digests and each is good for one sign-in.

Enrolment is two steps: `begin_totp` makes a secret (shown as a QR code and as text), and
`confirm_totp` takes a code from the app, which proves the app holds it; only then is the
factor in force and the recovery codes are made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import RecoveryCode, SecondFactor, User
from statuspage.models.vocab import P1G_ROLES
from statuspage.services import audit
from statuspage.services.errors import Conflict, PermissionDenied, ValidationError

# The roles that need a second factor when they sign in with a password: those who can
# publish a master case to every customer.
SECOND_FACTOR_ROLES = P1G_ROLES
STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now that are accepted.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Base32 without padding; recovery codes in four groups of four (80 bits).
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

WRONG_CODE = N_("That code is not right, or it was used already. Try the next one.")


def required(user: User) -> bool:
    """Whether `user`'s role needs a second factor after a password."""
    return user.role in SECOND_FACTOR_ROLES


def factor_of(session: Session, user: User) -> SecondFactor | None:
    return session.scalar(select(SecondFactor).where(SecondFactor.user_id == user.id))


def enrolled(session: Session, user: User) -> bool:
    """Whether `user` has a confirmed authenticator."""
    factor = factor_of(session, user)
    return factor is not None and factor.confirmed_at is not None


def _step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code an authenticator holding `secret` shows during `step`."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def fingerprint(factor: SecondFactor) -> str:
    """A short digest naming the secret (what a browser setting it up remembers)."""
    return hashlib.sha256(factor.secret.encode()).hexdigest()[:16]


def provisioning_uri(factor: SecondFactor, account: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(factor.secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def _digits(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def _accept_totp(factor: SecondFactor, code: str, now: datetime) -> bool:
    """Whether `code` is the factor's code for a step near `now` after the last accepted
    one; if so that step becomes the last accepted."""
    typed = _digits(code)
    if len(typed) != DIGITS or not typed.isascii() or not typed.isdigit():
        return False
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if factor.last_step is not None and step <= factor.last_step:
            continue
        if hmac.compare_digest(code_at(factor.secret, step), typed):
            factor.last_step = step
            return True
    return False


def begin_totp(session: Session, user: User, now: datetime) -> SecondFactor:
    """A new, unconfirmed authenticator secret for `user` (replacing an unconfirmed one). A
    confirmed authenticator must be removed first."""
    factor = factor_of(session, user)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict({"code": N_("an authenticator is set up already; remove it first")})
    if factor is None:
        factor = SecondFactor(user_id=user.id, created_at=now)
        session.add(factor)
    factor.secret = pyotp.random_base32(32)
    factor.created_at = now
    factor.last_step = None
    session.flush()
    return factor


def confirm_totp(session: Session, user: User, code: str, now: datetime) -> list[str]:
    """Put `user`'s new authenticator in force when `code` comes from it; returns the ten
    recovery codes (plaintext, shown once). Audited as `factor.enrol`."""
    factor = factor_of(session, user)
    if factor is None or factor.confirmed_at is not None:
        raise Conflict({"code": N_("start setting up an authenticator again")})
    if not _accept_totp(factor, code, now):
        raise ValidationError({"code": WRONG_CODE})
    factor.confirmed_at = now
    codes = _new_recovery_codes(session, user, now)
    audit.record(
        session,
        user,
        "factor.enrol",
        user,
        before=None,
        after={"kind": "totp", "recovery_codes": len(codes)},
        now=now,
    )
    return codes


def enrol_by_operator(session: Session, user: User, now: datetime) -> tuple[str, list[str]]:
    """Set up an authenticator for `user` from the command line (the demo's staff, an
    operator helping someone without a browser at hand): the secret to type into the app,
    and ten recovery codes, both shown once. Replaces whatever `user` had. Audited."""
    remove(session, None, user, now)
    factor = SecondFactor(
        user_id=user.id, secret=pyotp.random_base32(32), created_at=now, confirmed_at=now
    )
    session.add(factor)
    session.flush()
    codes = _new_recovery_codes(session, user, now)
    audit.record(
        session,
        None,
        "factor.enrol",
        user,
        before=None,
        after={"kind": "totp", "recovery_codes": len(codes)},
        now=now,
        label="cli",
    )
    return factor.secret, codes


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        codes.append(code)
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw), created_at=now))
    session.flush()
    return codes


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    """Ten new recovery codes for `user` (the old ones stop working); audited."""
    if not enrolled(session, user):
        raise Conflict({"code": N_("set up an authenticator first")})
    codes = _new_recovery_codes(session, user, now)
    audit.record(
        session,
        user,
        "factor.recovery_codes",
        user,
        before=None,
        after={"recovery_codes": len(codes)},
        now=now,
    )
    return codes


def verify(session: Session, user: User, code: str, now: datetime) -> str | None:
    """Check a code `user` typed after their password: "totp" for a code of their
    authenticator, "recovery" for an unused recovery code (now used up, audited), None for
    anything else (a wrong code, a code used already, no authenticator)."""
    factor = factor_of(session, user)
    if factor is None or factor.confirmed_at is None:
        return None
    if _accept_totp(factor, code, now):
        return "totp"
    raw = _digits(code).upper()
    if len(raw) != 16 or not raw.isascii():
        return None
    found = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(raw),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return None
    found.used_at = now
    audit.record(
        session,
        user,
        "factor.recovery_code_used",
        user,
        before=None,
        after={"recovery_code": found.id},
        now=now,
    )
    return "recovery"


def remove(session: Session, actor: User | None, user: User, now: datetime) -> bool:
    """Remove `user`'s authenticator and recovery codes: the user themself, an admin (a lost
    phone) or the operator (`actor` None). Audited as `factor.remove`; returns whether there
    was one. A role that needs a factor sets up a new one at the next password sign-in."""
    if actor is not None and actor.id != user.id and actor.role != "admin":
        raise PermissionDenied("only admins remove another staff member's authenticator")
    factor = factor_of(session, user)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if factor is None:
        return False
    confirmed = factor.confirmed_at is not None
    session.delete(factor)
    if confirmed:
        audit.record(
            session,
            actor,
            "factor.remove",
            user,
            before={"kind": "totp"},
            after=None,
            now=now,
            label="cli",
        )
    session.flush()
    return confirmed
