# Report stage: provenance of the run (the HTML report is built by `snakemake --report`).


rule provenance:
    input:
        inputs=input_files(),
        outputs=[o for o in all_outputs() if o != "results/provenance.json"],
        lib=lib("write_provenance"),
    output:
        "results/provenance.json",
    log:
        "results/logs/provenance.log",
    conda:
        ENV
    params:
        config=ACFG,
        seeds={"seed": ACFG["seed"]},
        repo=lambda w, input: repo_of(input.lib),
    script:
        "../../scripts/write_provenance.py"
