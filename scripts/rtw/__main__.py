"""Command line of the rtw library: ``python -m rtw verify results/``.

Run from the repository root with ``PYTHONPATH=scripts``, or as
``python scripts/rtw verify results/`` (this file then adds ``scripts/`` to
the import path itself).
"""
import sys
from pathlib import Path

if not __package__:  # run as ``python scripts/rtw``: import the package properly
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

COMMANDS = {"verify": "rtw.verify"}


def main(argv=None) -> int:
    """Dispatch ``verify`` (the only command) to :func:`rtw.verify.main`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = ("usage: python -m rtw verify [results/] [--root .] [--config FILE] "
             "[--no-config] [--no-packages] [--no-python] [--check-git]")
    if argv and argv[0] in ("-h", "--help"):
        print(usage)
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(usage, file=sys.stderr)
        return 2
    from rtw.verify import main as verify_main
    return verify_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
