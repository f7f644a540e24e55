"""Prometheus metrics: requests by route and status, their latency, transitions by workflow,
and figures read from the database when scraped (outbox, sweeps, the latest checkpoint).

With several gunicorn workers, `PROMETHEUS_MULTIPROC_DIR` names a folder the workers share
(`casework serve` sets one up); each scrape then adds up every worker's counts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: Whether the metrics below were made in multiprocess mode (the folder was named before this
#: module was imported, as `casework serve` does); the exposition must match how they count.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter(
    "casework_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "casework_request_seconds",
    "Time to answer an HTTP request",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TRANSITIONS = Counter(
    "casework_transitions_total", "Transitions fired through the web and the API", ["workflow"]
)

#: The endpoints that fire a transition; a success there counts one for the case's workflow.
TRANSITION_ENDPOINTS = frozenset({"api.fire_transition", "cases.transition"})


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def _started() -> None:
    g.casework_started = time.perf_counter()


def _finished(response: Response) -> Response:
    started = g.pop("casework_started", None)
    if started is None:
        return response
    route, method = _route(), request.method
    REQUESTS.labels(route, method, str(response.status_code)).inc()
    LATENCY.labels(route, method).observe(time.perf_counter() - started)
    if request.endpoint in TRANSITION_ENDPOINTS and method == "POST" and response.status_code < 400:
        number = str((request.view_args or {}).get("number", ""))
        workflow = _workflow_of(number)
        if workflow:
            TRANSITIONS.labels(workflow).inc()
    return response


def _workflow_of(number: str) -> str | None:
    from casework.library import library

    found = library().workflows.by_prefix(number.split("-", 1)[0].upper())
    return found.key if found else None


def init(app: Flask) -> None:
    """Time and count every request (registered before the other hooks, so it sees the end)."""
    app.before_request(_started)
    app.after_request(_finished)


class DatabaseFigures(Collector):
    """Figures read from the database at each scrape, so every worker and host agree."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from casework.monitoring.figures import database_figures

        for name, help_text, value in database_figures():
            yield GaugeMetricFamily(name, help_text, value=value)


def exposition() -> tuple[bytes, str]:
    """The metrics text of every worker (multiprocess mode) or of this process."""
    registry: Any
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, TRANSITIONS):
            registry.register(collector)
    registry.register(DatabaseFigures())
    return generate_latest(registry), CONTENT_TYPE_LATEST
