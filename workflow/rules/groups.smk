# All shards -> the matching rule's graph -> groups and the graph's edges (pairs).


rule groups:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        verified=verified_input,
        frame_features=expand_chunks("results/frame_features/{chunk}.parquet"),
        manifests=expand_chunks("results/manifest/{chunk}.parquet"),
        code=core_of("groups"),
    output:
        groups="results/groups.parquet",
        csv="results/groups.csv",
        pairs="results/pairs.parquet",
    log:
        "logs/groups.log",
    benchmark:
        "results/benchmarks/groups.tsv"
    conda:
        ENV
    params:
        metric_max=METRIC_MAX,
        hash_bits=HASH_BITS,
        matching=MATCHING,
        edge_size=[EDGES["width"], EDGES["height"]],
        tolerance=config["distances"]["tolerance"],
        local=LOCAL["enabled"],
    script:
        "../../scripts/groups.py"
