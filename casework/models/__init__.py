"""The database models."""

from casework.models.attachment import Attachment, Blob
from casework.models.base import Base, utcnow
from casework.models.case import (
    GENESIS_HASH,
    Case,
    CaseCounter,
    CaseLink,
    DeniedAuthor,
    WorkflowDefinition,
)
from casework.models.document import RenderedDocument
from casework.models.event import Event
from casework.models.outbox import OutboxMessage
from casework.models.person import Person
from casework.models.throttle import ThrottleHit
from casework.models.user import ApiToken, User, UserRole

__all__ = [
    "GENESIS_HASH",
    "ApiToken",
    "Attachment",
    "Base",
    "Blob",
    "Case",
    "CaseCounter",
    "CaseLink",
    "DeniedAuthor",
    "Event",
    "OutboxMessage",
    "Person",
    "RenderedDocument",
    "ThrottleHit",
    "User",
    "UserRole",
    "WorkflowDefinition",
    "utcnow",
]
