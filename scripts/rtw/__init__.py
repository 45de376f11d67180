"""rtw: the statistics library of the return-to-work trial pipeline.

One module per concern; pure functions and small result objects.  Entry
scripts in ``scripts/`` only read Snakemake's inputs, call this library and
write outputs.  Nothing trial-specific is hard-coded here: arms, outcomes,
covariates and conventions come from the config (the SAP in config form).
"""

__version__ = "0.1.0"
