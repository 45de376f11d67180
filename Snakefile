# Return-to-work trial pipeline (SPEC: ../shared/SPEC.md; config keys: config/README.md).
# Wiring only: statistics live in scripts/rtw/.
import os

from snakemake.utils import min_version

min_version("9.0")


# A config file given with --configfile replaces the bundled one (it is not
# merged into it), so a bring-your-own table runs only the outcomes it names.
if not workflow.overwrite_configfiles:
    configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/survival.smk"
include: "workflow/rules/regression.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/simulation.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
