"""Schemathesis against /api/v1/openapi.json: no 5xx, and every response matches the document."""

from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Examples per API operation and role: a slice by default, the full run under `-m stress`.
EXAMPLES = 30
STRESS_EXAMPLES = 300

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(app, cast, api):
    """Real case numbers, people and files, so generated requests also reach past the 404s."""
    complaint = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    violation = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="A post",
    )["number"]
    upload = api.post(
        f"/cases/{complaint}/attachments",
        "librarian",
        data={"file": (io.BytesIO(b"evidence text"), "e.txt")},
        content_type="multipart/form-data",
    ).get_json()
    return {
        "number": [complaint, violation],
        "person_id": list(cast.person_ids.values()),
        "sha256": [upload["sha256"]],
        "key": ["complaint", "violation", "moderation", "account"],
    }


def operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def run_operation(operation, seeded, headers, checks, examples, mode=GenerationMode.POSITIVE):
    """Generate requests for one operation; path parameters are sometimes real ones.

    Requests that break the schema are sent as generated: a real case number or the user's
    token put in place of what was generated could make a broken request a valid one.
    """
    negative = mode is GenerationMode.NEGATIVE
    real = {
        name: st.sampled_from(values)
        for name, values in seeded.items()
        if f"{{{name}}}" in operation.path and not negative
    }

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        case=operation.as_strategy(mode),
        swap=st.fixed_dictionaries({k: st.none() | v for k, v in real.items()}),
    )
    def check(case, swap):
        for name, value in swap.items():
            if value is not None:
                case.path_parameters[name] = value
        response = case.call(headers={**headers, **(case.headers or {})} if negative else headers)
        case.validate_response(response, checks=checks)

    check()


#: The default slice, and the full run (`-m stress`, with time enough for it).
PER_RUN = [
    EXAMPLES,
    pytest.param(STRESS_EXAMPLES, marks=[pytest.mark.stress, pytest.mark.timeout(3600)]),
]


@pytest.mark.parametrize("examples", PER_RUN)
@pytest.mark.parametrize("user", ["librarian", "director"])
def test_the_api_answers_every_generated_request_as_documented(app, cast, seeded, user, examples):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = cast.headers(user)
    for operation in operations(schema):
        run_operation(operation, seeded, headers, CHECKS, examples)


@pytest.mark.parametrize("examples", PER_RUN)
def test_requests_that_break_the_schema_are_refused(app, cast, seeded, examples):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = cast.headers("director")
    checks = [*CHECKS, negative_data_rejection]
    for operation in operations(schema):
        run_operation(operation, seeded, headers, checks, examples // 2, GenerationMode.NEGATIVE)
