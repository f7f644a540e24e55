"""The library's policy made visible: the workflows the engine runs, drawn and described."""

from __future__ import annotations

from flask import render_template

from casework.errors import NotFound
from casework.library import library
from casework.presenting.diagram import render_svg
from casework.presenting.words import role_list
from casework.web.actor import actor
from casework.web.workflows.blueprint import bp


@bp.get("/workflows")
def index() -> str:
    actor()
    return render_template("workflows/index.html", workflows=list(library().workflows))


@bp.get("/workflows/<key>")
def workflow(key: str) -> str:
    actor()
    lib = library()
    if key not in lib.workflows:
        raise NotFound("There is no such workflow.")
    w = lib.workflow(key)
    steps = []
    for t in w.transitions.values():
        for source in t.sources:
            steps.append(
                {
                    "transition": t,
                    "source": w.states[source].label,
                    "dest": w.states[t.dest].label,
                    "who": role_list(t.roles_from(source)),
                }
            )
    return render_template(
        "workflows/workflow.html",
        workflow=w,
        diagram=render_svg(w),
        steps=steps,
        intake_roles=role_list(w.access.intake),
        readers=role_list(w.access.readers),
    )
