"""Notices as the channels carry them, for the tests of several folders: a payload of each
kind as the mail renderer takes it, and the text a reader sees in a Teams or Slack card."""

from __future__ import annotations

from typing import Any

WINDOW = {
    "id": 7,
    "title": "Monthly scheduled maintenance",
    "starts_at": "2027-07-17T04:00:00+00:00",
    "ends_at": "2027-07-17T10:00:00+00:00",
    "previous_starts_at": "2027-07-10T04:00:00+00:00",
    "previous_ends_at": "2027-07-10T10:00:00+00:00",
    "platforms": ["Cisco", "Contact Centre"],
    "description": "Patching <script>alert(1)</script>",
    "justification": "Security fixes",
    "urgency": "",
    "note": "",
    "release_notes": "Added **call parking**",
    "url": "https://s/maintenance/7",
    "impact": "maintenance",
    "unscheduled": False,
}
INCIDENT = {
    "incident": {
        "id": 1,
        "title": "Calls failing",
        "priority": "P1G",
        "is_master_case": True,
        "case_number": "CS-9",
        "impact": "critical",
        "status": "identified",
        "url": "https://s/incidents/1",
    },
    "update": {
        "id": 3,
        "status": "identified",
        "body": "Carrier **fault**",
        "at": "2027-01-15T18:00:00+00:00",
    },
    "platforms": ["Cisco"],
}


def payload(kind: str) -> dict:
    if kind.startswith("incident"):
        return {"kind": kind, **INCIDENT}
    if kind.startswith("maintenance"):
        return {"kind": kind, "window": WINDOW}
    if kind == "subscription_confirm":
        return {
            "kind": kind,
            "confirm_url": "https://s/c/x",
            "platforms": ["Cisco"],
            "incident_title": None,
        }
    return {"kind": kind, "incident": INCIDENT["incident"], "due_at": "2027-01-15T19:00:00+00:00"}


def teams_text(message: dict[str, Any]) -> str:
    card = message["attachments"][0]["content"]
    return "\n".join(run["text"] for b in card["body"] for run in b["inlines"])


def slack_text(message: dict[str, Any]) -> str:
    parts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [
            e.get("text", "") if isinstance(e.get("text"), str) else ""
            for e in block.get("elements", [])
        ]
    return "\n".join(parts)
