# All shards -> the matching rule's graph -> groups (clusters) and the graph's edges (pairs).


rule clusters:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        edges=expand_chunks("results/edges/{chunk}.parquet"),
        manifests=expand_chunks("results/manifest/{chunk}.parquet"),
        code=core_of("clusters"),
    output:
        clusters="results/clusters.parquet",
        csv="results/clusters.csv",
        pairs="results/pairs.parquet",
    log:
        "logs/clusters.log",
    benchmark:
        "results/benchmarks/clusters.tsv"
    conda:
        ENV
    params:
        metric_max=METRIC_MAX,
        hash_bits=HASH_BITS,
        rule=CLUSTERS,
    script:
        "../../scripts/clusters.py"
