"""Code dependencies of the rules (issue 9, item 4): which library files each rule's entry
script runs, computed with ``ast`` (rtw.core.deps), so that editing one module reruns exactly
the rules whose results come from it.

* every import form is followed (aliases, relative imports, subpackages, imports inside
  functions, package ``__init__`` files), on a small library made here;
* every rule that runs a script lists as ``lib`` the modules of *its own* script;
* what an entry script really imports at run time (``sys.modules`` after ``main``, written to
  the rule's log by ``rtw.core.entry.run``) is always inside its static list
  (``tests/workflow/test_rule_dependencies.py`` checks it on a real run);
* the static list of each module equals what importing the module loads plus its lazy imports.
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rtw.core import deps

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
RULES = ROOT / "workflow" / "rules"


def _write(root: Path, files: dict) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture()
def toy(tmp_path):
    """A small ``rtw`` package with every import form the library uses (or could)."""
    _write(tmp_path, {
        "rtw/__init__.py": "",
        "rtw/a/__init__.py": "",
        "rtw/a/one.py": "from . import two as t\nfrom .three import f\n",
        "rtw/a/two.py": "import numpy as np\n",
        "rtw/a/three.py": "def f():\n    from ..b import four\n    return four\n",
        "rtw/b/__init__.py": "from .five import g\n",
        "rtw/b/four.py": "import rtw.b.six as s\n",
        "rtw/b/five.py": "g = 1\n",
        "rtw/b/six.py": "try:\n    from rtw.c.seven import *\nexcept ImportError:\n    pass\n",
        "rtw/c/__init__.py": "",
        "rtw/c/seven.py": "",
        "rtw/c/unused.py": "from rtw.a import one\n",
        "entry.py": "def main():\n    from rtw.a import one as alias\n",
    })
    return tmp_path


def test_every_import_form_is_followed(toy):
    mods = deps.script_modules(toy / "entry.py", toy)
    assert mods == {
        "rtw", "rtw.a", "rtw.a.one",                 # from rtw.a import one as alias (in a function)
        "rtw.a.two",                                 # from . import two as t (relative, aliased)
        "rtw.a.three",                               # from .three import f
        "rtw.b", "rtw.b.four",                       # from ..b import four (two levels up, lazy)
        "rtw.b.five",                                # the package __init__ imports it
        "rtw.b.six",                                 # import rtw.b.six as s
        "rtw.c", "rtw.c.seven",                      # from rtw.c.seven import * (under try)
    }
    assert "rtw.c.unused" not in mods                # nothing imports it


def test_regex_blind_spot_of_the_old_lib_function_is_covered():
    """The old regular expression missed ``from . import competing as cmp``: editing
    competing.py did not rerun the survival rule."""
    mods = deps.script_modules(SCRIPTS / "fit_survival.py", SCRIPTS)
    for m in ("competing", "interval", "km", "cox", "logrank", "rmst", "runner"):
        assert f"rtw.survival.{m}" in mods
    mods = deps.script_modules(SCRIPTS / "fit_regression.py", SCRIPTS)
    for m in ("binary", "subgroups", "counts", "missing", "causal", "continuous", "delivery"):
        assert f"rtw.models.{m}" in mods


def test_files_are_relative_to_the_working_directory(monkeypatch):
    monkeypatch.chdir(ROOT)
    files = deps.script_library_files(SCRIPTS / "fit_survival.py", SCRIPTS)
    assert files == sorted(files)
    assert all(not f.startswith("/") and f.startswith("scripts/rtw/") for f in files), files
    assert "scripts/rtw/survival/competing.py" in files
    assert "scripts/rtw/__init__.py" in files and "scripts/rtw/core/__init__.py" in files


def _rules_and_scripts():
    """(file, rule block text) of every rule with a ``script:`` in workflow/rules."""
    out = []
    for smk in sorted(RULES.glob("*.smk")):
        for block in re.split(r"\n\s*rule[ :]", smk.read_text(encoding="utf-8"))[1:]:
            m = re.search(r'script:\s*\n\s*"\.\./\.\./scripts/(\w+)\.py"', block)
            if m:
                out.append((smk.name, block, m.group(1)))
    return out


def test_every_rule_with_a_script_lists_its_own_scripts_modules():
    found = _rules_and_scripts()
    assert len(found) >= 12, found
    for smk, block, script in found:
        libs = re.findall(r'lib=lib\("(\w+)"\)', block)
        assert libs == [script], f"{smk}: rule running {script}.py lists lib={libs}"


def test_every_entry_script_is_run_by_a_rule():
    used = {s for *_, s in _rules_and_scripts()}
    scripts = {p.stem for p in SCRIPTS.glob("*.py")}
    assert scripts == used, scripts ^ used


@pytest.mark.parametrize("module", sorted(
    ".".join(p.relative_to(SCRIPTS).with_suffix("").parts).removesuffix(".__init__")
    for p in (SCRIPTS / "rtw").rglob("*.py")))
def test_static_modules_contain_what_importing_loads(module):
    """Importing a module in a fresh interpreter loads only modules the ast analysis lists."""
    code = ("import importlib, sys, json; importlib.import_module(%r); "
            "print(json.dumps(sorted(m for m in sys.modules if m == 'rtw' or m.startswith('rtw.'))))"
            % module)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    import json
    loaded = set(json.loads(r.stdout.strip().splitlines()[-1]))
    static = deps.module_closure([module], SCRIPTS) | set(deps._with_parents(module))
    assert loaded <= static, f"{module} loads modules the rules would not list: {loaded - static}"


def test_import_cache_gives_the_same_files_and_notices_an_edit(toy, tmp_path):
    cache_file = tmp_path / "cache" / "deps.json"
    plain = deps.script_library_files(toy / "entry.py", toy)
    cache = deps.ImportCache(cache_file)
    assert deps.script_library_files(toy / "entry.py", toy, cache) == plain
    cache.save()
    assert cache_file.is_file()
    # a new process reads the cache: same answer without parsing again
    again = deps.ImportCache(cache_file)
    assert deps.script_library_files(toy / "entry.py", toy, again) == plain
    assert not again.dirty, "unchanged files were parsed again"
    # an edited file (same size, same second) is parsed again: its content hash changed
    (toy / "rtw/c/unused.py").write_text("from rtw.a import one\n")
    seven = toy / "rtw/c/seven.py"
    seven.write_text("from rtw.c import unused\n")
    edited = deps.ImportCache(cache_file)
    mods = deps.script_modules(toy / "entry.py", toy, edited)
    assert "rtw.c.unused" in mods and edited.dirty
    assert mods == deps.script_modules(toy / "entry.py", toy)


def test_a_damaged_import_cache_is_ignored(toy, tmp_path):
    cache_file = tmp_path / "deps.json"
    cache_file.write_text("{not json")
    cache = deps.ImportCache(cache_file)
    assert deps.script_library_files(toy / "entry.py", toy, cache) == \
        deps.script_library_files(toy / "entry.py", toy)
    cache.save()
    import json
    assert json.loads(cache_file.read_text())
