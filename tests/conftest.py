"""Shared test set-up.  The library is the installed ``rtw`` package (``pip install -r
requirements.txt`` installs it from scripts/ in editable mode); this folder holds the shared
helpers (helpers.py, _pipeline.py, _browser.py), importable because pytest puts the folder of
this conftest on the import path."""
