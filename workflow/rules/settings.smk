# Every setting that shapes the stored features and the matching rule, as one JSON file:
# `python -m panelmatch query` computes a query image's features exactly like the run.


rule settings:
    input:
        code=core_of("settings"),
    output:
        "results/settings.json",
    log:
        "logs/settings.log",
    benchmark:
        "results/benchmarks/settings.tsv"
    conda:
        ENV
    params:
        frames=FRAME_SELECTION,
        edges=EDGES,
        hashes=HASHES,
        bitmaps=config["distances"]["bitmaps"],
        tolerance=config["distances"]["tolerance"],
        art_tolerance=config["distances"]["art_tolerance"],
        common_blocks=config["distances"]["common_blocks"],
        metrics=METRICS,
        hash_bits=HASH_BITS,
        matching=MATCHING,
        # with the input size the frames are resized to (the model's when it fixes one)
        embeddings=(
            {**EMBED, "width": EMBED_SIZE[0], "height": EMBED_SIZE[1]}
            if EMBED_SIZE
            else EMBED
        ),
    script:
        "../../scripts/settings.py"
