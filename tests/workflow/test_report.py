"""The HTML report (issues 5 and 11): ``snakemake --report results/report.html`` after a default
run registers every figure and presentation table, and renders in headless Chromium (Debian
``chromium``, installed by ``.ci/setup_system.sh``) with no console error or uncaught
exception while its pages are opened, and a screenshot is taken.  Issue 11, item 7: each table
appears once under Tables (its HTML view, the data queries and CONSORT counts included), its
other formats under Downloads; the landing page is not cut at 1400 px wide."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from _browser import Browser, find_chromium
from _pipeline import ROOT, build_report, pipeline_run

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("RTW_SCREENSHOT_DIR", "")) if os.environ.get("RTW_SCREENSHOT_DIR") else None

FIGURE_PAGES = ["CONSORT", "Kaplan-Meier", "Cumulative incidence", "Forest plots", "Distributions",
                "Proportional hazards"]
TABLE_PAGES = ["Table 1", "Primary outcome", "Secondary outcomes", "Survival summary",
               "Data queries", "CONSORT flow", "Outcomes over time"]
# Downloads page -> files offered there (the other formats of the tables shown under Tables)
DOWNLOADS = {
    "Table 1": [f"table1.{f}" for f in ("csv", "docx", "md", "tex")],
    "Primary outcome": [f"primary_outcome.{f}" for f in ("csv", "docx", "md", "tex")],
    "Secondary outcomes": [f"secondary_outcomes.{f}" for f in ("csv", "docx", "md", "tex")],
    "Survival summary": [f"survival_summary.{f}" for f in ("csv", "docx", "md", "tex")],
    "Outcomes over time": [f"longitudinal.{f}" for f in ("csv", "docx", "md", "tex")],
    "Data queries": ["queries.csv"],
    "CONSORT flow": ["consort.csv"],
    "All estimates": ["estimates.csv"],
}

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
                 "forest_subgroups", "distribution_days_off", "schoenfeld_first_rtw"]:
        for ext in ("png", "pdf"):
            assert f"{name}.{ext}" in html, f"{name}.{ext} not in the report"
    for name in ["table1", "primary_outcome", "secondary_outcomes", "survival_summary"]:
        for ext in ("csv", "md", "html", "docx", "tex"):
            assert f"{name}.{ext}" in html, f"{name}.{ext} not in the report"
    for name in ["queries", "consort"]:          # the data tables' HTML views (issue 11, 7)
        assert f"{name}.html" in html, f"{name}.html not in the report"
    assert "Trial analysis: WAVE" in html


def test_report_renders_in_headless_chromium_without_console_errors(report, tmp_path):
    exe = chromium_or_skip()
    shots = SHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with Browser(tmp_path / "profile", chromium=exe) as b:
        b.open(report.resolve().as_uri(), settle=3)
        text = b.eval("document.body.innerText")
        assert "Trial analysis: WAVE" in text
        assert "Figures" in text and "Tables" in text and "Downloads" in text
        # the landing page is not cut at 1400 px: the title is inside the window, and the
        # pane that holds it starts at its top (nothing above it out of reach of scrolling)
        title = b.eval("""(() => { const h = [...document.querySelectorAll('h1')].find(
            e => e.textContent.includes('Trial analysis')); const r = h.getBoundingClientRect();
            return [r.top, r.left, r.right, r.bottom, window.innerWidth, window.innerHeight]; })()""")
        top, left, right, bottom, width, height = title
        assert 0 <= top and bottom <= height and 0 <= left and right <= width, title
        assert b.eval("document.documentElement.scrollWidth") <= 1400
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
                    if category == "Tables":     # each table once, as its HTML view
                        assert n == 1, f"table page {page!r} lists {n} entries"
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
                        elif category == "Tables":
                            assert b.eval("[...document.querySelectorAll('iframe')].some(f => "
                                          "f.src.startsWith('data:text/html'))"), page
                        shown.append(f"{page}:{fmt}:{i}")
                    if page == "Kaplan-Meier" and fmt == "PNG":
                        figure = b.screenshot(shots / "report_km.png")
        # every figure in both formats (22 views), every table once (issue 11: no longer five
        # entries per table, so fewer views than the 40 counted before)
        assert len([v for v in shown if v.split(":")[0] in FIGURE_PAGES]) >= 22, shown
        assert sorted(v.split(":")[0] for v in shown if v.split(":")[0] in TABLE_PAGES) == sorted(
            TABLE_PAGES), shown

        # the tables' other formats: offered for download, each a data URI with its file name
        for page, files in DOWNLOADS.items():
            b.open(report.resolve().as_uri(), settle=1)
            assert b.eval(CLICK.format("Downloads"), settle=0.3)
            assert b.eval(CLICK.format(page), settle=0.3), f"no Downloads page {page!r}"
            links = b.eval("Object.fromEntries([...document.querySelectorAll('a[download][iconname=eye]')]"
                           ".map(a => [a.getAttribute('download'), a.href.slice(0, 5)]))")
            assert sorted(links) == sorted(files), (page, links)
            assert set(links.values()) == {"data:"}, (page, links)
        assert b.errors == [], "console errors / uncaught exceptions:\n" + "\n".join(b.errors)

    for shot in (home, figure):
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, shot
        from PIL import Image
        with Image.open(shot) as im:
            assert im.size == (1400, 1000)
            lo, hi = im.convert("L").getextrema()
            assert hi - lo > 100, f"{shot} is blank"
