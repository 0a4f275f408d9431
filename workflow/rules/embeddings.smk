# Opt-in deep fingerprints (embeddings.model): the kept frames -> ONNX model -> L2-normalised
# vectors per chunk; their cosine distances join the distance shards, and the train/test
# notebook's methods run on them: hierarchical groups, de-duplication and k-medoids
# representatives.


rule embeddings:
    input:
        manifest="results/manifest/{chunk}.parquet",
        # read for its list of kept frames only, which the `frames` params decide: a change
        # of edge or hash settings does not recompute the embeddings
        frame_features=ancient("results/frame_features/{chunk}.parquet"),
        model=EMBED["model"] or [],
        code=core_of("embeddings"),
    output:
        "results/embeddings/{chunk}.parquet",
    log:
        "logs/embeddings/{chunk}.log",
    benchmark:
        "results/benchmarks/embeddings/{chunk}.tsv"
    conda:
        DEEP_ENV
    threads: EMBED["threads"]
    params:
        output=EMBED["output"] or "",
        width=(EMBED_SIZE or (0, 0))[0],
        height=(EMBED_SIZE or (0, 0))[1],
        mean=EMBED["mean"],
        std=EMBED["std"],
        batch_size=EMBED["batch_size"],
        dtype=EMBED["dtype"],
        providers=EMBED["providers"],
        frames=FRAME_SELECTION,
    script:
        "../../scripts/embeddings.py"


rule embedding_groups:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        frame_features=expand_chunks("results/frame_features/{chunk}.parquet"),
        embeddings=expand_chunks("results/embeddings/{chunk}.parquet"),
        code=core_of("embedding_groups"),
    output:
        groups="results/embedding_groups.parquet",
        duplicates=report(
            "results/duplicates.csv",
            caption="../report/duplicates.rst",
            category="Embeddings",
        ),
        representatives=report(
            "results/representatives.csv",
            caption="../report/representatives.rst",
            category="Embeddings",
        ),
        scan="results/plots/kmedoids.csv",
        plot=report(
            "results/plots/kmedoids.png",
            caption="../report/kmedoids.rst",
            category="Embeddings",
        ),
    log:
        "logs/embedding_groups.log",
    benchmark:
        "results/benchmarks/embedding_groups.tsv"
    conda:
        DEEP_ENV
    params:
        similarity=EMBED["similarity"],
        linkage=EMBED["linkage"],
        duplicate_similarity=EMBED["duplicate_similarity"],
        representatives=EMBED["representatives"],
        k_range=EMBED["k_range"],
        seed=EMBED["seed"],
    script:
        "../../scripts/embedding_groups.py"
