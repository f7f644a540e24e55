"""What a tagged PDF's structure must hold, read with pypdf: the checks a PDF/UA validator makes
that Casework's documents can get wrong."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject

#: Operators that show text.
SHOW_TEXT = {b"Tj", b"TJ", b"'", b'"'}


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _kids(value: Any) -> list[Any]:
    value = _resolve(value)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _name_tree(node: Any) -> dict[str, Any]:
    """Every key of a name tree and the object it names (by identity of the indirect object)."""
    node = _resolve(node)
    found: dict[str, Any] = {}
    names = _kids(node.get("/Names"))
    for key, value in zip(names[::2], names[1::2], strict=True):
        found[str(key)] = value
    for kid in _kids(node.get("/Kids")):
        found.update(_name_tree(kid))
    return found


def _elements(root: DictionaryObject) -> list[tuple[Any, DictionaryObject]]:
    """Every structure element below `root`, with the indirect reference it is stored under."""
    out: list[tuple[Any, DictionaryObject]] = []
    todo = [k for k in _kids(root.get("/K"))]
    while todo:
        ref = todo.pop()
        element = _resolve(ref)
        if not isinstance(element, DictionaryObject):
            continue  # a marked-content id
        if element.get("/Type") in ("/MCR", "/OBJR"):
            continue
        out.append((ref, element))
        todo.extend(_kids(element.get("/K")))
    return out


def _tagged_content(
    elements: list[tuple[Any, DictionaryObject]], pages: list[Any]
) -> set[tuple[int, int]]:
    """(page index, marked-content id) of every piece of content the tree points at."""
    page_index = {p.indirect_reference.idnum: i for i, p in enumerate(pages)}
    found: set[tuple[int, int]] = set()
    for _, element in elements:
        page = element.get("/Pg")
        for kid in _kids(element.get("/K")):
            kid = _resolve(kid)
            if isinstance(kid, int):
                assert page is not None, f"{element.get('/S')} has content but no page"
                found.add((page_index[page.idnum], kid))
            elif isinstance(kid, DictionaryObject) and kid.get("/Type") == "/MCR":
                on = kid.get("/Pg", page)
                found.add((page_index[on.idnum], int(kid["/MCID"])))
    return found


def _untagged_text(reader: PdfReader, tagged: set[tuple[int, int]]) -> list[str]:
    """Text shown outside any artifact and outside content the structure tree points at."""
    problems = []
    for index, page in enumerate(reader.pages):
        contents = page.get_contents()
        if contents is None:
            continue
        # Each open marked-content sequence: artifact, tagged, or neither.
        stack: list[str] = []
        for operands, operator in ContentStream(contents, reader).operations:
            if operator in (b"BDC", b"BMC"):
                tag = str(operands[0])
                properties = _resolve(operands[1]) if operator == b"BDC" else None
                if tag == "/Artifact":
                    stack.append("artifact")
                elif isinstance(properties, dict) and "/MCID" in properties:
                    mcid = int(properties["/MCID"])
                    stack.append("tagged" if (index, mcid) in tagged else "orphan")
                else:
                    stack.append("plain")
            elif operator == b"EMC":
                if stack:
                    stack.pop()
            elif operator in SHOW_TEXT:
                if "artifact" in stack or "tagged" in stack:
                    continue
                problems.append(f"page {index + 1}: text outside the structure tree: {operands!r}")
    return problems


def structure_problems(content: bytes) -> list[str]:
    """Everything a PDF/UA checker would refuse in the document's structure and metadata."""
    reader = PdfReader(io.BytesIO(content))
    catalog = reader.trailer["/Root"]
    problems = []
    if not str(catalog.get("/Lang", "")):
        problems.append("the catalog has no /Lang")
    if not str((reader.metadata or {}).get("/Title", "")):
        problems.append("the document has no /Title")
    preferences = _resolve(catalog.get("/ViewerPreferences")) or {}
    # pypdf's boolean is an object (even its false is truthy): compare its value.
    if getattr(preferences.get("/DisplayDocTitle"), "value", None) is not True:
        problems.append("/ViewerPreferences has no /DisplayDocTitle true")
    if (
        getattr((_resolve(catalog.get("/MarkInfo")) or {}).get("/Marked"), "value", None)
        is not True
    ):
        problems.append("/MarkInfo has no /Marked true")
    if "/StructTreeRoot" not in catalog:
        return [*problems, "the document has no structure tree"]
    root = _resolve(catalog["/StructTreeRoot"])
    elements = _elements(root)
    with_id = [(ref, e) for ref, e in elements if "/ID" in e]
    ids = _name_tree(root["/IDTree"]) if "/IDTree" in root else {}
    for ref, element in with_id:
        key = str(element["/ID"])
        named = ids.get(key)
        if named is None:
            problems.append(f"{element.get('/S')} /ID {key} is missing from /IDTree")
        elif not isinstance(ref, IndirectObject) or _resolve(named) is not element:
            if getattr(named, "idnum", None) != getattr(ref, "idnum", -1):
                problems.append(f"/IDTree names another element for /ID {key}")
    problems += _untagged_text(reader, _tagged_content(elements, list(reader.pages)))
    return problems
