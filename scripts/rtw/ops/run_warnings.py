"""The warnings of a run, gathered from its job logs into ``results/warnings.csv`` with a short
summary for the terminal (issue 11: a quiet terminal that still says what needs reading).

Each job's log (``results/logs/*.log``, written by :func:`rtw.core.entry.setup_logging`) holds
its ``WARNING``/``ERROR`` lines as ``LEVEL logger: message``.  Identical messages of one job are
counted once.  Imports only the standard library: the Snakefile calls this when the run ends.
"""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path

COLUMNS = ["job", "level", "source", "message", "count"]
_LINE = re.compile(r"^(WARNING|ERROR) ([\w.]+): (.*)$")


def collect(log_dir) -> list[dict]:
    """One row per distinct (job, level, source, message), jobs in name order."""
    rows: dict = {}
    for log in sorted(Path(log_dir).rglob("*.log")):
        job = log.relative_to(log_dir).with_suffix("").as_posix()
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            m = _LINE.match(line)
            if m:
                key = (job, m.group(1), m.group(2), m.group(3).strip())
                rows[key] = rows.get(key, 0) + 1
    return [dict(zip(COLUMNS, (*key, n))) for key, n in rows.items()]


def write(rows: list[dict], path) -> None:
    """``rows`` as CSV at ``path``, written atomically (header only when there are none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def summary(rows: list[dict], path, shown: int = 5) -> str:
    """A few lines for the end of the run: how many warnings, the first ``shown``, where the rest are."""
    if not rows:
        return "No warnings from the analyses."
    lines = [f"{len(rows)} warning(s) from the analyses (all in {path}):"]
    for r in rows[:shown]:
        times = f" (x{r['count']})" if r["count"] > 1 else ""
        lines.append(f"  {r['job']}: {r['message']}{times}")
    if len(rows) > shown:
        lines.append(f"  ... and {len(rows) - shown} more")
    return "\n".join(lines)


def gather(log_dir="results/logs", out="results/warnings.csv") -> str:
    """Collect, write ``out`` and return the summary (nothing when there are no logs)."""
    if not Path(log_dir).is_dir():
        return ""
    rows = collect(log_dir)
    write(rows, out)
    return summary(rows, out)
