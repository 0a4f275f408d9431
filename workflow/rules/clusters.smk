# All shards -> the thresholded graph -> groups (clusters) and the graph's edges (pairs).


rule clusters:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        edges=expand_chunks("results/edges/{chunk}.parquet"),
        manifests=expand_chunks("results/manifest/{chunk}.parquet"),
        code=lib("graph"),
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
        metric_bits=METRIC_BITS,
        edge_scale=CLUSTERS["edge_scale"],
        edge_cap=CLUSTERS["edge_cap"],
        hash_max=CLUSTERS["hash_max"],
        min_edge_pixels=CLUSTERS["min_edge_pixels"],
        method=CLUSTERS["method"],
    script:
        "../../scripts/clusters.py"
