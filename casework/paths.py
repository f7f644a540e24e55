"""Where Casework finds its bundled templates, static files and workflow definitions."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder `name` (templates, static, workflows) of this installation.

    An installed wheel carries the folders inside the package; a source checkout keeps them at
    the top level, beside the package.
    """
    bundled = PACKAGE_DIR / name
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / name
