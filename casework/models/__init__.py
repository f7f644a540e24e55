"""The database models."""

from casework.models.administration import AdministrationEvent, AdministrationHead
from casework.models.attachment import Attachment, Blob
from casework.models.base import Base, utcnow
from casework.models.case import (
    GENESIS_HASH,
    Case,
    CaseCounter,
    CaseLink,
    CaseTally,
    DeniedAuthor,
    WorkflowDefinition,
)
from casework.models.document import RenderedDocument
from casework.models.event import Event
from casework.models.log import LogCheckpoint, LogHead, LogLeaf, LogNode
from casework.models.outbox import OutboxMessage
from casework.models.oversight import ActingDirector, ReportRead
from casework.models.person import Person
from casework.models.records import HOLD_KINDS, CaseDisposal, DisposalBatch, LegalHold
from casework.models.release import ReleasePacket
from casework.models.sign_on import SignOnIdentity
from casework.models.sweep_run import SweepRun
from casework.models.throttle import ThrottleHit
from casework.models.user import (
    ApiToken,
    RecoveryCode,
    SecondFactor,
    User,
    UserRole,
    UserSession,
)

__all__ = [
    "ActingDirector",
    "ReportRead",
    "GENESIS_HASH",
    "HOLD_KINDS",
    "AdministrationEvent",
    "AdministrationHead",
    "ApiToken",
    "Attachment",
    "Base",
    "Blob",
    "Case",
    "CaseCounter",
    "CaseDisposal",
    "CaseLink",
    "CaseTally",
    "DeniedAuthor",
    "DisposalBatch",
    "Event",
    "LegalHold",
    "LogCheckpoint",
    "LogHead",
    "LogLeaf",
    "LogNode",
    "OutboxMessage",
    "ReleasePacket",
    "Person",
    "RecoveryCode",
    "RenderedDocument",
    "SecondFactor",
    "SignOnIdentity",
    "SweepRun",
    "ThrottleHit",
    "User",
    "UserRole",
    "UserSession",
    "WorkflowDefinition",
    "utcnow",
]
