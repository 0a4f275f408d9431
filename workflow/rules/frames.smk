# Manifest -> first frame of every usable image (RGB), plus the images that failed.


rule frames:
    input:
        manifest="results/manifest/{chunk}.parquet",
        code=lib("frames"),
    output:
        frames="results/frames/{chunk}.parquet",
        failures="results/failures/{chunk}.parquet",
    log:
        "logs/frames/{chunk}.log",
    benchmark:
        "results/benchmarks/frames/{chunk}.tsv"
    conda:
        ENV
    params:
        background=config["frames"]["background"],
        max_pixels=config["frames"]["max_pixels"],
    script:
        "../../scripts/frames.py"
