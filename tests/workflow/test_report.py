"""The HTML report (issue 5): ``snakemake --report results/report.html`` after a default run
registers every figure and presentation table, and renders in headless Chromium (Debian
``chromium``, installed by ``.ci/setup_system.sh``) with no console error or uncaught
exception while its pages are opened, and a screenshot is taken."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from _browser import Browser, find_chromium
from _pipeline import ROOT, build_report, pipeline_run

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("RTW_SCREENSHOT_DIR", "")) if os.environ.get("RTW_SCREENSHOT_DIR") else None

FIGURE_PAGES = ["CONSORT", "Kaplan-Meier", "Cumulative incidence", "Forest plots", "Days off",
                "Proportional hazards"]
TABLE_PAGES = ["Table 1", "Primary outcome", "Secondary outcomes", "Survival summary"]

# click the last element whose own text is exactly the given label (report navigation, label
# toggles); returns false when there is none
CLICK = """(() => {{ const t = {!r};
  const els = [...document.querySelectorAll('*')].filter(e => e.textContent.trim() === t);
  if (!els.length) return false; els[els.length - 1].click(); return true; }})()"""


def chromium_or_skip():
    exe = find_chromium()
    if exe:
        return exe
    setup = ROOT / ".ci" / "setup_system.sh"
    in_ci = bool(os.environ.get("CI"))
    if os.geteuid() == 0 and os.access(setup, os.X_OK):
        r = subprocess.run([str(setup)], capture_output=True, text=True, timeout=900)
        exe = find_chromium()
        if exe:
            return exe
        reason = f".ci/setup_system.sh could not install chromium (offline?):\n{r.stderr[-2000:]}"
    else:
        reason = "chromium is not installed and this is not root: run `apt-get install -y chromium`"
    if in_ci:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def report():
    run = pipeline_run("default")
    return build_report(run)


def test_report_registers_every_figure_and_table(report):
    html = report.read_text(encoding="utf-8", errors="replace")
    assert report.stat().st_size > 100_000
    for name in ["consort", "km_first_rtw", "km_sustained_rtw", "cif_first_rtw", "forest_primary",
                 "forest_subgroups", "days_off", "schoenfeld_first_rtw"]:
        for ext in ("png", "pdf"):
            assert f"{name}.{ext}" in html, f"{name}.{ext} not in the report"
    for name in ["table1", "primary_outcome", "secondary_outcomes", "survival_summary"]:
        for ext in ("csv", "md", "html", "docx", "tex"):
            assert f"{name}.{ext}" in html, f"{name}.{ext} not in the report"
    assert "Return-to-work trial analysis: WAVE" in html


def test_report_renders_in_headless_chromium_without_console_errors(report, tmp_path):
    exe = chromium_or_skip()
    shots = SHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with Browser(tmp_path / "profile", chromium=exe) as b:
        b.open(report.resolve().as_uri(), settle=3)
        text = b.eval("document.body.innerText")
        assert "Return-to-work trial analysis: WAVE" in text
        assert "Figures" in text and "Tables" in text
        home = b.screenshot(shots / "report_home.png")

        # every figure page, showing each figure as PNG and as PDF; every table page, opening
        # each format
        shown = []
        for category, pages, toggles in [("Figures", FIGURE_PAGES, ("PNG", "PDF")),
                                         ("Tables", TABLE_PAGES, (None,))]:
            for page in pages:
                for fmt in toggles:
                    b.open(report.resolve().as_uri(), settle=1)
                    assert b.eval(CLICK.format(category), settle=0.3), category
                    assert b.eval(CLICK.format(page), settle=0.3), f"no report page {page!r}"
                    if fmt:
                        assert b.eval(CLICK.format(fmt), settle=0.3), f"no {fmt} on {page!r}"
                    n = b.eval("document.querySelectorAll('a[iconname=eye]').length")
                    assert n >= 1, page
                    for i in range(n):
                        b.eval(f"document.querySelectorAll('a[iconname=eye]')[{i}].click()",
                               settle=0.5)
                        if fmt == "PNG":
                            w = b.eval("Math.max(0, ...[...document.images].filter(i => "
                                       "i.src.startsWith('data:image/png')).map(i => i.naturalWidth))")
                            assert w > 500, f"figure {i} of {page!r} not displayed"
                        elif fmt == "PDF":
                            assert b.eval("[...document.querySelectorAll('iframe')].some(f => "
                                          "f.src.startsWith('data:application/pdf'))"), page
                        shown.append(f"{page}:{fmt}:{i}")
                    if page == "Kaplan-Meier" and fmt == "PNG":
                        figure = b.screenshot(shots / "report_km.png")
        assert len(shown) >= 40, shown
        assert b.errors == [], "console errors / uncaught exceptions:\n" + "\n".join(b.errors)

    for shot in (home, figure):
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, shot
        from PIL import Image
        with Image.open(shot) as im:
            assert im.size == (1400, 1000)
            lo, hi = im.convert("L").getextrema()
            assert hi - lo > 100, f"{shot} is blank"
