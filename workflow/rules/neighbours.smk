# All shards -> each image's k nearest images among the stored pairs, with every distance.


rule neighbours:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        frame_features=expand_chunks("results/frame_features/{chunk}.parquet"),
        code=core_of("neighbours"),
    output:
        "results/neighbours.parquet",
    log:
        "logs/neighbours.log",
    benchmark:
        "results/benchmarks/neighbours.tsv"
    conda:
        ENV
    params:
        k=config["neighbours"]["k"],
        metric_max=METRIC_MAX,
        hash_bits=HASH_BITS,
        matching=MATCHING,
        edge_size=[EDGES["width"], EDGES["height"]],
        tolerance=config["distances"]["tolerance"],
    script:
        "../../scripts/neighbours.py"
