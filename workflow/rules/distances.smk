# Pairs of feature chunks (a <= b) -> every pair of images under a cap, with all distances.


rule distances:
    input:
        edges_a="results/edges/{a}.parquet",
        edges_b="results/edges/{b}.parquet",
        hashes_a="results/hashes/{a}.parquet",
        hashes_b="results/hashes/{b}.parquet",
        code=lib("bits"),
    output:
        "results/distances/{a}_{b}.parquet",
    log:
        "logs/distances/{a}_{b}.log",
    benchmark:
        "results/benchmarks/distances/{a}_{b}.tsv"
    conda:
        ENV
    params:
        metric_bits=METRIC_BITS,
        caps={m: CAPS[m] for m in METRICS if m in CAPS},
    script:
        "../../scripts/distances.py"
