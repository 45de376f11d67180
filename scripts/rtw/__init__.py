"""rtw: the statistics library of the return-to-work trial pipeline.

Rooms by concern: ``core`` (config, estimates contract, io, model frames, entry
plumbing), ``data`` (cleaning, derivation, importer, blinding, generator),
``survival`` and ``models`` (engines and the runners that fit the SAP from
config), ``report`` (tables, writers, figures, formats, titles) and ``ops``
(provenance, verify, power, command line).  Pure functions and small result
objects.  Entry scripts in ``scripts/`` only read Snakemake's inputs, call
this library and write outputs.  Nothing trial-specific is hard-coded here: arms, outcomes,
covariates and conventions come from the config (the SAP in config form).
"""

__version__ = "0.1.0"
