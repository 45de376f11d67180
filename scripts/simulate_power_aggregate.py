"""Entry script (rule power_aggregate): power table, estimates and power curve."""
from rtw.core.entry import run


def main(smk):
    from pathlib import Path

    import pandas as pd

    from rtw.report import style
    from rtw.core.estimates import write_estimates
    from rtw.report.figures import power_curve
    from rtw.core.io import atomic_write_csv
    from rtw.ops.power import aggregate

    sim = dict(smk.params.sim)
    merged = {}
    for f in smk.input.batches:
        lab = Path(f).parent.name
        merged.setdefault(lab, []).append(pd.read_csv(f))
    frames = {lab: pd.concat(v, ignore_index=True) for lab, v in merged.items()}
    power, detail, est = aggregate(frames, sim, dict(smk.params.synthetic),
                                   dict(smk.params.analysis))
    atomic_write_csv(power, smk.output.power)
    atomic_write_csv(detail, smk.output.detail)
    write_estimates(est, smk.output.estimates)
    fig, _ = power_curve(power, {}, alpha=sim["alpha"])   # power_curve reads no config
    style.save_figure(fig, Path(smk.output.png).with_suffix(""), formats=("png", "pdf"))


run(main, snakemake)  # noqa: F821
