"""Byte-identical reruns (SPEC §5, issue 5): two clean runs of the default pipeline in two
temporary folders give identical tables, data, estimates and figures.  The second run uses
another PYTHONHASHSEED, so output that depends on set or dict-of-str order is caught too.
Only provenance.json's ``created`` (the time of the run) may differ."""
from __future__ import annotations

import json

import pytest

from _pipeline import checksums, fresh_run, pipeline_run

pytestmark = pytest.mark.e2e

COMPARED = ["results/tables", "results/data", "results/figures", "results/estimates"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    a = pipeline_run("default")
    b = fresh_run(tmp_path_factory.mktemp("rerun") / "run", extra_env={"PYTHONHASHSEED": "4242"})
    return a, b


def test_two_clean_runs_are_byte_identical(two_runs):
    a, b = two_runs
    ha, hb = checksums(a, COMPARED), checksums(b, COMPARED)
    assert len(ha) > 60, sorted(ha)
    for sub in COMPARED:
        assert any(k.startswith(sub + "/") for k in ha), f"nothing under {sub}"
    assert sorted(ha) == sorted(hb), "different file lists: " + str(sorted(set(ha) ^ set(hb)))
    differ = sorted(k for k in ha if ha[k] != hb[k])
    assert differ == [], (f"{len(differ)} file(s) differ between two clean runs: {differ}\n"
                          + _first_text_diff(a, b, differ))


def _first_text_diff(a, b, files, lines=12):
    """The start of a unified diff of the first differing text file (to see what changed)."""
    import difflib
    for f in files:
        if f.rsplit(".", 1)[-1] in ("csv", "md", "tex", "html", "json"):
            la = (a / f).read_text(encoding="utf-8", errors="replace").splitlines()
            lb = (b / f).read_text(encoding="utf-8", errors="replace").splitlines()
            d = list(difflib.unified_diff(la, lb, f"run1/{f}", f"run2/{f}", lineterm="", n=0))
            return "\n".join(d[:lines])
    return ""


def test_figures_and_tables_of_every_format_are_compared(two_runs):
    names = set(checksums(two_runs[0], COMPARED))
    for ext in ("png", "pdf"):
        assert f"results/figures/km_first_rtw.{ext}" in names
        assert f"results/figures/forest_primary.{ext}" in names
    for ext in ("csv", "md", "html", "docx", "tex"):
        assert f"results/tables/table1.{ext}" in names
    assert "results/data/analysis.parquet" in names


def test_provenance_differs_only_in_created(two_runs):
    a, b = (json.loads((r / "results/provenance.json").read_text(encoding="utf-8")) for r in two_runs)
    a.pop("created", None)
    b.pop("created", None)
    assert a == b
