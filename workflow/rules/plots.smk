# All shards -> distance histograms with caps and thresholds, group sizes, and the
# threshold sensitivity (groups against edge_scale), for people.


rule plots:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        frame_features=expand_chunks("results/frame_features/{chunk}.parquet"),
        groups="results/groups.parquet",
        code=core_of("plots"),
    output:
        distances=report(
            "results/plots/distances.png",
            caption="../report/distances.rst",
            category="Plots",
        ),
        sizes=report(
            "results/plots/group_sizes.png",
            caption="../report/group_sizes.rst",
            category="Plots",
        ),
        sensitivity=report(
            "results/plots/sensitivity.png",
            caption="../report/sensitivity.rst",
            category="Plots",
        ),
        curve="results/plots/sensitivity.csv",
    log:
        "logs/plots.log",
    benchmark:
        "results/benchmarks/plots.tsv"
    conda:
        ENV
    params:
        metrics=METRICS,
        metric_max=METRIC_MAX,
        caps={m: CAPS[m] for m in METRICS if m in CAPS},
        matching=MATCHING,
    script:
        "../../scripts/plots.py"
