# Frames -> resized, then Canny: bit-packed edge maps and their edge-pixel counts, and the
# black-and-white images of the same resized frames.


rule edges:
    input:
        frames="results/frames/{chunk}.parquet",
        code=lib("edges", "bits"),
    output:
        "results/edges/{chunk}.parquet",
    log:
        "logs/edges/{chunk}.log",
    benchmark:
        "results/benchmarks/edges/{chunk}.tsv"
    conda:
        ENV
    params:
        width=EDGES["width"],
        height=EDGES["height"],
        resample=EDGES["resample"],
        canny_low=EDGES["canny_low"],
        canny_high=EDGES["canny_high"],
        channels=EDGES["channels"],
        bw_threshold=EDGES["bw_threshold"],
    script:
        "../../scripts/edges.py"
