# Frames (and, with hashes.edge_methods, edge maps) -> perceptual hashes, one column each.


rule hashes:
    input:
        frames="results/frames/{chunk}.parquet",
        edges=lambda wildcards: (
            f"results/edges/{wildcards.chunk}.parquet"
            if HASHES["edge_methods"]
            else []
        ),
        code=lib("hashes", "bits", "metrics"),
    output:
        "results/hashes/{chunk}.parquet",
    log:
        "logs/hashes/{chunk}.log",
    benchmark:
        "results/benchmarks/hashes/{chunk}.tsv"
    conda:
        ENV
    params:
        methods=HASHES["methods"],
        edge_methods=HASHES["edge_methods"],
        hash_size=HASHES["hash_size"],
        # the edge maps' size, only when they are hashed (so a resize reruns nothing else)
        edge_size=[EDGES["width"], EDGES["height"]] if HASHES["edge_methods"] else [],
    script:
        "../../scripts/hashes.py"
