"""The ``rtw`` command line: ``rtw verify results/``, ``rtw --version``.

Installed as a console command by ``pip install -e .`` (``[project.scripts]`` in
``pyproject.toml``); ``python -m rtw`` runs the same :func:`main`.
"""
from __future__ import annotations

import sys
from typing import Sequence

USAGE = ("usage: rtw verify [results/] [--root .] [--config FILE] [--no-config] "
         "[--no-packages] [--no-python] [--check-git]\n"
         "       rtw --version")


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch the sub-command (``verify``, the only one) and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv and argv[0] in ("-V", "--version"):
        from rtw import __version__
        print(f"rtw {__version__}")
        return 0
    if not argv or argv[0] != "verify":
        print(USAGE, file=sys.stderr)
        return 2
    from rtw.ops.verify import main as verify_main
    return verify_main(argv[1:])
