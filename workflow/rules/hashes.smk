# Frames -> perceptual hashes (bit-packed), one column per method.


rule hashes:
    input:
        frames="results/frames/{chunk}.parquet",
        code=lib("hashes", "bits"),
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
        hash_size=HASHES["hash_size"],
    script:
        "../../scripts/hashes.py"
