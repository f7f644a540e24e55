"""How the bundled print fonts in static/print/fonts were made: `python -m casework.printing.fonts`.

They are cut from the DejaVu fonts (Bitstream Vera licence, see LICENSE-DejaVu.txt there) down to
the characters of Latin-script text, renamed "Casework …" as that licence asks of modified
fonts, and given fixed timestamps so the files, and the PDFs that embed them, are reproducible.
Being small, they make WeasyPrint's per-render subsetting cheap, and the same on every machine.
Text in other scripts still prints, in the system's fonts.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The characters kept: Latin-1, Latin Extended-A, and the punctuation, arrows and signs that
#: records use (dashes, quotes, bullets, ellipsis, the euro, ≤ ≥ ≠ …).
LATIN = (
    "U+0020-007E,U+00A0-017F,U+0192,U+0218-021B,U+02C6-02C7,U+02D8-02DD,U+2010-2027,"
    "U+2030-203A,U+2044,U+20AC,U+2116,U+2122,U+2190-2195,U+2212,U+2260,U+2264-2265,U+FFFD"
)
#: The page stamp writes WinAnsi text: printable ASCII, middle dot, en and em dashes.
STAMP = "U+0020-007E,U+00B7,U+2013,U+2014"

#: output file -> (DejaVu source file, family, style, characters)
FONTS = {
    "CaseworkSerif-Regular.ttf": ("DejaVuSerifCondensed.ttf", "Casework Serif", "Regular", LATIN),
    "CaseworkSerif-Bold.ttf": ("DejaVuSerifCondensed-Bold.ttf", "Casework Serif", "Bold", LATIN),
    "CaseworkSerif-Italic.ttf": (
        "DejaVuSerifCondensed-Italic.ttf",
        "Casework Serif",
        "Italic",
        LATIN,
    ),
    "CaseworkSans-Regular.ttf": ("DejaVuSansCondensed.ttf", "Casework Sans", "Regular", LATIN),
    "CaseworkSans-Bold.ttf": ("DejaVuSansCondensed-Bold.ttf", "Casework Sans", "Bold", LATIN),
    "CaseworkMono-Regular.ttf": ("DejaVuSansMono.ttf", "Casework Mono", "Regular", LATIN),
    "CaseworkStamp-Regular.ttf": ("DejaVuSansCondensed.ttf", "Casework Stamp", "Regular", STAMP),
}


def make(source_dir: Path, target_dir: Path) -> None:
    """Cut, rename and write every bundled font."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    for target, (source, family, style, characters) in FONTS.items():
        # Timestamps kept as DejaVu set them, so that making the files again changes nothing.
        font = TTFont(source_dir / source, recalcTimestamp=False)
        options = subset.Options()
        # Kerning only: ligature glyphs would need their own Unicode mapping in the PDF.
        options.layout_features = [] if characters == STAMP else ["kern"]
        options.hinting = False
        options.desubroutinize = True
        options.name_IDs = ["*"]
        options.drop_tables += ["FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=subset.parse_unicodes(characters))
        subsetter.subset(font)
        name = font["name"]
        full = family if style == "Regular" else f"{family} {style}"
        postscript = family.replace(" ", "") + ("" if style == "Regular" else f"-{style}")
        name.names = [
            r for r in name.names if r.platformID == 3 and r.nameID not in (16, 17, 21, 22)
        ]
        for name_id, text in (
            (1, family),
            (2, style),
            (3, f"{full}; cut from DejaVu"),
            (4, full),
            (6, postscript),
        ):
            name.setName(text, name_id, 3, 1, 0x409)
        font.save(target_dir / target, reorderTables=True)
        print(f"{target}: {(target_dir / target).stat().st_size} bytes")


if __name__ == "__main__":
    from casework.printing.fetcher import print_folder

    make(
        Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/dejavu"),
        print_folder() / "fonts",
    )
