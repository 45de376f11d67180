"""Entry script (rule simulate_trial): write a synthetic trial's raw exports."""
from rtw.core.entry import run


def main(smk):
    from rtw.core.io import write_table
    from rtw.data.generator import simulate_trial
    p = smk.params
    arms = (p.arms["control"], p.arms["intervention"])
    tables = simulate_trial(p.synthetic, seed=p.seed, arms=arms, window_days=p.followup_days,
                            sms_weeks=p.sms_weeks, period_days=p.sms_period_days)
    for name, df in tables.items():
        write_table(df, smk.output[name])


run(main, snakemake)  # noqa: F821
