"""Changing user accounts from the administration pages: the user-operations service's own
functions, so that the pages and the command line record every change the same way."""

from casework.services.users import (  # noqa: F401
    clean_profile,
    other_admins,
    refuse_self_lockout,
    update_user,
)
