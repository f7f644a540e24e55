"""The two things a tagged document needs that WeasyPrint leaves out of its structure tree.

1. Table header cells carry an `/ID` (data cells name them in `/Headers`), and ISO 32000-1
   requires the structure tree to list every such ID in an `/IDTree`; WeasyPrint writes none.
2. The page margins' text (library name, marking, running header, "Page N of M") is marked as
   content of structure elements that are never linked into the tree, so to a reader it is text
   outside the structure. It repeats on every page: it is a pagination artifact, and marked so here.

Both are done on WeasyPrint's `pydyf.PDF` before it is written (a finisher), by walking objects
already in memory: nothing is parsed or rendered again.
"""

from __future__ import annotations

from typing import Any

#: What the margins' text becomes: an artifact of pagination, as the print stamp is.
PAGINATION = {"Type": "/Pagination"}


def complete(pdf: Any) -> None:
    """Add the `/IDTree` and mark the margins' text as artifacts (see the module's docstring)."""
    import pydyf

    root_ref = pdf.catalog.get("StructTreeRoot")
    if root_ref is None:
        return
    root = pdf.objects[_number(root_ref)]
    linked = _linked(pdf, root)
    _mark_unlinked_as_artifacts(pdf, root, linked)
    identified = sorted(
        (element["ID"].string, element.reference)
        for element in (pdf.objects[number] for number in linked)
        if "ID" in element
    )
    if identified:
        names = pydyf.Array()
        for key, reference in identified:
            names += [pydyf.String(key), reference]
        tree = pydyf.Dictionary({"Names": names})
        pdf.add_object(tree)
        root["IDTree"] = tree.reference


def _number(reference: Any) -> int:
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    return int(text.split()[0])


def _is_reference(value: Any) -> bool:
    return isinstance(value, bytes) and value.endswith(b" R")


def _linked(pdf: Any, root: Any) -> set[int]:
    """The object numbers of every structure element reachable from the tree's root."""
    found: set[int] = set()
    todo = [_number(kid) for kid in root.get("K", []) if _is_reference(kid)]
    while todo:
        number = todo.pop()
        if number in found:
            continue
        found.add(number)
        element = pdf.objects[number]
        kids = element.get("K", [])
        if _is_reference(kids):
            kids = [kids]
        if isinstance(kids, list):
            for kid in kids:
                if _is_reference(kid) and pdf.objects[_number(kid)].get("Type") == "/StructElem":
                    todo.append(_number(kid))
    return found


def _mark_unlinked_as_artifacts(pdf: Any, root: Any, linked: set[int]) -> None:
    """Turn marked content whose element is outside the tree into pagination artifacts."""
    import pydyf

    parent_tree = pdf.objects[_number(root["ParentTree"])]
    nums = parent_tree.get("Nums", [])
    page_count = len(pdf.page_references)
    for index in range(0, len(nums) - 1, 2):
        page_index, owners = nums[index], nums[index + 1]
        if not isinstance(owners, list) or not 0 <= page_index < page_count:
            continue
        unlinked = {
            mcid
            for mcid, owner in enumerate(owners)
            if _is_reference(owner) and _number(owner) not in linked
        }
        if not unlinked:
            continue
        page = pdf.objects[_number(pdf.page_references[page_index])]
        contents = page.get("Contents")
        if not _is_reference(contents):
            continue
        items = pdf.objects[_number(contents)].stream
        # WeasyPrint draws the margins after the page's content: search from the end, and stop
        # once every one is found.
        left = len(unlinked)
        for position in range(len(items) - 2, 0, -1):
            properties = items[position]
            if (
                isinstance(properties, pydyf.Dictionary)
                and properties.get("MCID") in unlinked
                and items[position + 1] == b"BDC"
            ):
                owners[properties["MCID"]] = "null"
                items[position - 1] = "/Artifact"
                items[position] = pydyf.Dictionary(PAGINATION)
                left -= 1
                if not left:
                    break
