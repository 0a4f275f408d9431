# With a ground truth: scores of the matching rule and of every rule in evaluation.compare,
# all computed from the same stored distances.


rule evaluate:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        verified=verified_input,
        frame_features=expand_chunks("results/frame_features/{chunk}.parquet"),
        truth=truth_input,
        code=core_of("evaluate"),
    output:
        "results/evaluation.json",
    log:
        "logs/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate.tsv"
    conda:
        ENV
    params:
        metrics=METRICS,
        hash_bits=HASH_BITS,
        matching=MATCHING,
        edge_size=[EDGES["width"], EDGES["height"]],
        tolerance=config["distances"]["tolerance"],
        local=LOCAL["enabled"],
        compare=COMPARE,
        dont_care=config["evaluation"]["dont_care"],
    script:
        "../../scripts/evaluate.py"
