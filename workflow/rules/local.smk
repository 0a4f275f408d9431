# Opt-in local features (local.enabled): the kept frames -> ORB keypoints of each frame and
# of its mirror image, with a small colour copy, per chunk -> each frame's candidate pairs
# verified (RANSAC similarity fit, dense colour check), with all their distances; groups
# links them by matching.local.


rule keypoints:
    input:
        manifest="results/manifest/{chunk}.parquet",
        # read for its list of kept frames only, which the `frames` params decide: a change
        # of edge or hash settings does not recompute the keypoints
        frame_features=ancient("results/frame_features/{chunk}.parquet"),
        code=core_of("keypoints"),
    output:
        "results/keypoints/{chunk}.parquet",
    log:
        "logs/keypoints/{chunk}.log",
    benchmark:
        "results/benchmarks/keypoints/{chunk}.tsv"
    conda:
        ENV
    threads: LOCAL["threads"]
    resources:
        # about 75 KB of features per frame, and a few decoded frames per thread
        mem_mb=lambda wildcards, attempt: attempt * 1500,
    params:
        size=LOCAL["size"],
        features=LOCAL["features"],
        frames=FRAME_SELECTION,
    script:
        "../../scripts/keypoints.py"


rule verify:
    input:
        keypoints=expand_chunks("results/keypoints/{chunk}.parquet"),
        frame_features=expand_chunks("results/frame_features/{chunk}.parquet"),
        hashes=expand_chunks("results/hashes/{chunk}.parquet"),
        embeddings=(
            expand_chunks("results/embeddings/{chunk}.parquet")
            if EMBED["model"]
            else []
        ),
        code=core_of("verify"),
    output:
        "results/verified.parquet",
    log:
        "logs/verify.log",
    benchmark:
        "results/benchmarks/verify.tsv"
    conda:
        ENV
    threads: LOCAL["threads"]
    resources:
        # every frame's local features (about 75 KB each) and codes, doubled on retry
        mem_mb=lambda wildcards, input, attempt: attempt
        * (1000 + int(3 * input.size_mb)),
    params:
        size=LOCAL["size"],
        ratio=LOCAL["ratio"],
        tolerance=LOCAL["tolerance"],
        min_matches=LOCAL["min_matches"],
        candidates=LOCAL["candidates"],
        metric_max=METRIC_MAX,
        hash_bits=HASH_BITS,
        width=EDGES["width"],
        height=EDGES["height"],
        distance_tolerance=(
            config["distances"]["tolerance"] if "edges_tolerant" in METRICS else 0
        ),
        art_tolerance=config["distances"]["art_tolerance"],
        common_blocks=config["distances"]["common_blocks"],
        chunks=list(range(len(CHUNKS))),
    script:
        "../../scripts/verify.py"
