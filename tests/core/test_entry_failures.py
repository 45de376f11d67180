"""Never a partial result (issue 14, item 4): every entry script runs through
``rtw.core.entry.run``, which catches every exception, removes the rule's declared outputs,
prints one line ``ERROR: <message> (log: <path>)`` and exits non-zero; the Snakefile's
``onerror:`` handler (``rtw.core.entry.clear_results``) leaves nothing under ``results/`` but
the logs.  One test per class of failure."""
from __future__ import annotations

import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from helpers import ROOT, SCHEMAS, Params, sap
from rtw.core.config import ConfigError
from rtw.core.entry import clear_results, run
from rtw.core.io import InputError, atomic_write_csv


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _job(tmp_path, **outputs):
    out = tmp_path / "results"
    paths = {name: str(out / rel) for name, rel in
             (outputs or {"table": "tables/t.csv", "figure": "figures/f.pdf"}).items()}
    log = tmp_path / "results" / "logs" / "job.log"
    return SimpleNamespace(output=SimpleNamespace(**paths), log=[str(log)], params=Params(),
                           input=SimpleNamespace()), log


def _writes_then(error):
    """A ``main`` that writes its first output, then fails with ``error``."""
    def main(smk):
        atomic_write_csv(pd.DataFrame({"a": [1]}), smk.output.table)
        raise error
    return main


def _fails(tmp_path, capsys, error, status=1):
    smk, log = _job(tmp_path)
    with pytest.raises(SystemExit) as ei:
        run(_writes_then(error), smk)
    assert ei.value.code == status
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ERROR: ") and lines[0].endswith(f"(log: {log})"), lines[0]
    assert "Traceback" not in err
    left = [p for p in (tmp_path / "results").rglob("*") if p.is_file() and "logs" not in p.parts]
    assert left == []
    assert "removed the job's outputs" in log.read_text()
    return lines[0], log.read_text()


def test_input_error_names_file_row_column_and_value_and_removes_outputs(tmp_path, capsys):
    e = InputError("value is not a number", file="t.csv", row=8, column="age", value="45y",
                   expected="a number")
    line, _ = _fails(tmp_path, capsys, e)
    assert line.startswith("ERROR: file t.csv, row 8, column 'age': value is not a number. "
                           "Found '45y'. Expected a number.")


def test_config_error_is_one_line(tmp_path, capsys):
    line, _ = _fails(tmp_path, capsys, ConfigError("config: covariates[0]: bad"))
    assert line.startswith("ERROR: config: covariates[0]: bad (log:")


def test_unexpected_error_in_the_library_is_one_line_with_its_type_and_the_traceback_in_the_log(
        tmp_path, capsys):
    def main(smk):
        atomic_write_csv(pd.DataFrame({"a": [1]}), smk.output.table)
        from rtw.core.modelframe import check_rank
        check_rank("not a matrix")
    smk, log = _job(tmp_path)
    with pytest.raises(SystemExit) as ei:
        run(main, smk)
    assert ei.value.code == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("ERROR: ") and "(in rtw.core.modelframe, line" in err
    assert "Traceback" in log.read_text()
    assert not Path(smk.output.table).exists()


def test_overflow_error_as_in_the_issue_leaves_no_output(tmp_path, capsys):
    """The issue's finding: ``OverflowError: math range error`` after 13 result files."""
    line, text = _fails(tmp_path, capsys, OverflowError("math range error"))
    assert line.startswith("ERROR: OverflowError: math range error")
    assert "Traceback" in text


def test_multi_line_message_is_printed_on_one_line(tmp_path, capsys):
    line, _ = _fails(tmp_path, capsys, ValueError("first line\nsecond line\n\tthird"))
    assert "ValueError: first line second line third" in line


def test_error_without_a_message_names_its_type(tmp_path, capsys):
    line, _ = _fails(tmp_path, capsys, KeyError())
    assert line.startswith("ERROR: KeyError")


def test_memory_error_leaves_no_output(tmp_path, capsys):
    line, _ = _fails(tmp_path, capsys, MemoryError("cannot allocate 12 GB"))
    assert "MemoryError: cannot allocate 12 GB" in line


def test_sys_exit_with_a_message_leaves_no_output(tmp_path, capsys):
    line, _ = _fails(tmp_path, capsys, SystemExit("stopped: no events"))
    assert "SystemExit: stopped: no events" in line


def test_interrupt_leaves_no_output_and_exits_130(tmp_path, capsys):
    _fails(tmp_path, capsys, KeyboardInterrupt(), status=130)


def test_directory_output_and_temporary_files_are_removed(tmp_path, capsys):
    smk, log = _job(tmp_path, clean="data/clean", table="data/analysis.csv")

    def main(smk):
        d = Path(smk.output.clean)
        d.mkdir(parents=True)
        (d / "baseline.parquet").write_bytes(b"x")
        (Path(smk.output.table).parent / ".analysis.csv1234.csv").write_text("half")
        raise RuntimeError("died while writing")
    with pytest.raises(SystemExit):
        run(main, smk)
    left = [p for p in (tmp_path / "results").rglob("*") if p.is_file() and "logs" not in p.parts]
    assert left == []
    assert not Path(smk.output.clean).exists()


def test_success_keeps_outputs_and_returns(tmp_path, capsys):
    smk, log = _job(tmp_path)

    def main(smk):
        atomic_write_csv(pd.DataFrame({"a": [1]}), smk.output.table)
    run(main, smk)
    assert Path(smk.output.table).exists()
    assert capsys.readouterr().err == ""


def test_sys_exit_zero_is_success(tmp_path):
    smk, _ = _job(tmp_path)
    with pytest.raises(SystemExit) as ei:
        run(lambda smk: (_ for _ in ()).throw(SystemExit(0)), smk)
    assert ei.value.code == 0


def test_import_table_entry_with_a_bad_covariate_value_writes_nothing(tmp_path, capsys):
    """The entry script itself (scripts/import_table.py): one line, no outputs."""
    p = tmp_path / "t.csv"
    pd.DataFrame({"id": list("abcdef"), "grp": ["x", "y"] * 3, "days": [1, 2, 3, 4, 5, 6],
                  "age": ["40", "45y", "33", "51", "62", "29"]}).to_csv(p, index=False)
    cfg = sap({"data": {"columns": {"participant_id": "id", "arm": "grp"}},
               "trial": {"arms": {"control": "x", "intervention": "y"}},
               "covariates": ["age"], "outcomes": {"count": {"value": "days"}}})
    out = tmp_path / "results" / "data"
    out.mkdir(parents=True)
    (out / "queries.csv").write_text("stale output of an earlier run\n")
    log = tmp_path / "results" / "logs" / "import_table.log"
    smk = SimpleNamespace(input=SimpleNamespace(table=str(p),
                                                analysis_schema=str(SCHEMAS / "analysis.schema.yaml")),
                          params=Params(**cfg),
                          output=SimpleNamespace(analysis=str(out / "analysis.parquet"),
                                                 analysis_csv=str(out / "analysis.csv"),
                                                 queries=str(out / "queries.csv")),
                          log=[str(log)])
    with pytest.raises(SystemExit) as ei:
        runpy.run_path(str(ROOT / "scripts" / "import_table.py"), init_globals={"snakemake": smk})
    assert ei.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"ERROR: file {p}, row 3, column 'age': value is not a number in a numeric "
                   "covariate (5 of 6 values in this column are numbers). Found '45y'. Expected "
                   "a number or empty (missing), or declare it in config covariates[0]: "
                   f"{{column: age, type: categorical}}. (log: {log})")
    assert list(out.iterdir()) == []


def test_clear_results_keeps_only_the_logs(tmp_path):
    r = tmp_path / "results"
    for rel in ("logs/a.log", "logs/sub/b.log", "tables/t.csv", "data/clean/x.parquet",
                "provenance.json"):
        (r / rel).parent.mkdir(parents=True, exist_ok=True)
        (r / rel).write_text("x")
    removed = clear_results(r)
    assert sorted(Path(p).name for p in removed) == ["data", "provenance.json", "tables"]
    assert sorted(p.relative_to(r).as_posix() for p in r.rglob("*") if p.is_file()) == \
        ["logs/a.log", "logs/sub/b.log"]
    assert clear_results(tmp_path / "nothing") == []


def test_snakefile_clears_results_on_error():
    text = (ROOT / "Snakefile").read_text(encoding="utf-8")
    block = text.split("onerror:", 1)[1]
    assert 'clear_results("results", keep=("logs",))' in block.split("\nrule ", 1)[0]


def test_every_entry_script_runs_through_the_wrapper():
    for script in sorted((ROOT / "scripts").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        assert "from rtw.core.entry import" in text and "run(main, snakemake)" in text, script.name
