"""Drawing a workflow as an SVG diagram of its states and transitions."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from html import escape
from typing import Any

from casework.workflow.definition import ROLE_LABELS, Workflow

CHAR_W = 7.4
NODE_H = 42
COL_GAP = 150
ROW_GAP = 64
MARGIN = 40
LOOP_SPACE = 56


@dataclass
class _Node:
    name: str
    label: str
    terminal: bool
    x: float = 0
    y: float = 0
    w: float = 0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + NODE_H / 2


def _layers(workflow: Workflow) -> dict[str, int]:
    depth = {workflow.initial: 0}
    queue = deque([workflow.initial])
    while queue:
        here = queue.popleft()
        for t in workflow.transitions.values():
            if here in t.sources and t.dest not in depth:
                depth[t.dest] = depth[here] + 1
                queue.append(t.dest)
    for name in workflow.states:
        depth.setdefault(name, max(depth.values()) + 1)
    return depth


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(ROLE_LABELS.get(r, r) for r in roles)


def render_svg(workflow: Workflow) -> str:
    """The workflow's diagram: states left to right by distance from the first, with transitions."""
    depth = _layers(workflow)
    nodes = {
        name: _Node(name, s.label, s.terminal, w=max(90.0, len(s.label) * CHAR_W + 28))
        for name, s in workflow.states.items()
    }
    columns: dict[int, list[_Node]] = {}
    for name in workflow.states:
        columns.setdefault(depth[name], []).append(nodes[name])
    col_x = MARGIN + 30.0
    tallest = max(len(c) for c in columns.values())
    body_h = tallest * NODE_H + (tallest - 1) * ROW_GAP
    for index in sorted(columns):
        column = columns[index]
        width = max(n.w for n in column)
        height = len(column) * NODE_H + (len(column) - 1) * ROW_GAP
        top = MARGIN + LOOP_SPACE + (body_h - height) / 2
        for row, node in enumerate(column):
            node.x = col_x + (width - node.w) / 2
            node.y = top + row * (NODE_H + ROW_GAP)
        col_x += width + COL_GAP
    width = col_x - COL_GAP + MARGIN + 60
    height = MARGIN * 2 + LOOP_SPACE * 2 + body_h + 30

    edges: list[str] = []
    labels: list[str] = []
    described: list[str] = []
    below = 0
    arrow = f"url(#arrow-{workflow.key})"
    for t in workflow.transitions.values():
        for source in t.sources:
            a, b = nodes[source], nodes[t.dest]
            who = _roles(t.roles_from(source))
            described.append(f"{t.label}: from {a.label} to {b.label}, by {who}.")
            if a is b:
                top = a.y
                points = [
                    (a.cx - 12, top),
                    (a.cx - 40, top - 48),
                    (a.cx + 40, top - 48),
                    (a.cx + 12, top),
                ]
                lx, ly = a.cx, top - 44
            elif depth[t.dest] > depth[source]:
                x1, y1, x2, y2 = a.x + a.w, a.cy, b.x, b.cy
                dx = (x2 - x1) / 2
                points = [(x1, y1), (x1 + dx, y1), (x2 - dx, y2), (x2, y2)]
                lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
            elif depth[t.dest] == depth[source]:
                x1, y1, x2, y2 = a.x + a.w, a.cy, b.x + b.w, b.cy
                bulge = max(x1, x2) + 70
                points = [(x1, y1), (bulge, y1), (bulge, y2), (x2, y2)]
                lx, ly = bulge - 14, (y1 + y2) / 2
            else:
                below += 1
                dip = max(a.y, b.y) + NODE_H + 30 + 22 * below
                points = [(a.cx, a.y + NODE_H), (a.cx, dip), (b.cx, dip), (b.cx, b.y + NODE_H)]
                lx, ly = (a.cx + b.cx) / 2, dip - 6
            (p0, p1, p2, p3) = [f"{x:.0f},{y:.0f}" for x, y in points]
            edges.append(
                _tag(
                    "path",
                    f"<title>{escape(t.label)}: {escape(who)}</title>",
                    **{"class": "edge", "d": f"M{p0} C{p1} {p2} {p3}", "marker-end": arrow},
                )
            )
            tw = len(t.label) * 6.6 + 10
            box = _tag("rect", x=lx - tw / 2, y=ly - 10, width=tw, height=18, rx=3)
            text = _tag("text", escape(t.label), x=lx, y=ly + 3)
            labels.append(_tag("g", box + text, **{"class": "edge-label"}))
    height += 22 * below

    shapes: list[str] = []
    for node in nodes.values():
        parts = _tag("rect", x=node.x, y=node.y, width=node.w, height=NODE_H, rx=8)
        if node.terminal:
            inner: dict[str, Any] = {"class": "inner", "x": node.x + 4, "y": node.y + 4}
            parts += _tag("rect", width=node.w - 8, height=NODE_H - 8, rx=5, **inner)
        parts += _tag("text", escape(node.label), x=node.cx, y=node.cy + 5)
        shapes.append(_tag("g", parts, **{"class": "state terminal" if node.terminal else "state"}))
    start = nodes[workflow.initial]
    shapes.append(_tag("circle", cx=start.x - 26, cy=start.cy, r=7, **{"class": "start"}))
    shapes.append(
        _tag(
            "path",
            **{
                "class": "edge",
                "marker-end": arrow,
                "d": f"M{start.x - 19:.0f},{start.cy:.0f} L{start.x:.0f},{start.cy:.0f}",
            },
        )
    )
    title = f"{workflow.title} workflow (version {workflow.version})"
    finals = ", ".join(workflow.states[s].label for s in workflow.terminal_states)
    desc = (
        f"Starts as {workflow.states[workflow.initial].label}. "
        + " ".join(described)
        + f" Final states: {finals}."
    )
    ids = f"wf-{workflow.key}"
    marker = _tag(
        "marker",
        _tag("path", d="M0,0 L10,5 L0,10 z", fill="#45607d"),
        id=f"arrow-{workflow.key}",
        viewBox="0 0 10 10",
        refX=9,
        refY=5,
        markerWidth=8,
        markerHeight=8,
        orient="auto-start-reverse",
    )
    content = (
        _tag("title", escape(title), id=f"{ids}-title")
        + _tag("desc", escape(desc), id=f"{ids}-desc")
        + f"<style>{STYLE}</style>"
        + _tag("defs", marker)
        + "".join(edges)
        + "".join(shapes)
        + "".join(labels)
    )
    return _tag(
        "svg",
        content,
        xmlns="http://www.w3.org/2000/svg",
        role="img",
        width=width,
        height=height,
        viewBox=f"0 0 {width:.0f} {height:.0f}",
        **{"aria-labelledby": f"{ids}-title {ids}-desc"},
    )


STYLE = (
    "text{font-family:DejaVu Sans,Arial,sans-serif;font-size:13px;text-anchor:middle;fill:#1a1a1a}"
    ".state rect{fill:#eef3f8;stroke:#2b4a6b;stroke-width:1.5}"
    ".state.terminal rect{fill:#f3f3f3;stroke:#444}.state .inner{fill:none}"
    ".edge{fill:none;stroke:#45607d;stroke-width:1.4}"
    ".edge-label rect{fill:#fff;stroke:none;opacity:.92}"
    ".edge-label text{font-size:11.5px;fill:#2b3a4a}"
    ".start{fill:#2b4a6b}"
)


def _tag(name: str, content: str = "", **attrs: Any) -> str:
    """An SVG element; numbers are rounded to whole pixels, text is escaped."""
    rendered = " ".join(
        f'{key}="{value:.0f}"' if isinstance(value, float) else f'{key}="{escape(str(value))}"'
        for key, value in attrs.items()
    )
    opening = f"<{name} {rendered}" if rendered else f"<{name}"
    return f"{opening}>{content}</{name}>" if content else f"{opening}/>"
