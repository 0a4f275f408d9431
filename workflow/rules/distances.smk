# Pairs of chunk groups (a <= b) -> every pair of images under a cap, with all distances.


rule distances:
    input:
        frame_features_a=group_files("results/frame_features/{chunk}.parquet", "a"),
        frame_features_b=group_files("results/frame_features/{chunk}.parquet", "b"),
        hashes_a=group_files("results/hashes/{chunk}.parquet", "a"),
        hashes_b=group_files("results/hashes/{chunk}.parquet", "b"),
        embeddings_a=embedding_files("a"),
        embeddings_b=embedding_files("b"),
        code=core_of("distances"),
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
        metric_max=METRIC_MAX,
        hash_bits=HASH_BITS,
        width=EDGES["width"],
        height=EDGES["height"],
        # only edges_tolerant uses it: no rerun of the shards for an unused setting
        tolerance=(
            config["distances"]["tolerance"] if "edges_tolerant" in METRICS else 0
        ),
        caps={m: CAPS[m] for m in METRICS if m in CAPS},
        art_tolerance=config["distances"]["art_tolerance"],
        shared_blocks=config["distances"]["shared_blocks"],
        common_blocks=config["distances"]["common_blocks"],
        relative_cap=config["distances"]["relative_cap"],
        candidates=config["distances"]["candidates"],
        chunks_a=lambda wildcards: list(SIDES[int(wildcards.a)]),
        chunks_b=lambda wildcards: list(SIDES[int(wildcards.b)]),
    script:
        "../../scripts/distances.py"
