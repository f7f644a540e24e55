"""Drawing a workflow as an SVG diagram of its states and transitions.

The diagram carries its own colours as presentation attributes (no `<style>` element), so it
shows the same inline in a page whose Content-Security-Policy forbids inline styles, as a file,
and in a PDF. It has a title and a description that says every step in words.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jinja2

from casework.paths import resource_dir
from casework.presenting.words import role_label
from casework.workflow.definition import Workflow

CHAR_W = 7.4
LABEL_CHAR_W = 6.6
NODE_H = 42
MIN_COL_GAP = 120
ROW_GAP = 56
MARGIN = 24
LANE_GAP = 30
LOOP_SPACE = 52
START_SPACE = 34

FONT = "DejaVu Sans, Arial, sans-serif"
EDGE = "#45607d"
STATE_FILL, STATE_STROKE = "#eef3f8", "#2b4a6b"
FINAL_FILL, FINAL_STROKE = "#f3f3f3", "#444444"
TEXT = "#1a1a1a"
LABEL_TEXT = "#1f2d3a"


@dataclass
class _Node:
    name: str
    label: str
    terminal: bool
    layer: int = 0
    row: int = 0
    x: float = 0
    y: float = 0
    w: float = 0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + NODE_H / 2


@dataclass
class _Edge:
    label: str
    who: str
    source: _Node
    dest: _Node
    #: "adjacent", "loop", or a lane route: "above" / "below".
    route: str = "adjacent"
    lane: int = 0
    back: bool = False
    points: list[tuple[float, float]] = field(default_factory=list)


def _back_edges(workflow: Workflow) -> set[tuple[str, str]]:
    """Edges that close a cycle, found depth-first from the initial state."""
    succ: dict[str, list[str]] = {s: [] for s in workflow.states}
    for t in workflow.transitions.values():
        for s in t.sources:
            if t.dest != s and t.dest not in succ[s]:
                succ[s].append(t.dest)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in succ[node]:
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = 2

    visit(workflow.initial)
    for name in workflow.states:
        if name not in state:
            visit(name)
    return back


def _layers(workflow: Workflow, back: set[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layers over the forward edges: each state right of all it comes from."""
    forward = [
        (s, t.dest)
        for t in workflow.transitions.values()
        for s in t.sources
        if s != t.dest and (s, t.dest) not in back
    ]
    depth = dict.fromkeys(workflow.states, 0)
    for _ in workflow.states:
        changed = False
        for a, b in forward:
            if depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break
    return depth


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(role_label(r) for r in roles)


def _assign_lanes(edges: list[_Edge]) -> int:
    """Give overlapping lane edges different lanes; return how many lanes there are."""
    taken: list[list[tuple[float, float]]] = []
    for edge in sorted(edges, key=lambda e: abs(e.source.cx - e.dest.cx)):
        low, high = sorted((edge.source.cx, edge.dest.cx))
        for index, spans in enumerate(taken):
            if all(high < a - 12 or low > b + 12 for a, b in spans):
                spans.append((low, high))
                edge.lane = index
                break
        else:
            taken.append([(low, high)])
            edge.lane = len(taken) - 1
    return len(taken)


def render_svg(workflow: Workflow) -> str:
    """The workflow's diagram: states left to right in the order cases move through them."""
    back = _back_edges(workflow)
    depth = _layers(workflow, back)
    nodes = {
        name: _Node(name, s.label, s.terminal, w=max(96.0, len(s.label) * CHAR_W + 28))
        for name, s in workflow.states.items()
    }
    columns: dict[int, list[_Node]] = {}
    for name in workflow.states:
        nodes[name].layer = depth[name]
        columns.setdefault(depth[name], []).append(nodes[name])

    edges: list[_Edge] = []
    described: list[str] = []
    for t in workflow.transitions.values():
        for source in t.sources:
            a, b = nodes[source], nodes[t.dest]
            who = _roles(t.roles_from(source))
            described.append(f"{t.label}: from {a.label} to {b.label}, by {who}.")
            edges.append(_Edge(t.label, who, a, b, back=(source, t.dest) in back))

    # Order each column by where its states come from, so edges cross less.
    for index in sorted(columns)[1:]:
        column = columns[index]
        order = {n.name: i for i, n in enumerate(column)}
        weight = {}
        for node in column:
            sources = [
                e.source.row
                for e in edges
                if e.dest is node and not e.back and e.source.layer < node.layer
            ]
            weight[node.name] = sum(sources) / len(sources) if sources else order[node.name]
        column.sort(key=lambda n: (weight[n.name], order[n.name]))
        for row, node in enumerate(column):
            node.row = row

    # Routes: neighbours are joined directly; longer and backward steps run in lanes above or
    # below the states, on a side where the way up or down is clear of other states.
    def top_of_column(n: _Node) -> bool:
        return n.row == 0

    def bottom_of_column(n: _Node) -> bool:
        return n.row == len(columns[n.layer]) - 1

    for edge in edges:
        a, b = edge.source, edge.dest
        if a is b:
            edge.route = "loop"
        elif not edge.back and b.layer == a.layer + 1:
            edge.route = "adjacent"
        else:
            sides = ["above", "below"] if edge.back else ["below", "above"]
            clear = {
                "above": top_of_column(a) and top_of_column(b),
                "below": bottom_of_column(a) and bottom_of_column(b),
            }
            edge.route = next((s for s in sides if clear[s]), "adjacent")

    # Columns wide enough apart for the labels between them.
    gaps = dict.fromkeys(columns, float(MIN_COL_GAP))
    for edge in edges:
        if edge.route == "adjacent" and edge.dest.layer == edge.source.layer + 1:
            need = len(edge.label) * LABEL_CHAR_W + 36
            gaps[edge.source.layer] = max(gaps[edge.source.layer], need)
    has_loop = any(e.route == "loop" for e in edges)
    tallest = max(len(c) for c in columns.values())
    body_h = tallest * NODE_H + (tallest - 1) * ROW_GAP

    # Horizontal placement first (lanes depend on it), vertical once lanes are counted.
    col_x = float(MARGIN + START_SPACE)
    for index in sorted(columns):
        column = columns[index]
        width = max(n.w for n in column)
        for node in column:
            node.x = col_x + (width - node.w) / 2
        col_x += width + gaps[index]
    width = col_x - gaps[max(columns)] + MARGIN

    above = [e for e in edges if e.route == "above"]
    below = [e for e in edges if e.route == "below"]
    lanes_above = _assign_lanes(above)
    lanes_below = _assign_lanes(below)
    top = MARGIN + max(
        lanes_above * LANE_GAP + (10 if lanes_above else 0), LOOP_SPACE if has_loop else 0
    )
    for column in columns.values():
        height_c = len(column) * NODE_H + (len(column) - 1) * ROW_GAP
        offset = top + (body_h - height_c) / 2
        for node in column:
            node.y = offset + node.row * (NODE_H + ROW_GAP)
    body_bottom = top + body_h
    height = body_bottom + lanes_below * LANE_GAP + (10 if lanes_below else 0) + MARGIN

    # Where lane edges meet a state: spread along its top or bottom edge.
    ports: dict[tuple[str, str], list[_Edge]] = {}
    for edge in above + below:
        for end in (edge.source, edge.dest):
            ports.setdefault((end.name, edge.route), []).append(edge)

    def port_x(node: _Node, edge: _Edge) -> float:
        group = sorted(
            ports[(node.name, edge.route)],
            key=lambda e: (e.dest if e.source is node else e.source).cx,
        )
        count = len(group)
        if count == 1:
            return node.cx
        span = node.w * 0.6
        return node.x + (node.w - span) / 2 + span * group.index(edge) / (count - 1)

    # Adjacent edges in both directions between the same two states keep apart.
    pairs = {(e.source.name, e.dest.name) for e in edges if e.route == "adjacent"}

    drawn: list[_DrawnEdge] = []
    for edge in edges:
        a, b = edge.source, edge.dest
        if edge.route == "loop":
            d = (
                f"M{a.cx - 12:.0f},{a.y:.0f} C{a.cx - 40:.0f},{a.y - 46:.0f} "
                f"{a.cx + 40:.0f},{a.y - 46:.0f} {a.cx + 12:.0f},{a.y:.0f}"
            )
            lx, ly = a.cx, a.y - 42
        elif edge.route == "adjacent":
            shift = 7.0 if (b.name, a.name) in pairs else 0.0
            if a.layer < b.layer or (a.layer == b.layer and a.x <= b.x):
                x1, y1, x2, y2 = a.x + a.w, a.cy - shift, b.x, b.cy - shift
            else:
                x1, y1, x2, y2 = a.x, a.cy + shift, b.x + b.w, b.cy + shift
            dx = (x2 - x1) / 2
            d = (
                f"M{x1:.0f},{y1:.0f} C{x1 + dx:.0f},{y1:.0f} "
                f"{x2 - dx:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
            )
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - (10 if shift else 0) + (20 if x1 > x2 else 0)
        else:
            xa, xb = port_x(a, edge), port_x(b, edge)
            if edge.route == "above":
                lane_y = top - 10 - (edge.lane + 1) * LANE_GAP + LANE_GAP / 2
                ya, yb = a.y, b.y
            else:
                lane_y = body_bottom + 10 + edge.lane * LANE_GAP + LANE_GAP / 2
                ya, yb = a.y + NODE_H, b.y + NODE_H
            r = 10.0 if lane_y < ya else -10.0
            sign = 1.0 if xb > xa else -1.0
            d = (
                f"M{xa:.0f},{ya:.0f} L{xa:.0f},{lane_y + r:.0f} "
                f"Q{xa:.0f},{lane_y:.0f} {xa + sign * 10:.0f},{lane_y:.0f} "
                f"L{xb - sign * 10:.0f},{lane_y:.0f} "
                f"Q{xb:.0f},{lane_y:.0f} {xb:.0f},{lane_y + r:.0f} L{xb:.0f},{yb:.0f}"
            )
            lx, ly = (xa + xb) / 2, lane_y
        drawn.append(
            _DrawnEdge(edge.label, edge.who, d, lx, ly, len(edge.label) * LABEL_CHAR_W + 10)
        )

    finals = ", ".join(workflow.states[s].label for s in workflow.terminal_states)
    desc = (
        f"Starts as {workflow.states[workflow.initial].label}. "
        + " ".join(described)
        + f" Final states: {finals}."
    )
    return _template().render(
        key=workflow.key,
        title=f"{workflow.title} workflow (version {workflow.version})",
        desc=desc,
        width=width,
        height=height,
        edges=drawn,
        nodes=list(nodes.values()),
        start=nodes[workflow.initial],
        node_h=NODE_H,
        font=FONT,
        colours={
            "edge": EDGE,
            "state": (STATE_FILL, STATE_STROKE),
            "final": (FINAL_FILL, FINAL_STROKE),
            "text": TEXT,
            "label": LABEL_TEXT,
        },
    )


@dataclass
class _DrawnEdge:
    """One edge as drawn: its path, and its label's place and width."""

    label: str
    who: str
    d: str
    lx: float
    ly: float
    tw: float


@functools.cache
def _template() -> jinja2.Template:
    """The SVG template, autoescaped; numbers print as whole pixels through the `px` filter."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["px"] = lambda value: f"{value:.0f}"
    return env.get_template("workflows/diagram.svg")
