"""``python -m rtw``: the same command line as the installed ``rtw`` (:mod:`rtw.ops.cli`)."""
import sys

from rtw.ops.cli import main

if __name__ == "__main__":
    sys.exit(main())
