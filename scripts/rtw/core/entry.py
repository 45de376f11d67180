"""Shared plumbing for the thin entry scripts in ``scripts/``.

:func:`run` sets logging to the rule's log file, runs the entry's ``main`` and turns any
failure into one line ``ERROR: <message> (log: <path>)`` on stderr (the traceback, when there
is one, goes to the log only) and a non-zero exit, after removing every output the rule
declares, so no half-written result is left behind even when the job wrote some outputs
before failing.  Outputs are also written atomically by :mod:`rtw.core.io`.
"""
from __future__ import annotations

import logging
import os
import sys


#: third-party loggers that report routine work at INFO (fontTools: one line per glyph table
#: subset into each PDF): WARNING and above only, in the log file too
QUIET_LOGGERS = ("fontTools", "matplotlib", "PIL")


def setup_logging(log_path=None):
    """Everything at INFO and above goes to the rule's log file; the terminal (stderr, which
    Snakemake shows) gets WARNING and above only, so fit warnings (singular fit, boundary,
    non-convergence, fallbacks) are not buried (the run's summary gathers them:
    :mod:`rtw.ops.run_warnings`)."""
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.WARNING)
    handlers = [terminal]
    if log_path:
        os.makedirs(os.path.dirname(str(log_path)) or ".", exist_ok=True)
        handlers.append(logging.FileHandler(str(log_path), mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


MODULES_LOGGED = "rtw modules used by entry script"


def config_slice(config: dict, *paths: str) -> dict:
    """The part of ``config`` at ``paths`` (``"survival"``, ``"trial.arms"``), nested as in
    the config: what a rule passes as its ``params`` so that it reruns when, and only when,
    a setting it reads changes.  A path absent from ``config`` is an error (a rule must not
    name a key the schema does not define)."""
    out: dict = {}
    for path in paths:
        parts = path.split(".")
        source, target = config, out
        for part in parts[:-1]:
            source = source[part]
            target = target.setdefault(part, {})
        target[parts[-1]] = source[parts[-1]]
    return out


def sap(smk) -> dict:
    """The config slice a rule received: its ``params`` named after top-level config keys
    (see :func:`config_slice`), as one nested dict for the library."""
    from rtw.core.validation import load_schema
    keys = set(load_schema()["properties"])
    return {name: value for name, value in smk.params.items() if name in keys}


def _log_library_modules(main) -> None:
    """Write to the rule's log which library modules the entry script ran, so a test can
    check them against the rule's ``lib`` inputs (rtw.core.deps)."""
    script = os.path.basename(main.__code__.co_filename).split(".")[-2]
    used = sorted(m for m in sys.modules if m == "rtw" or m.startswith("rtw."))
    logging.getLogger("rtw").info("%s %s: %s", MODULES_LOGGED, script, " ".join(used))


def declared_outputs(smk) -> list[str]:
    """The paths of the rule's outputs (files and ``directory()`` outputs), from a Snakemake
    job's ``output`` (a list of paths with names) or a test's namespace of named paths."""
    output = getattr(smk, "output", None)
    if output is None:
        return []
    try:
        paths = list(output)
    except TypeError:
        paths = list(vars(output).values())
    return [str(p) for p in paths if p]


def remove_outputs(paths) -> list[str]:
    """Remove each path (a file, or a directory and everything in it) that exists, and the
    temporary files :mod:`rtw.core.io` writes beside it; returns the paths removed."""
    import shutil
    from pathlib import Path
    removed = []
    for path in map(Path, paths):
        tmps = list(path.parent.glob(f".{path.name}*")) if path.parent.is_dir() else []
        for p in [path, *tmps]:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            elif p.exists() or p.is_symlink():
                p.unlink()
            else:
                continue
            removed.append(str(p))
    return removed


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line: an input or config error as it reads (it names
    file, row, column and value); any other error with its type and where in the library it
    was raised."""
    from rtw.core.config import ConfigError
    from rtw.core.io import InputError
    text = " ".join(str(error).split())
    if isinstance(error, (InputError, ConfigError)):
        return text or type(error).__name__
    where = ""
    tb = error.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module == "rtw" or module.startswith("rtw."):
            where = f" (in {module}, line {tb.tb_lineno})"
        tb = tb.tb_next
    return f"{type(error).__name__}: {text}{where}" if text else f"{type(error).__name__}{where}"


def run(main, smk) -> None:
    """Run ``main(smk)``; on any failure, leave nothing behind and say why in one line.

    Every exception is caught: the rule's declared outputs are removed (so no half-written
    file is left, whatever the job wrote before it failed), the full error goes to the rule's
    log (with the traceback when it is not an input or config error), and one line
    ``ERROR: <message> (log: <path>)`` goes to stderr; the exit status is 1 (130 for an
    interrupt).  An input error's message names the file, row, column and value.
    """
    from rtw.core.config import ConfigError
    from rtw.core.io import InputError
    log = smk.log[0] if len(smk.log) else None
    setup_logging(log)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    try:
        main(smk)
        _log_library_modules(main)
    except SystemExit as e:
        if e.code in (None, 0):
            raise
        _fail(e, smk, log, expected=False)
    except BaseException as e:  # noqa: BLE001 - every failure leaves no output
        _fail(e, smk, log, expected=isinstance(e, (InputError, ConfigError)))


def _fail(error: BaseException, smk, log, expected: bool) -> None:
    logger = logging.getLogger("rtw")
    message = one_line(error)
    for handler in logging.getLogger().handlers:   # the terminal gets the one line below only
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.CRITICAL + 1)
    if expected:
        logger.error("%s", message)
    else:
        logger.error("%s", message, exc_info=(type(error), error, error.__traceback__))
    removed = remove_outputs(declared_outputs(smk))
    if removed:
        logger.error("removed the job's outputs: %s", ", ".join(removed))
    for handler in logging.getLogger().handlers:
        handler.flush()
    where = f" (log: {log})" if log else ""
    print(f"ERROR: {message}{where}", file=sys.stderr)
    sys.exit(130 if isinstance(error, KeyboardInterrupt) else 1)


def clear_results(results="results", keep=("logs",)) -> list[str]:
    """Remove everything under ``results`` except the folders in ``keep`` (the Snakefile's
    ``onerror:`` handler: a failed run leaves nothing under ``results/`` but its logs).
    Returns the top-level entries removed."""
    import shutil
    from pathlib import Path
    root = Path(results)
    if not root.is_dir():
        return []
    removed = []
    for p in sorted(root.iterdir()):
        if p.name in keep:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink()
        removed.append(str(p))
    return removed
