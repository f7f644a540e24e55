"""How fast the command line answers: `casework --help` and `casework workflows check`.

    python bench/startup.py [--runs 15]

Runs each command `--runs` times as a fresh process (the installed `casework` script of this
Python), after one unmeasured run that warms the file cache, and reads which heavy libraries each
one imported (`python -X importtime`): neither should import Flask, SQLAlchemy or WeasyPrint.
Prints one JSON line: median and best wall time per command, the heavy imports, and the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run as `python bench/startup.py`: the repository first on the import path, and this folder off
# it (bench/transitions.py would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

COMMANDS = {"help": ["--help"], "workflows_check": ["workflows", "check"]}
HEAVY = ("flask", "sqlalchemy", "weasyprint", "werkzeug", "jinja2", "holidays", "psycopg")


def imported(script: Path, arguments: list[str], env: dict[str, str]) -> dict[str, float]:
    """Top-level packages the command imported, with their cumulative import milliseconds."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        top = name.strip().split(".")[0]
        if top in HEAVY and cumulative.strip().isdigit():
            found[top] = max(found.get(top, 0.0), int(cumulative) / 1000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    script = Path(sys.executable).parent / "casework"
    env = {**os.environ, **harness.BENCH_ENV}
    figures: dict[str, dict[str, object]] = {}
    for name, arguments in COMMANDS.items():
        subprocess.run([str(script), *arguments], env=env, capture_output=True, check=True)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([str(script), *arguments], env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        figures[name] = {
            "median_s": round(statistics.median(times), 3),
            "best_s": round(min(times), 3),
            "heavy_imports_ms": imported(script, arguments, env),
        }
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - started
    harness.report(
        "startup",
        {
            "runs": args.runs,
            **figures,
            "bare_python_s": round(bare, 3),
            "target": {"median_s": "< 0.4"},
        },
    )


if __name__ == "__main__":
    main()
