"""A quiet terminal (issue 11, item 8): jobs print WARNING and above; the run's warnings are
gathered from the job logs into results/warnings.csv with a short summary."""
from __future__ import annotations

import csv
import logging

from rtw.core.entry import setup_logging
from rtw.ops.run_warnings import collect, gather, summary


def test_jobs_log_info_to_their_file_and_only_warnings_to_the_terminal(tmp_path, capsys):
    log = tmp_path / "logs" / "job.log"
    setup_logging(log)
    logging.getLogger("rtw.models.x").info("fitted 3 models")
    logging.getLogger("fontTools.subset").info("glyf pruned")
    logging.getLogger("rtw.models.x").warning("singular fit")
    for handler in logging.getLogger().handlers:
        handler.flush()
    err = capsys.readouterr().err
    assert "singular fit" in err and "fitted 3 models" not in err and "glyf" not in err
    text = log.read_text(encoding="utf-8")
    assert "INFO rtw.models.x: fitted 3 models" in text and "glyf" not in text
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])


def test_warnings_are_gathered_once_per_job_and_message(tmp_path):
    logs = tmp_path / "results" / "logs"
    logs.mkdir(parents=True)
    (logs / "regression_secondary.log").write_text(
        "INFO rtw: start\nWARNING rtw.models.continuous: LMM: singular fit\n"
        "WARNING rtw.models.continuous: LMM: singular fit\nERROR rtw: not estimable: no events\n",
        encoding="utf-8")
    (logs / "survival_a.log").write_text("INFO rtw: nothing to say\n", encoding="utf-8")
    rows = collect(logs)
    assert [(r["job"], r["level"], r["message"], r["count"]) for r in rows] == [
        ("regression_secondary", "WARNING", "LMM: singular fit", 2),
        ("regression_secondary", "ERROR", "not estimable: no events", 1)]
    out = tmp_path / "results" / "warnings.csv"
    text = gather(logs, out)
    assert text.splitlines()[0] == f"2 warning(s) from the analyses (all in {out}):"
    assert "LMM: singular fit (x2)" in text
    with open(out, encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 2


def test_a_run_without_warnings_says_so(tmp_path):
    assert summary([], tmp_path / "w.csv") == "No warnings from the analyses."
