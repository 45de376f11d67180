"""Shared plumbing for the thin entry scripts in ``scripts/``.

:func:`run` sets logging to the rule's log file, runs the entry's ``main`` and
turns an input or config error into one clear message on stderr and in the log
and a non-zero exit, without a traceback.  Outputs are written atomically by
:mod:`rtw.core.io`, and Snakemake removes the outputs of a failed job, so no
half-written result is left behind.
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


def run(main, smk) -> None:
    """Run ``main(smk)``; input/config errors exit 1 with a one-line message."""
    from rtw.core.config import ConfigError
    from rtw.core.io import InputError
    log = smk.log[0] if len(smk.log) else None
    setup_logging(log)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    try:
        main(smk)
        _log_library_modules(main)
    except (InputError, ConfigError) as e:
        logging.getLogger("rtw").error("%s", e)
        print(f"\nERROR: {e}\n", file=sys.stderr)
        sys.exit(1)
