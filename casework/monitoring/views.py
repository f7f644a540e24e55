"""`/healthz`, `/readyz` and `/metrics`: for load balancers and monitoring, not for people."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Response, current_app, jsonify, request

from casework.monitoring.blueprint import bp
from casework.monitoring.figures import database_answers, schema_head, schema_revision
from casework.monitoring.metrics import exposition


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering (the database is not asked)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready for traffic: the database answers, its schema is current, the workflows loaded."""
    from casework.library import library

    checks: dict[str, str] = {}
    if not database_answers():
        checks["database"] = "not reachable"
    else:
        checks["database"] = "ok"
        revision, head = schema_revision(), schema_head()
        if revision == head:
            checks["schema"] = "ok"
        else:
            checks["schema"] = f"at {revision or 'nothing'}, needs {head}: run casework init"
    count = len(list(library().workflows))
    checks["workflows"] = f"ok ({count} loaded)" if count else "none loaded"
    ready = all(value.startswith("ok") for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return jsonify(body), 200 if ready else 503


def _may_scrape() -> bool:
    """Loopback always; elsewhere only with `Authorization: Bearer <CASEWORK_METRICS_TOKEN>`."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Response:
    if not _may_scrape():
        return Response("Not found.\n", status=404, mimetype="text/plain")
    content, content_type = exposition()
    return Response(content, mimetype=None, content_type=content_type)
