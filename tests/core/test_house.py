"""The house (issue 9): the library's layout stays as the README describes it.

* every module lives in a room (core, data, survival, models, report, ops);
* no library function is longer than a screen (60 lines of code, docstring, blank lines and
  comments not counted) unless its docstring says why ("Longer than a screen because ...");
* one home for two-sided p-values and normal quantiles (rtw.core.stats);
* nothing edits ``sys.path`` in the library, the entry scripts, the tests or bench: the
  library is the installed ``rtw`` package;
* engines (survival, models) do not import presentation (report) or operations (ops).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "scripts" / "rtw"
ROOMS = {"core", "data", "survival", "models", "report", "ops"}
SCREEN = 60
REASON = "Longer than a screen because"


def _library_files():
    return sorted(LIB.rglob("*.py"))


def test_every_module_lives_in_a_room():
    top = {p.name for p in LIB.glob("*.py")}
    assert top == {"__init__.py", "__main__.py"}, top
    rooms = {p.name for p in LIB.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == ROOMS
    for room in ROOMS:
        assert (LIB / room / "__init__.py").read_text(encoding="utf-8").strip(), \
            f"rtw.{room} has no docstring saying what lives there"


def _code_lines(node, source_lines) -> int:
    body = node.body
    doc = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                             ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = body[0].end_lineno - body[0].lineno + 1
    lines = source_lines[node.lineno - 1:node.end_lineno]
    return sum(1 for ln in lines if ln.strip() and not ln.strip().startswith("#")) - doc


def _long_functions():
    out = []
    for path in _library_files():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node, lines)
                doc = ast.get_docstring(node) or ""
                if n > SCREEN and REASON not in " ".join(doc.split()):
                    out.append(f"{path.relative_to(LIB)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_function_is_longer_than_a_screen_without_a_reason():
    assert _long_functions() == []


def test_one_home_for_p_values_and_quantiles():
    pattern = re.compile(r"norm\.(sf|cdf|ppf|isf)\(")
    offenders = [f"{p.relative_to(LIB)}:{i}" for p in _library_files() if p.name != "stats.py"
                 for i, ln in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(ln) and not ln.lstrip().startswith("#")]
    assert offenders == [], offenders


@pytest.mark.parametrize("folder", ["scripts", "tests", "bench"])
def test_nothing_edits_sys_path(folder):
    offenders = []
    for p in sorted((ROOT / folder).rglob("*.py")):
        if "reference" in p.parts:
            continue
        for i, ln in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"sys\.path(\.insert|\.append|\.extend|\[:?\]\s*=)", ln) \
                    and p.name != Path(__file__).name:
                offenders.append(f"{p.relative_to(ROOT)}:{i}")
    assert offenders == []


def _imports_of(path: Path) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module)
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
    return {m for m in mods if m.startswith("rtw.")}


@pytest.mark.parametrize("room", ["survival", "models"])
def test_engines_do_not_import_presentation_or_operations(room):
    for p in sorted((LIB / room).glob("*.py")):
        bad = {m for m in _imports_of(p) if m.split(".")[1] in ("report", "ops")}
        assert not bad, f"{p.relative_to(LIB)} imports {bad}"


def test_what_the_workflow_imports_at_parse_time_is_light():
    """Every snakemake call (a no-op too, and each SLURM job) parses the workflow, which
    imports these modules: they must not pull in numpy's heavy users (scipy, pandas,
    matplotlib), which cost ~1 s."""
    import subprocess
    import sys
    smk = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    mods = sorted(set(re.findall(r"^\s*from (rtw[\w.]*) import", smk, re.M)))
    assert "rtw.core.config" in mods and "rtw.ops.power" in mods, mods
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods)
            + "print(sorted(m for m in ('scipy', 'pandas', 'matplotlib') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"parse-time imports {mods} load {r.stdout.strip()}"


def _config_keys() -> set:
    """Every key name the config schema defines, at any depth."""
    from rtw.core.validation import load_schema
    keys: set = set()

    def walk(node):
        if not isinstance(node, dict):
            return
        for key, sub in (node.get("properties") or {}).items():
            keys.add(key)
            walk(sub)
        for key in ("items", "additionalProperties"):
            walk(node.get(key))
        for sub in node.get("oneOf", []) + node.get("anyOf", []):
            walk(sub)
        for sub in (node.get("$defs") or {}).values():
            walk(sub)
    walk(load_schema())
    return keys


#: ``.get``/``.setdefault`` of a name that is also a config key, on something that is not the
#: config: a data schema's column spec, a model's coefficients, keyword arguments, a schema node
NOT_CONFIG = {
    ("data/analysis_schema.py", "spec.get('type', 'string')"),
    ("data/cleaning.py", "spec.get('type', 'string')"),
    ("models/runner.py", "iv.first_stage.get('arm', np.nan)"),
    ("ops/configdoc.py", "node.get('type')"),
    ("survival/runner.py", "kw.setdefault('population', prep.population)"),
    ("survival/runner.py", "kw.setdefault('conf_levels', prep.levels)"),
}


def test_the_library_reads_config_values_without_fallbacks():
    """Issue 10: the schema is the one home of every default.  Outside the config room
    (rtw.core.config, rtw.core.validation) the library indexes the validated config
    (``cfg["survival"]["ties"]``); a ``.get(key, default)``, ``.get(key) or default`` or
    ``.setdefault(key, ...)`` of a config key would be a second, silent default."""
    keys = _config_keys()
    found = []
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB).as_posix()
        if rel in ("core/config.py", "core/validation.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("get", "setdefault") and node.args
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys
                    and (rel, ast.unparse(node)) not in NOT_CONFIG):
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
