# Return-to-work trial pipeline (SPEC: ../shared/SPEC.md; config keys: config/README.md).
# Wiring only: statistics live in scripts/rtw/.
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")


# A config file given with --configfile replaces the bundled one (it is not
# merged into it), so a bring-your-own table runs only the outcomes it names.
if not workflow.overwrite_configfiles:
    BUNDLED_CONFIG = os.path.join(workflow.basedir, "config", "config.yaml")
    try:
        workflow.configfile(
            BUNDLED_CONFIG
        )  # the configfile: directive, callable inside try
    except WorkflowError as e:
        # snakemake says "not valid JSON or YAML" without the file or line: say both, in one line
        sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
        from rtw.core.validation import config_file_problem

        sys.exit(config_file_problem([BUNDLED_CONFIG]) or str(e))


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/survival.smk"
include: "workflow/rules/longitudinal.smk"
include: "workflow/rules/regression.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/simulation.smk"


onsuccess:
    # a quiet terminal: the jobs print warnings only; here, what needs reading, in a few lines
    from rtw.ops.run_warnings import gather

    print(gather(), file=sys.stderr)


onerror:
    # a failed run leaves nothing under results/ but the logs (no partial result)
    from rtw.core.entry import clear_results

    if clear_results("results", keep=("logs",)):
        print(
            "results/ cleared after the failure; the logs are in results/logs",
            file=sys.stderr,
        )


rule all:
    default_target: True
    input:
        all_outputs(),
