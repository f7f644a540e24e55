"""Workflow definitions: loading, validation, state machines, named guards and field rules."""

from casework.workflow.definition import ROLES, Workflow, effective_roles
from casework.workflow.errors import WorkflowFileError
from casework.workflow.registry import WorkflowRegistry, load_registry

__all__ = [
    "ROLES",
    "Workflow",
    "WorkflowFileError",
    "WorkflowRegistry",
    "effective_roles",
    "load_registry",
]
