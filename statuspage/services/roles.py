"""Who may do what: the role matrix the incident, platform and maintenance services consult.

One table, so the staff forms, the Manage API and the command line get the same answer
from the same place (the forms and the API never check a role of their own beyond hiding
what a role may not do). The roles are those of `models.vocab`: `admin`, `css`, `engineer`.

Master cases are CSS's (SPEC sections 2 and 7): only `css` and `admin` change anything
about one, whatever the path: its title, impact, priority (designating or removing P1G),
case numbers, status, platforms and their statuses, its timeline (updates, resolution) and
its existence (opening one, deleting one). An engineer reads a master case and may not post
to it, not even a plain text update: every entry is the case's hourly update, resets its
overdue clock and notifies its subscribers, so it is the CSS on duty's to post. An engineer
opens and changes ordinary incidents, and may not change the status of a platform an open
master case holds through one of them (`platforms.check_incident_change`).

`actor` None is the operator at the command line or a job: trusted, as everywhere else.
"""

from __future__ import annotations

from statuspage.i18n import N_
from statuspage.models import User
from statuspage.models.vocab import CSS_ROLES, STAFF_ROLES
from statuspage.services.errors import Message, PermissionDenied

STAFF = STAFF_ROLES  # every role: what the table below leaves open
CSS = CSS_ROLES
ADMIN = frozenset({"admin"})

# action -> the roles that may do it, and the message refusing everyone else. What is not
# here is any staff member's: opening and changing ordinary incidents, managing windows.
MATRIX: dict[str, tuple[frozenset[str], str]] = {
    "master_case.open": (CSS, N_("only CSS staff may open a master case (P1G)")),
    "master_case.designate": (CSS, N_("only CSS staff may designate a master case (P1G)")),
    "master_case.remove": (CSS, N_("only CSS staff may remove a master case (P1G)")),
    "master_case.change": (
        CSS,
        N_(
            "only CSS staff may change a master case (P1G): its title, impact, case numbers, "
            "status, platforms and updates"
        ),
    ),
    "master_case.delete": (CSS, N_("only CSS staff may delete a master case (P1G)")),
    "platform.held_status": (
        CSS,
        N_("%(platform)s is held by master case #%(case)s; only CSS staff may change its status"),
    ),
    "platform.edit": (ADMIN, N_("only admins edit platforms")),
    "series.save": (ADMIN, N_("only admins create or edit maintenance series")),
}


def may(actor: User | None, action: str) -> bool:
    """Whether `actor` may do `action` (the operator, `None`, may do anything)."""
    allowed, _message = MATRIX[action]
    return actor is None or actor.role in allowed


def refusal(action: str, **params: object) -> PermissionDenied:
    """The error refusing `action`, its message's `params` filled in (worded at the edge in
    the reader's language)."""
    return PermissionDenied(Message(MATRIX[action][1], **params))


def require(actor: User | None, action: str, **params: object) -> None:
    """Refuse `actor` unless they may do `action`."""
    if not may(actor, action):
        raise refusal(action, **params)


def allowed_roles(action: str) -> frozenset[str]:
    """The roles that may do `action` (for the README's table and the tests)."""
    return MATRIX[action][0]
