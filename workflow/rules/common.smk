# Input functions and helpers shared by the rules (no statistics here).
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from rtw.config import ConfigError, normalise  # noqa: E402

try:
    CFG = normalise(config)
except ConfigError as e:
    raise WorkflowError(f"config error: {e}")

SOURCE = CFG["data"]["source"]
RAW_DIR = CFG["data"]["raw_dir"]
RAW_FMT = CFG["data"]["raw_format"]
RAW_TABLES = ["screening", "baseline", "sms", "followup", "intervention", "withdrawals"]
TTE = [o["name"] for o in CFG["outcomes"]["time_to_event"]]
SCHEMAS = str(Path(workflow.basedir) / "workflow" / "schemas")
ENV = "../../environment.yml"

if SOURCE == "table" and not CFG["data"].get("table"):
    raise WorkflowError("config error: data.source is 'table' but data.table (the path to your "
                        "analysis table) is not set")


def lib(*modules):
    """Library files a rule depends on (a change in them reruns the rule)."""
    base = Path(workflow.basedir) / "scripts" / "rtw"
    return [str(base / f"{m}.py") for m in ("__init__", "io", "config", "estimates", "entry") + modules]


def raw_table(name):
    """Path of a raw table: the generator's output, or the user's file in whatever format."""
    if SOURCE == "synthetic":
        return f"{RAW_DIR}/{name}.{RAW_FMT}"
    for ext in ("csv", "xlsx", "parquet", "dta", "sav"):
        p = Path(RAW_DIR) / f"{name}.{ext}"
        if p.exists():
            return str(p)
    # missing: Snakemake reports the expected file as a missing input
    return f"{RAW_DIR}/{name}.csv"


def raw_inputs():
    return {t: raw_table(t) for t in RAW_TABLES}


def input_files():
    """Every input file of the run (for provenance)."""
    if SOURCE == "table":
        return [CFG["data"]["table"]]
    return [p for p in raw_inputs().values() if p]


def estimate_files():
    files = ["results/estimates/descriptive.csv"]
    return files


def all_outputs():
    out = [
        "results/data/analysis.parquet",
        "results/data/analysis.csv",
        "results/data/queries.csv",
        "results/tables/estimates.csv",
        "results/provenance.json",
    ]
    if SOURCE != "table":
        out.append("results/data/consort.csv")
    return out
