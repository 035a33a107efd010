"""Typed SQLAlchemy models, one module per domain. Importing this package registers them all."""

from statuspage.models.incidents import (
    Incident,
    IncidentPlatform,
    IncidentUpdate,
    IncidentUpdatePlatform,
)
from statuspage.models.jobs import SchedulerRun
from statuspage.models.maintenance import MaintenanceSeries, MaintenanceWindow
from statuspage.models.notices import Delivery, Notice
from statuspage.models.operations import JobRun
from statuspage.models.platforms import Platform
from statuspage.models.staff import (
    ApiToken,
    AuditEntry,
    RecoveryCode,
    SecondFactor,
    StaffSession,
    User,
)
from statuspage.models.subscribers import ConfirmationAllowance, Subscriber, Subscription
from statuspage.models.versions import DataVersion

__all__ = [
    "ApiToken",
    "AuditEntry",
    "ConfirmationAllowance",
    "DataVersion",
    "Delivery",
    "Incident",
    "IncidentPlatform",
    "IncidentUpdate",
    "IncidentUpdatePlatform",
    "JobRun",
    "SchedulerRun",
    "MaintenanceSeries",
    "MaintenanceWindow",
    "Notice",
    "Platform",
    "RecoveryCode",
    "SecondFactor",
    "StaffSession",
    "Subscriber",
    "Subscription",
    "User",
]
