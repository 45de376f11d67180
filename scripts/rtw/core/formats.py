"""File formats the readers accept (no heavy imports: the workflow reads this when it is parsed)."""

SUPPORTED_EXTENSIONS = (".csv", ".xlsx", ".parquet", ".dta", ".sav", ".sas7bdat", ".xpt")
STAT_EXTENSIONS = (".dta", ".sav", ".sas7bdat", ".xpt")
