"""E-mail notifications: queued in the outbox with the event that causes them, sent by the sweep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from casework.signals import administration_recorded, event_appended

if TYPE_CHECKING:
    from casework.models import Case
    from casework.services.audit import AppendedEvent
    from casework.workflow import Workflow


@event_appended.connect
def notify(case: Case, *, workflow: Workflow, event: AppendedEvent) -> None:
    """Queue the e-mails an event calls for, in the event's own transaction.

    Called for every creation and transition; the case's own workflow definition says whether
    taking the step, or else reaching the new state, tells anyone.
    """
    trigger = event.data.get("trigger") if event.action == "transition" else None
    kind = workflow.notification_after(trigger) if isinstance(trigger, str) else None
    if kind is None and event.to_state is not None and event.to_state != event.from_state:
        kind = workflow.notification_on(event.to_state)
    if kind is None:
        return
    from casework.notifications.outbox import queue_for_event

    queue_for_event(kind, case, workflow, event)


@administration_recorded.connect
def tell_of_account_change(
    event: Any, *, subject: Any, also_tell: tuple[str, ...] = (), overseers: bool = True
) -> None:
    """The Director, HR, the trustees and the account's owner hear of every account change."""
    from casework.notifications.administration import tell_overseers

    tell_overseers(event, subject, also_tell=also_tell, overseers=overseers)
