# Groups -> the groups whose members lie in more than one fold of a folder input
# (source.folds): train/test leakage.


rule leakage:
    input:
        groups="results/groups.parquet",
        code=core_of("leakage"),
    output:
        "results/leakage.csv",
    log:
        "logs/leakage.log",
    benchmark:
        "results/benchmarks/leakage.tsv"
    conda:
        ENV
    params:
        folds=SOURCE["folds"],
    script:
        "../../scripts/leakage.py"
