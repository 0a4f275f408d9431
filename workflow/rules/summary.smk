# Everything -> a short text summary, the list of failed inputs, and the scores of the
# matching rules when a ground truth is configured.


rule summary:
    input:
        manifests=expand_chunks("results/manifest/{chunk}.parquet"),
        failures=expand_chunks("results/failures/{chunk}.parquet"),
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        groups="results/groups.parquet",
        pairs="results/pairs.parquet",
        evaluation=evaluation_input,
        embeddings=embedding_outputs,
        skipped=["results/skipped.csv"] if FOLDER else [],
        code=core_of("summary"),
    output:
        summary=report(
            "results/summary.txt", caption="../report/summary.rst", category="Summary"
        ),
        sections="results/summary.json",
        failures="results/failures.csv",
    log:
        "logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    conda:
        ENV
    params:
        folder=FOLDER or "",
        undecodable=undecodable_files(),
    script:
        "../../scripts/summary.py"
