"""Entry script (rule simulate_trial): write a synthetic trial's raw exports."""
from rtw.core.entry import run


def main(smk):
    from rtw.core.io import write_table
    from rtw.data.generator import simulate_trial
    t = smk.params.trial
    arms = (smk.params.arms["control"], smk.params.arms["intervention"])
    tables = simulate_trial(smk.params.synthetic, seed=smk.params.seed, arms=arms,
                            window_days=t["followup_days"], sms_weeks=t["sms_weeks"],
                            period_days=t["sms_period_days"])
    for name, df in tables.items():
        write_table(df, smk.output[name])


run(main, snakemake)  # noqa: F821
