"""Ops: running and checking the pipeline: provenance (:mod:`.provenance`), the
reviewer's ``rtw verify`` (:mod:`.verify`), the command line (:mod:`.cli`) and the
power simulation (:mod:`.power`)."""
