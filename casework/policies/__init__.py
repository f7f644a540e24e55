"""Each workflow's policy in code, one module per workflow: the guards, conditions, steps and
watches its file names, registered by name (`casework.workflow.hooks`). A workflow whose rules
are all data in its file (queues, deadlines, e-mail, figures) needs no module here."""

from casework.policies import account, moderation

__all__ = ["account", "moderation"]
