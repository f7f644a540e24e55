"""Workflow definitions: loading, validation, state machines, named guards and field rules."""

from casework.workflow.definition import Workflow
from casework.workflow.errors import WorkflowFileError
from casework.workflow.registry import WorkflowRegistry, load_registry
from casework.workflow.roles import ROLES, effective_roles

__all__ = [
    "ROLES",
    "Workflow",
    "WorkflowFileError",
    "WorkflowRegistry",
    "effective_roles",
    "load_registry",
]
