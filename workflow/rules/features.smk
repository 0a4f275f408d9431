# Manifest -> the kept frames of every usable image (frames.mode), decoded once; per frame:
# resized, then Canny (bit-packed edge maps and their edge-pixel counts), the black-and-white
# image of the same resized frame, and perceptual hashes; a thumbnail of each kept frame
# for the gallery (no second decode); plus the images that failed.


rule features:
    input:
        manifest="results/manifest/{chunk}.parquet",
        code=core_of("features"),
    output:
        frame_features="results/frame_features/{chunk}.parquet",
        hashes="results/hashes/{chunk}.parquet",
        thumbs="results/thumbs/{chunk}.parquet",
        failures="results/failures/{chunk}.parquet",
    log:
        "logs/features/{chunk}.log",
    benchmark:
        "results/benchmarks/features/{chunk}.tsv"
    conda:
        ENV
    threads: config["frames"]["threads"]
    resources:
        # a few decoded frames per thread plus the chunk's features (~3 KB per frame)
        mem_mb=lambda wildcards, attempt: attempt * 1000,
    params:
        frames=FRAME_SELECTION,
        edges=EDGES,
        hashes=HASHES,
        hash_bits=HASH_BITS,
        thumbnail_size=config["frames"]["thumbnail_size"],
    script:
        "../../scripts/features.py"
