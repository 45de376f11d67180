"""The ``rtw`` command line: ``rtw verify results/``, ``rtw check-config FILE...``,
``rtw --version``.

Installed as a console command by ``pip install -e .`` (``[project.scripts]`` in
``pyproject.toml``); ``python -m rtw`` runs the same :func:`main`.
"""
from __future__ import annotations

import sys
from typing import Sequence

USAGE = ("usage: rtw verify [results/] [--root .] [--config FILE] [--no-config] "
         "[--no-packages] [--no-python] [--check-git]\n"
         "       rtw check-config FILE [FILE...]\n"
         "       rtw --version")


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch the sub-command (``verify``, ``check-config``) and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv and argv[0] in ("-V", "--version"):
        from rtw import __version__
        print(f"rtw {__version__}")
        return 0
    if argv and argv[0] == "check-config":
        return check_config(argv[1:])
    if not argv or argv[0] != "verify":
        print(USAGE, file=sys.stderr)
        return 2
    from rtw.ops.verify import main as verify_main
    return verify_main(argv[1:])


def check_config(files: Sequence[str]) -> int:
    """``rtw check-config FILE...``: check config file(s) as ``snakemake --configfile FILE...``
    would load them, without snakemake.

    Reads and merges the files (a YAML problem is reported with its file, line and column,
    which snakemake does not give), validates the result against the schema and
    normalises it as the workflow does (:func:`rtw.core.config.load`).  Prints every
    schema problem, one line each (the workflow stops at the first), or ``<source>: OK``.

    Returns
    -------
    int
        0 when the config is valid, 1 when it is not, 2 without a file.
    """
    if not files or any(f.startswith("-") for f in files):
        print(USAGE, file=sys.stderr)
        return 2
    from rtw.core.config import ConfigError, config_source, load
    from rtw.core.validation import read_config
    source = config_source(files)
    try:
        load(read_config(files), source=source)
    except ConfigError as e:
        for line in getattr(e, "problems", None) or [str(e)]:
            print(line, file=sys.stderr)
        return 1
    print(f"{source}: OK")
    return 0
