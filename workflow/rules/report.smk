# The run, shown to a person: thumbnails, nearest neighbours, plots, train/test leakage,
# the static gallery, and (optionally) cluster folders of symlinks.

REPORT = config["report"]


rule thumbnails:
    input:
        manifest="results/manifest/{chunk}.parquet",
        # read for its list of kept frames only, which the `frames` params below decide:
        # a change of edge or hash settings does not redraw the thumbnails
        edges=ancient("results/edges/{chunk}.parquet"),
        code=core_of("thumbnails"),
    output:
        "results/thumbs/{chunk}.parquet",
    log:
        "logs/thumbnails/{chunk}.log",
    conda:
        ENV
    params:
        size=REPORT["thumbnail_size"],
        frames=FRAME_SELECTION,
    script:
        "../../scripts/thumbnails.py"


rule neighbours:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        edges=expand_chunks("results/edges/{chunk}.parquet"),
        code=core_of("neighbours"),
    output:
        "results/neighbours.parquet",
    log:
        "logs/neighbours.log",
    conda:
        ENV
    params:
        k=config["neighbours"]["k"],
        metric_max=METRIC_MAX,
        hash_bits=HASH_BITS,
        rule=CLUSTERS,
    script:
        "../../scripts/neighbours.py"


rule plots:
    input:
        shards=expand_shards("results/distances/{a}_{b}.parquet"),
        edges=expand_chunks("results/edges/{chunk}.parquet"),
        clusters="results/clusters.parquet",
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
    conda:
        ENV
    params:
        metrics=METRICS,
        metric_max=METRIC_MAX,
        caps={m: CAPS[m] for m in METRICS if m in CAPS},
        rule=CLUSTERS,
    script:
        "../../scripts/plots.py"


rule leakage:
    input:
        clusters="results/clusters.parquet",
        code=core_of("leakage"),
    output:
        "results/leakage.csv",
    log:
        "logs/leakage.log",
    conda:
        ENV
    params:
        folds=REPORT["folds"],
    script:
        "../../scripts/leakage.py"


rule gallery:
    input:
        clusters="results/clusters.parquet",
        pairs="results/pairs.parquet",
        neighbours="results/neighbours.parquet",
        thumbs=expand_chunks("results/thumbs/{chunk}.parquet"),
        plots=[
            "results/plots/distances.png",
            "results/plots/group_sizes.png",
            "results/plots/sensitivity.png",
        ]
        + (["results/plots/kmedoids.png"] if EMBED["model"] else []),
        leakage="results/leakage.csv",
        summary="results/summary.txt",
        code=core_of("gallery"),
    output:
        report(
            directory("results/report"),
            caption="../report/gallery.rst",
            htmlindex="index.html",
            category="Gallery",
        ),
    log:
        "logs/gallery.log",
    conda:
        ENV
    params:
        order=REPORT["order"],
        groups_per_page=REPORT["groups_per_page"],
        title=REPORT["title"],
        metrics=METRICS,
        site_root=None if FOLDER else SITE["root"],
        page_path=lambda wildcards: SITE["page_path"],
        captions=[
            "Distances of the stored pairs, with caps and thresholds",
            "Number of groups of each size",
            "Groups and grouped images against the edge threshold scale",
        ]
        + (
            ["k-medoids on the embeddings: inertia and silhouette against k"]
            if EMBED["model"]
            else []
        ),
    script:
        "../../scripts/gallery.py"


rule cluster_folders:
    input:
        clusters="results/clusters.parquet",
        code=core_of("cluster_folders"),
    output:
        directory("results/clusters"),
    log:
        "logs/cluster_folders.log",
    conda:
        ENV
    script:
        "../../scripts/cluster_folders.py"
