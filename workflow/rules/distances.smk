# Pairs of chunk groups (a <= b) -> every pair of images under a cap, with all distances.


rule distances:
    input:
        edges_a=group_files("results/edges/{chunk}.parquet", "a"),
        edges_b=group_files("results/edges/{chunk}.parquet", "b"),
        hashes_a=group_files("results/hashes/{chunk}.parquet", "a"),
        hashes_b=group_files("results/hashes/{chunk}.parquet", "b"),
        code=lib("bits"),
    output:
        "results/distances/{a}_{b}.parquet",
    log:
        "logs/distances/{a}_{b}.log",
    benchmark:
        "results/benchmarks/distances/{a}_{b}.tsv"
    conda:
        ENV
    threads: config["distances"]["threads"]
    resources:
        # codes of both sides in memory (~1.3 KB per image) plus the runtime; doubles on retry
        mem_mb=lambda wildcards, input, attempt: attempt
        * (500 + int(8 * input.size_mb)),
        runtime=lambda wildcards, attempt: attempt * 60,
    params:
        metric_bits=METRIC_BITS,
        caps={m: CAPS[m] for m in METRICS if m in CAPS},
        candidates=config["distances"]["candidates"],
        chunks_a=lambda wildcards: list(GROUPS[int(wildcards.a)]),
        chunks_b=lambda wildcards: list(GROUPS[int(wildcards.b)]),
    script:
        "../../scripts/distances.py"
