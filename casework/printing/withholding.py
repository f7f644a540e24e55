"""Withholding passages from a record: each occurrence of a passage the officer names is cut out
of the record's values before any HTML exists, a box citing the legal authority left in its
place, and each place cut is noted (the record, where in it, the authority)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from casework.library.authorities import Authority
from casework.presenting.presenter import Part, withheld
from casework.printing import content


@dataclass(frozen=True)
class Withholding:
    """A passage the officer withholds, found in `case`, citing `authority`."""

    case: str
    passage: str
    authority: Authority


@dataclass(frozen=True)
class Cut:
    """Where a passage was taken out: the record, the place in it, the authority cited."""

    case: str
    place: str
    authority: str
    cited: str

    def stored(self) -> dict[str, str]:
        return {"case": self.case, "place": self.place, "authority": self.authority}


def passage_pattern(passage: str) -> re.Pattern[str]:
    """Every occurrence of a passage, overlapping ones too, in any letter case, with any run of
    white space where the passage has one (a line break in a note, two spaces after a stop)."""
    words = [re.escape(w) for w in passage.split()]
    return re.compile(r"(?=(" + r"\s+".join(words) + "))", re.IGNORECASE)


Rule = tuple[re.Pattern[str], Authority]


def cut_value(value: str, rules: Sequence[Rule]) -> tuple[tuple[Part, ...], list[Authority]] | None:
    """`value` in pieces with every occurrence of every rule's passage withheld (overlapping and
    touching ones merged into one box citing each authority); None when nothing occurs."""
    spans: list[tuple[int, int, Authority]] = []
    for pattern, cited in rules:
        for m in pattern.finditer(value):
            if m.end(1) > m.start(1):
                spans.append((m.start(1), m.end(1), cited))
    if not spans:
        return None
    spans.sort(key=lambda s: (s[0], s[1]))
    merged: list[tuple[int, int, list[Authority]]] = []
    for start, end, cited in spans:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            if cited not in last[2]:
                last[2].append(cited)
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, [cited]))
    parts: list[Part] = []
    cited_any: list[Authority] = []
    at = 0
    for start, end, cited_all in merged:
        if start > at:
            parts.append(Part(value[at:start]))
        parts.append(Part("", "; ".join(a.code for a in cited_all)))
        cited_any += [a for a in cited_all if a not in cited_any]
        at = end
    if at < len(value):
        parts.append(Part(value[at:]))
    return tuple(parts), cited_any


def joined(parts: Sequence[Part]) -> str:
    return "".join(p.text or withheld(p.authority) for p in parts)


class Cutter:
    """Cuts a record's values, noting each place cut."""

    def __init__(self, number: str, rules: Sequence[Rule]) -> None:
        self.number = number
        self.rules = rules
        self.cuts: list[Cut] = []

    def text(self, value: str, place: str) -> tuple[str, tuple[Part, ...]]:
        found = cut_value(value, self.rules)
        if found is None:
            return value, ()
        parts, cited = found
        for a in cited:
            cut = Cut(self.number, place, a.code, a.cited)
            if cut not in self.cuts:
                self.cuts.append(cut)
        return joined(parts), parts

    def item(self, item: content.Item | None, place: str) -> content.Item | None:
        if item is None or item.withheld or item.code:
            return item
        value, parts = self.text(item.value, place)
        if not parts:
            return item
        return dataclasses.replace(item, value=value, parts=parts)

    def record(self, r: content.Record) -> content.Record:
        def labelled(items: Sequence[content.Item], section: str) -> tuple[content.Item, ...]:
            out = []
            for i in items:
                cut = self.item(i, f"{section}: {i.label}")
                assert cut is not None  # nosec B101 # an item in, an item out
                out.append(cut)
            return tuple(out)

        timeline = []
        for e in r.timeline:
            where = f"Timeline, event {e.seq} ({e.what})"
            actor, _ = self.text(e.actor, f"{where}: who")
            details = []
            for d in e.details:
                cut = self.item(d, f"{where}: {d.label}" if d.label else where)
                assert cut is not None  # nosec B101 # an item in, an item out
                details.append(cut)
            timeline.append(
                dataclasses.replace(
                    e, actor=actor, summary=self.item(e.summary, where), details=tuple(details)
                )
            )
        evidence = tuple(
            dataclasses.replace(a, actor=self.text(a.actor, f"Evidence, event {a.seq}: who")[0])
            for a in r.evidence
        )
        title, _ = self.text(r.title, "Title")
        decision = r.decision and dataclasses.replace(
            r.decision,
            details=labelled(r.decision.details, "Decision"),
            decided_by=self.text(r.decision.decided_by, "Decision: decided by")[0],
        )
        return dataclasses.replace(
            r,
            title=title,
            decision=decision,
            facts=labelled(r.facts, "The case"),
            fields=labelled(r.fields, "Intake"),
            timeline=tuple(timeline),
            evidence=evidence,
        )
