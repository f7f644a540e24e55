"""What the core announces, for side effects such as e-mail to follow: the core never imports
them (Indico's `signals.event.abstract_created.send(abstract)`, which its mail code subscribes to).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A case was opened or a transition fired: sent with the case, `workflow` (the definition the
#: case lives under) and `event` (the audit event just appended), inside its transaction.
event_appended = _signals.signal("event-appended")

#: A change to a user account was appended to the administration trail: sent with the event,
#: `subject` (the account changed) and `also_tell` (further addresses), inside its transaction.
administration_recorded = _signals.signal("administration-recorded")
