"""Each print's "generated at / by" line, stamped on every page without rendering again.

A rendered document is kept and reused while its cases do not change; who printed it and when
change with every print. So every render reserves, at the foot of each page, a fixed-size content
stream (stored uncompressed) and a small embedded font to write it with; a print fills the
reserved bytes in place. Nothing is parsed or rewritten: stamping a 40-page history is one
`bytes.replace`. The stamp is marked as a pagination artifact, so the tagged structure of the
document (PDF/UA) is untouched.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from typing import Any

from casework.printing.fetcher import print_folder

FONT_FILE = "fonts/CaseworkStamp-Regular.ttf"
FONT_NAME = "CaseworkStamp"
#: WinAnsi codes the stamp may use beyond printable ASCII: middle dot, en and em dashes.
EXTRA = {"·": 0xB7, "–": 0x96, "—": 0x97}
FIRST_CHAR, LAST_CHAR = 32, 0xB7

#: Where the line sits: the page's left margin, on the baseline of the "Page N of M" footer
#: (print.css puts that 0.75in margin box's text 10pt below its top).
LEFT = 50.4
BASELINE = 37.0
SIZE = 7.5
MIN_SIZE = 6.0
MAX_WIDTH = 400.0

#: The reserved bytes of one page: they close the rendered content's graphics state ("Q") and
#: hold a comment the stamp replaces. Their length never changes, so nothing else moves.
SLOT_SIZE = 640
SLOT_MARK = b"Q\n%casework-stamp-slot\n"
SLOT = SLOT_MARK + b" " * (SLOT_SIZE - len(SLOT_MARK))


@functools.cache
def _font() -> tuple[bytes, list[int], dict[str, Any]]:
    """The stamp font file, its widths for codes 32..183, and its descriptor values."""
    from fontTools.ttLib import TTFont

    data = (print_folder() / FONT_FILE).read_bytes()
    font = TTFont(io.BytesIO(data))
    scale = 1000 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    by_code = {c: chr(c) for c in range(32, 127)}
    by_code.update({code: char for char, code in EXTRA.items()})
    widths = []
    for code in range(FIRST_CHAR, LAST_CHAR + 1):
        char = by_code.get(code)
        glyph = cmap.get(ord(char)) if char else None
        widths.append(round(hmtx[glyph][0] * scale) if glyph else 0)
    head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
    descriptor = {
        "bbox": [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
        "ascent": round(hhea.ascent * scale),
        "descent": round(hhea.descent * scale),
        "cap_height": round(getattr(os2, "sCapHeight", hhea.ascent) * scale),
    }
    return data, widths, descriptor


def reserve(document: Any, pdf: Any) -> None:
    """WeasyPrint finisher: add the stamp font and an empty stamp slot to every page.

    Runs inside the render, on WeasyPrint's `pydyf.PDF` before it is written.
    """
    import pydyf

    data, widths, d = _font()
    font_file = pydyf.Stream([data], pydyf.Dictionary({"Length1": len(data)}), compress=True)
    pdf.add_object(font_file)
    descriptor = pydyf.Dictionary(
        {
            "Type": "/FontDescriptor",
            "FontName": f"/{FONT_NAME}",
            "Flags": 32,
            "FontBBox": pydyf.Array(d["bbox"]),
            "ItalicAngle": 0,
            "Ascent": d["ascent"],
            "Descent": d["descent"],
            "CapHeight": d["cap_height"],
            "StemV": 80,
            "FontFile2": font_file.reference,
        }
    )
    pdf.add_object(descriptor)
    font = pydyf.Dictionary(
        {
            "Type": "/Font",
            "Subtype": "/TrueType",
            "BaseFont": f"/{FONT_NAME}",
            "FirstChar": FIRST_CHAR,
            "LastChar": LAST_CHAR,
            "Widths": pydyf.Array(widths),
            "Encoding": "/WinAnsiEncoding",
            "FontDescriptor": descriptor.reference,
        }
    )
    pdf.add_object(font)
    # The rendered content leaves its coordinate transform in place: isolate it with q … Q.
    opening = pydyf.Stream([b"q"])
    pdf.add_object(opening)
    font_dictionaries = set()
    pages = [o for o in pdf.objects if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/Page"]
    for page in pages:
        slot = pydyf.Stream([SLOT], compress=False)
        pdf.add_object(slot)
        page["Contents"] = pydyf.Array([opening.reference, page["Contents"], slot.reference])
        resources = pdf.objects[_number(page["Resources"])]
        font_dictionaries.add(_number(resources["Font"]))
    for number in font_dictionaries:
        pdf.objects[number][FONT_NAME] = font.reference


def _number(reference: Any) -> int:
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    return int(text.split()[0])


def stamp_codes(text: str) -> bytes:
    """The line as WinAnsi codes; characters the stamp font lacks become their closest ASCII."""
    out = bytearray()
    for char in text:
        if char in EXTRA:
            out.append(EXTRA[char])
            continue
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore")
        kept = bytes(c for c in plain if 32 <= c < 127)
        out += kept or (b"?" if not unicodedata.combining(char) else b"")
    return bytes(out)


def text_width(codes: bytes, size: float) -> float:
    _, widths, _ = _font()
    return sum(widths[c - FIRST_CHAR] for c in codes) * size / 1000


def fitted(text: str) -> tuple[bytes, float]:
    """The line and a font size at which it fits its place (cut short as a last resort)."""
    codes = stamp_codes(text)
    size = SIZE
    while size > MIN_SIZE and text_width(codes, size) > MAX_WIDTH:
        size -= 0.25
    while text_width(codes, size) > MAX_WIDTH:
        codes = codes[:-4] + b"..."
    return codes, size


def slot_content(line: str) -> bytes:
    """The reserved bytes of a page, filled with `line`."""
    codes, size = fitted(line)
    ops = (
        f"Q\n/Artifact << /Type /Pagination /Subtype /Footer >> BDC\nq\nBT\n"
        f"/{FONT_NAME} {size:g} Tf\n0.2 0.2 0.2 rg\n{LEFT:g} {BASELINE:g} Td\n"
        f"<{codes.hex().upper()}> Tj\nET\nQ\nEMC\n"
    ).encode("ascii")
    if len(ops) > SLOT_SIZE:
        raise ValueError("the stamp does not fit its slot")
    return ops + b" " * (SLOT_SIZE - len(ops))


def stamp(pdf: bytes, line: str) -> bytes:
    """`pdf` (as rendered, with reserved slots) with `line` at the foot of every page."""
    if SLOT not in pdf:
        raise ValueError("the document has no stamp slots")
    return pdf.replace(SLOT, slot_content(line))
