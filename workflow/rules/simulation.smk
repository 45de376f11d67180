# Simulation stage (SPEC A16): power simulation for a definitive trial (issue 6).
# A separate target, `snakemake --cores all power` (or part of `all` with
# simulation.enabled: true).  One job per (grid point, batch of replicates), so
# the replicates run in parallel over cores or SLURM nodes
# (`snakemake --profile profiles/slurm power`); seeds depend only on the config
# seed, the grid point and the replicate index (scripts/rtw/ops/power.py), so the
# results do not depend on the batching or the executor.  The `simulation:` block is
# typed (with its defaults) in workflow/schemas/config.schema.yaml and checked when the
# config is loaded (common.smk); each rule gets only the config it reads, so an edit of
# the simulation block reruns no data or analysis job, and an edit of the analysis config
# reruns the power jobs only when they read the key.
from rtw.ops.power import aggregate_config as _power_aggregate_config
from rtw.ops.power import batch_config as _power_batch_config
from rtw.ops.power import batch_files as _power_batch_files
from rtw.ops.power import batch_range as _power_batch_range
from rtw.ops.power import grid as _power_grid
from rtw.ops.power import GRID_KEYS as _POWER_GRID_KEYS
from rtw.ops.power import settings as _power_settings

SIM = _power_settings(CFG)
SIM_POINTS = _power_grid(SIM)


rule power_batch:
    input:
        lib=lib("simulate_power_batch"),
    output:
        "results/simulation/batches/{point}/b{batch}.csv",
    log:
        "results/logs/power/{point}_b{batch}.log",
    wildcard_constraints:
        point=r"n\d+_irr[^_/]+_theta[^_/]+_att[^_/]+",
        batch=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        point=lambda w: SIM_POINTS[w.point],
        replicates=lambda w: _power_batch_range(SIM, int(w.batch)),
        sim={k: SIM[k] for k in ("seed", "cox", "n_practices", "practice_effect")},
        synthetic=CFG["synthetic"],
        analysis=_power_batch_config(ACFG, SIM),
    script:
        "../../scripts/simulate_power_batch.py"


rule power_aggregate:
    input:
        batches=_power_batch_files(SIM),
        lib=lib("simulate_power_aggregate"),
    output:
        power="results/simulation/power.csv",
        detail="results/simulation/power_detail.csv",
        estimates="results/simulation/estimates.csv",
        png=report(
            "results/figures/power_curve.png",
            caption="../report/power.rst",
            category="Figures",
            subcategory="Power",
            labels={"name": "power_curve", "format": "PNG"},
        ),
        pdf=report(
            "results/figures/power_curve.pdf",
            caption="../report/power.rst",
            category="Figures",
            subcategory="Power",
            labels={"name": "power_curve", "format": "PDF"},
        ),
    log:
        "results/logs/power_aggregate.log",
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        sim={k: SIM[k] for k in (*_POWER_GRID_KEYS, "alpha", "cox")},
        synthetic={"nb_mean": CFG["synthetic"]["nb_mean"]},
        analysis=_power_aggregate_config(ACFG),
    script:
        "../../scripts/simulate_power_aggregate.py"


rule power:
    input:
        rules.power_aggregate.output,
