# Recurrent-event and multi-state outcomes (SPEC §9): one analysis job and one figure job per
# outcome of outcomes.recurrent / outcomes.multistate, and one table of them all. The long
# tables are the ones derivation writes (results/data/work_status, absence_spells) or the
# user's own (config `table`).

for _kind, _names in LONG.items():
    for _name in _names:

        rule:
            name:
                f"{_kind}_{_name}"
            input:
                analysis="results/data/analysis.parquet",
                table=long_cfg(_kind, _name)["table"],
                lib=lib("fit_longitudinal"),
            output:
                estimates=f"results/estimates/{_kind}_{_name}.csv",
                curves=f"results/tables/{_kind}/{_name}_curves.csv",
                at_risk=f"results/tables/{_kind}/{_name}_at_risk.csv",
            log:
                f"results/logs/{_kind}_{_name}.log",
            benchmark:
                f"results/benchmarks/{_kind}_{_name}.tsv"
            conda:
                ENV
            params:
                **sap_params("longitudinal"),
                kind=_kind,
                outcome=long_cfg(_kind, _name),
            script:
                "../../scripts/fit_longitudinal.py"

        rule:
            name:
                f"{_kind}_figures_{_name}"
            input:
                curves=f"results/tables/{_kind}/{_name}_curves.csv",
                at_risk=f"results/tables/{_kind}/{_name}_at_risk.csv",
                lib=lib("make_figures_longitudinal"),
            output:
                png=report(
                    f"results/figures/{LONG_FIGURE[_kind]}_{_name}.png",
                    caption=caption(LONG_FIGURE[_kind]),
                    category="Figures",
                    subcategory="Outcomes over time",
                ),
                pdf=f"results/figures/{LONG_FIGURE[_kind]}_{_name}.pdf",
            log:
                f"results/logs/{_kind}_figures_{_name}.log",
            conda:
                ENV
            params:
                **sap_params("longitudinal_figures"),
                kind=_kind,
                outcome=long_cfg(_kind, _name),
            script:
                "../../scripts/make_figures_longitudinal.py"


if any(LONG.values()):

    rule longitudinal_table:
        input:
            estimates="results/tables/estimates.csv",
            lib=lib("make_table_longitudinal"),
        output:
            csv=downloadable("results/tables/longitudinal.csv", "Outcomes over time"),
            md=downloadable("results/tables/longitudinal.md", "Outcomes over time"),
            html=report(
                "results/tables/longitudinal.html",
                caption="../report/longitudinal_table.rst",
                category="Tables",
                subcategory="Outcomes over time",
            ),
            docx=downloadable("results/tables/longitudinal.docx", "Outcomes over time"),
            tex=downloadable("results/tables/longitudinal.tex", "Outcomes over time"),
        log:
            "results/logs/longitudinal_table.log",
        conda:
            ENV
        params:
            **sap_params("longitudinal_table"),
        script:
            "../../scripts/make_table_longitudinal.py"
