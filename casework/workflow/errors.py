"""Errors raised while loading workflow definitions."""


class WorkflowFileError(Exception):
    """A workflow file that cannot be used; names the file, its key and the reason."""

    def __init__(self, path: str, key: str | None, reason: str) -> None:
        super().__init__(f"{path}: workflow {key or '(unknown key)'}: {reason}")
        self.path = path
        self.key = key
        self.reason = reason
