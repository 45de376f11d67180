# Input functions and helpers shared by the rules (no statistics here).
import copy
import sys
from pathlib import Path

# The workflow's own library (scripts/rtw, installed by requirements.txt as `-e .`) comes
# first, so the Snakefile of a checkout always plans with that checkout's code.
sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from rtw.core.config import (
    ConfigError,
    analysis_config,
    config_source,
    load,
)  # noqa: E402
from rtw.core.deps import ImportCache, script_library_files  # noqa: E402
from rtw.core.validation import typed_command_line  # noqa: E402
from rtw.core.entry import config_slice  # noqa: E402
from rtw.core.formats import SUPPORTED_EXTENSIONS  # noqa: E402
from rtw.data.plan import check_raw_plan, check_table_plan  # noqa: E402
from rtw.report.text import (
    survival_figure_keys,
    table_keys,
    trial_figure_keys,
)  # noqa: E402

try:
    CFG = load(
        typed_command_line(config, workflow.config_settings.config),
        source=config_source(workflow.configfiles),
    )
except ConfigError as e:
    # the one-line message alone on stderr, exit status 1: a WorkflowError would add its
    # class, this file's line and a traceback line around it
    sys.exit(str(e))

# Config seen by all steps after the data step. In blinded mode the arms are
# relabelled A/B there (and in the analysis dataset), so no output carries a
# true label.  Only clean_derive / import_table see the true labels.
ACFG = analysis_config(CFG)

SOURCE = CFG["data"]["source"]
RAW_DIR = CFG["data"]["raw_dir"]
RAW_FMT = CFG["data"]["raw_format"]
RAW_TABLES = ["screening", "baseline", "sms", "followup", "intervention", "withdrawals"]
TTE = [o["name"] for o in CFG["outcomes"]["time_to_event"]]
SCHEMAS = str(Path(workflow.basedir) / "workflow" / "schemas")
ENV = "../../environment.yml"

if SOURCE == "table" and not CFG["data"]["table"]:
    sys.exit(
        f"{config_source(workflow.configfiles)}: data.table: data.source is 'table' but "
        "data.table (the path to your analysis table) is not set"
    )


_SCRIPTS = Path(workflow.basedir) / "scripts"

# The config each rule reads (rtw.core.entry.config_slice), passed as params named after the
# top-level keys: a rule reruns when a setting it reads changes, and only then.
_MODEL_TERMS = (
    "covariates",
    "stratification_factors",
    "strata",
    "cluster",
    "practice_effect",
)
_ANALYSIS_DATA = (
    "data.source",
    "trial",
    "blinded",
    "blind_seed",
    "outcomes",
    "subgroups",
    *_MODEL_TERMS,
)
_READ = (
    "data.sheet",
    "data.csv",
    "data.missing_values",
)  # how files are read (rtw.core.io)
SLICES = {
    "clean_derive": (*_ANALYSIS_DATA, *_READ, "derivation"),
    "import_table": (*_ANALYSIS_DATA, *_READ, "data.columns"),
    "survival": (
        "trial.arms",
        "conf_levels",
        "survival.ties",
        "survival.km_conf_type",
        "survival.median_rule",
        "survival.proportions_at_days",
        "survival.at_risk_days",
        "survival.cif_days",
        "outcomes.time_to_event",
        "subgroups",
        "min_per_arm",
        "seed",
        "figures.schoenfeld_points",
        *_MODEL_TERMS,
    ),
    "regression": (
        "data.source",
        "trial.arms",
        "trial.timepoints",
        "conf_levels",
        "seed",
        "outcomes",
        "subgroups",
        "regression",
        "min_per_arm",
        *_MODEL_TERMS,
    ),
    "describe_outcomes": ("trial.arms", "outcomes"),
    "presentation_tables": (
        "trial.arms",
        "trial.arm_names",
        "conf_levels",
        "outcomes",
        "survival.proportions_at_days",
        "table1",
        "tables",
        "subgroups",
        "covariates",
        "stratification_factors",
        "cluster",
    ),
    "data_tables": ("trial.arms", "trial.arm_names", "figures.consort_reason_labels"),
    "survival_figures": (
        "trial.arms",
        "trial.arm_names",
        "trial.arm_colours",
        "trial.followup_days",
        "conf_levels",
        "outcomes",
        "survival.at_risk_days",
        "figures.schoenfeld_model",
        "figures.term_labels",
        "figures.km_inset",
        "figures.km_inset_model",
        "figures.km_median_lines",
        "covariates",
        "stratification_factors",
    ),
    "longitudinal": (
        "trial.arms",
        "conf_levels",
        "min_per_arm",
        "outcomes.recurrent",
        "outcomes.multistate",
        *_MODEL_TERMS,
    ),
    "longitudinal_figures": (
        "trial.arms",
        "trial.arm_names",
        "trial.arm_colours",
        "outcomes.recurrent",
        "outcomes.multistate",
    ),
    "longitudinal_table": (
        "trial.arms",
        "trial.arm_names",
        "conf_levels",
        "tables.page_size",
        "table1",
        "subgroups",
        "outcomes.recurrent",
        "outcomes.multistate",
        "stratification_factors",
        "covariates",
    ),
    "estimands_table": (
        "trial.arms",
        "trial.arm_names",
        "outcomes",
        "estimands",
    ),
    "trial_figures": (
        "data.source",
        "trial.arms",
        "trial.arm_names",
        "trial.arm_colours",
        "trial.followup_days",
        "conf_levels",
        "outcomes",
        "subgroups",
        "tables",
        "figures.consort_reason_labels",
    ),
}


def sap_params(rule, cfg=None):
    """Params of ``rule``: its slice (SLICES) of the analysis config (``cfg`` for the data rules)."""
    return config_slice(ACFG if cfg is None else cfg, *SLICES[rule])


_DEPS_CACHE = ImportCache(Path(".snakemake") / "rtw-code-deps.json")


def lib(script):
    """Library files that entry script ``scripts/<script>.py`` runs (its imports, followed
    through the library with ``ast``: rtw.core.deps), so a change to one of them reruns the
    rule and a change elsewhere does not.  Each file's imports are cached by content hash in
    .snakemake/ (a no-op run does not parse the library again)."""
    files = script_library_files(_SCRIPTS / f"{script}.py", _SCRIPTS, _DEPS_CACHE)
    _DEPS_CACHE.save()
    return files


def repo_of(lib_files):
    """The repository a rule's library files come from (for provenance's git commit)."""
    init = next(
        f for f in lib_files if Path(f).as_posix().endswith("scripts/rtw/__init__.py")
    )
    return str(Path(init).resolve().parents[2])


def raw_table(name):
    """Path of a raw table: the generator's output, or the user's file in whatever format."""
    if SOURCE == "synthetic":
        return f"{RAW_DIR}/{name}.{RAW_FMT}"
    for ext in SUPPORTED_EXTENSIONS:  # rtw.core.formats: .csv, .xlsx, ... .xpt
        p = Path(RAW_DIR) / f"{name}{ext}"
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


# The plan is checked before any job (snakemake -n too): the config's columns exist in the
# table or among those derivation writes, and both arm labels occur in the data (rtw.data.plan).
try:
    if SOURCE == "table":
        # event codes named by their value label are resolved to the codes (rtw.data.labels)
        # for every rule after the import
        ACFG = analysis_config(
            check_table_plan(CFG, config_source(workflow.configfiles))
        )
    else:
        check_raw_plan(
            CFG,
            raw_table("baseline") if SOURCE == "raw" else None,
            config_source(workflow.configfiles),
            Path(SCHEMAS) / "analysis.schema.yaml",
        )
except ConfigError as e:
    sys.exit(str(e))


# Captions and the report's workflow page are rendered by `snakemake --report` with
# snakemake.config: they read the analysis config (every default filled in, the outcomes in
# their one shape, blinded arm labels in blinded mode), not the file as written.
config.update(copy.deepcopy(ACFG))

COUNT = CFG["outcomes"]["count"]
HAS_CONT = bool(CFG["outcomes"]["continuous"])
HAS_BIN = bool(CFG["outcomes"]["binary"])
HAS_COUNT_SUBGROUPS = bool(CFG["subgroups"]) and bool(COUNT)  # the NB subgroup analyses
HAS_DELIVERY = SOURCE != "table"


# Regression analyses grouped into few jobs (each job pays ~2.5 s of imports):
# group -> runners of rtw.models.runner, only those the config calls for.
REGRESSION_GROUPS = {
    g: runners
    for g, runners in {
        "primary": [
            r
            for r, on in (
                ("run_primary", COUNT),
                ("run_subgroups", HAS_COUNT_SUBGROUPS),
                ("run_delivery", HAS_DELIVERY),
            )
            if on
        ],
        "sensitivity": ["run_sensitivity"] if COUNT else [],
        "secondary": [
            r
            for r, on in (
                ("run_secondary_continuous", HAS_CONT),
                ("run_secondary_binary", HAS_BIN),
            )
            if on
        ],
    }.items()
    if runners
}


# Recurrent-event and multi-state outcomes (SPEC §9; workflow/rules/longitudinal.smk)
LONG = {
    kind: [o["name"] for o in CFG["outcomes"][kind]]
    for kind in ("recurrent", "multistate")
}


def long_cfg(kind, name):
    """Analysis config (blinded in blinded mode) of one recurrent or multi-state outcome."""
    return next(o for o in ACFG["outcomes"][kind] if o["name"] == name)


def long_outputs():
    """Estimates, curves, figures and the table of the recurrent and multi-state outcomes."""
    files = []
    for kind, names in LONG.items():
        for n in names:
            files += [
                f"results/estimates/{kind}_{n}.csv",
                f"results/tables/{kind}/{n}_curves.csv",
            ]
            files += [
                f"results/figures/{LONG_FIGURE[kind]}_{n}.{f}" for f in FIG_FORMATS
            ]
    if any(LONG.values()):
        files += [f"results/tables/longitudinal.{f}" for f in TABLE_FORMATS]
    return files


LONG_FIGURE = {"recurrent": "mcf", "multistate": "states"}


def estimate_files():
    files = ["results/estimates/descriptive.csv"]
    files += [
        f"results/estimates/{k}_{n}.csv" for k, names in LONG.items() for n in names
    ]
    files += [f"results/estimates/survival_{o}.csv" for o in TTE]
    files += [f"results/estimates/regression_{g}.csv" for g in REGRESSION_GROUPS]
    return files


def tte_params(wildcards):
    return next(
        o for o in ACFG["outcomes"]["time_to_event"] if o["name"] == wildcards.outcome
    )


# ---- outputs stage (figures and presentation tables, issue 5) ----
FIG_FORMATS = ["png", "pdf"]
TABLE_FORMATS = ["csv", "md", "html", "docx", "tex"]
_REPORT_DIR = Path(workflow.basedir) / "workflow" / "report"


def tte_cfg(name):
    """Analysis config (blinded in blinded mode) of one time-to-event outcome."""
    return next(o for o in ACFG["outcomes"]["time_to_event"] if o["name"] == name)


def caption(name, fallback=None):
    """Caption path (relative to workflow/rules/) of report/<name>.rst, else of the fallback."""
    if fallback and not (_REPORT_DIR / f"{name}.rst").exists():
        name = fallback
    return f"../report/{name}.rst"


# key -> (file stem, caption, report subcategory); which keys a run has comes from
# rtw.report.text (the library decides what the config calls for, the rules only wire).
_SURVIVAL_FIGURES = {
    "km": ("results/figures/km_{o}", "km_{o}", "km", "Kaplan-Meier"),
    "cif": ("results/figures/cif_{o}", "cif", None, "Cumulative incidence"),
    "schoenfeld": (
        "results/figures/schoenfeld_{o}",
        "schoenfeld",
        None,
        "Proportional hazards",
    ),
}
_TRIAL_FIGURES = {
    "consort": ("results/figures/consort", "consort", "CONSORT"),
    "forest_primary": (
        "results/figures/forest_primary",
        "forest_primary",
        "Forest plots",
    ),
    "forest_subgroups": (
        "results/figures/forest_subgroups",
        "forest_subgroups",
        "Forest plots",
    ),
    "forest_subgroups_tte": (
        "results/figures/forest_subgroups_tte",
        "forest_subgroups_tte",
        "Forest plots",
    ),
    "count_distribution": (
        "results/figures/distribution_{count}",
        "count_distribution",
        "Distributions",
    ),
}
_TABLES = {
    "table1": ("results/tables/table1", "table1", "Table 1"),
    "primary": ("results/tables/primary_outcome", "primary_table", "Primary outcome"),
    "secondary": (
        "results/tables/secondary_outcomes",
        "secondary_table",
        "Secondary outcomes",
    ),
    "survival": (
        "results/tables/survival_summary",
        "survival_table",
        "Survival summary",
    ),
}


def survival_figures(outcome):
    """{key: (stem, caption, subcategory)} of the figures of one time-to-event outcome."""
    figs = {}
    for key in survival_figure_keys(tte_cfg(outcome)):
        stem, cap, fallback, sub = _SURVIVAL_FIGURES[key]
        figs[key] = (
            stem.format(o=outcome),
            caption(cap.format(o=outcome), fallback),
            sub,
        )
    return figs


def trial_figures():
    """{key: (stem, caption, subcategory)} of the figures that are not per outcome."""
    figs = {}
    count = CFG["outcomes"]["count"]
    for key in trial_figure_keys(CFG):
        stem, cap, sub = _TRIAL_FIGURES[key]
        figs[key] = (
            stem.format(count=count["name"] if count else ""),
            caption(cap),
            sub,
        )
    return figs


def trial_figure_inputs():
    inputs = {
        "analysis": "results/data/analysis.parquet",
        "estimates": "results/tables/estimates.csv",
    }
    if "consort" in trial_figures():
        inputs["consort"] = "results/data/consort.csv"
    return inputs


def presentation_tables():
    """Presentation tables: {key: (stem, caption, subcategory)}."""
    tabs = {}
    for key in table_keys(CFG):
        stem, cap, sub = _TABLES[key]
        tabs[key] = (stem, caption(cap), sub)
    return tabs


def reported(kind, spec, formats):
    """Named outputs {<key>_<fmt>: report(file)} for a {key: (stem, caption, subcategory, ...)} spec."""
    out = {}
    for key, (stem, cap, sub, *_) in spec.items():
        for f in formats:
            out[f"{key}_{f}"] = report(
                f"{stem}.{f}",
                caption=cap,
                category=kind,
                subcategory=sub,
                labels={"name": Path(stem).name, "format": f.upper()},
            )
    return out


def reported_tables(spec, formats):
    """Named outputs of presentation tables: each table's HTML view once under Tables, its
    other formats under Downloads (one entry per format)."""
    out = {}
    for key, (stem, cap, sub, *_) in spec.items():
        for f in formats:
            if f == "html":
                out[f"{key}_{f}"] = report(
                    f"{stem}.{f}", caption=cap, category="Tables", subcategory=sub
                )
            else:
                out[f"{key}_{f}"] = downloadable(f"{stem}.{f}", sub)
    return out


def downloadable(path, subcategory):
    """``path`` in the report under Downloads (a download button, no view)."""
    return report(
        path,
        caption=caption("download"),
        category="Downloads",
        subcategory=subcategory,
        labels={"file": Path(path).name, "format": Path(path).suffix[1:].upper()},
    )


def data_tables():
    """HTML views of the data tables for the report: {key: (stem, caption, subcategory)}."""
    tabs = {"queries": ("results/tables/queries", caption("queries"), "Data queries")}
    if SOURCE != "table":
        tabs["consort"] = (
            "results/tables/consort",
            caption("consort_table"),
            "CONSORT flow",
        )
    return tabs


def output_files():
    """Every figure and presentation table file of the run."""
    files = []
    for o in TTE:
        files += [
            f"{s}.{f}" for s, *_ in survival_figures(o).values() for f in FIG_FORMATS
        ]
    files += [f"{s}.{f}" for s, *_ in trial_figures().values() for f in FIG_FORMATS]
    files += [
        f"{s}.{f}" for s, *_ in presentation_tables().values() for f in TABLE_FORMATS
    ]
    return files


def all_outputs():
    out = [
        "results/data/analysis.parquet",
        "results/data/analysis.csv",
        "results/data/queries.csv",
        "results/tables/estimates.csv",
        "results/provenance.json",
    ]
    out += [f"results/tables/survival/{o}_summary.csv" for o in TTE]
    if SOURCE != "table":
        out.append("results/data/consort.csv")
        out += [
            f"results/data/{t}.{f}"
            for t in ("work_status", "absence_spells")
            for f in ("parquet", "csv")
        ]
    out += output_files()
    out += [f"results/tables/estimands.{f}" for f in TABLE_FORMATS]
    out += [f"{s}.{f}" for s, *_ in data_tables().values() for f in ("html", "csv")]
    out += long_outputs()
    if CFG["simulation"]["enabled"]:  # power simulation (simulation.smk, issue 6)
        out += [
            "results/simulation/power.csv",
            "results/figures/power_curve.png",
            "results/figures/power_curve.pdf",
        ]
    return out
