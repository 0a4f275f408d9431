# The run, shown to a person: the static gallery (thumbnails come from the features pass),
# and (optionally) folders of symlinks per group.

GALLERY = config["gallery"]


rule gallery:
    input:
        groups="results/groups.parquet",
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
        summary="results/summary.json",
        failures="results/failures.csv",
        skipped=["results/skipped.csv"] if FOLDER else [],
        templates=sorted(glob.glob(os.path.join(LIB, "templates", "*.html"))),
        code=core_of("gallery"),
    output:
        report(
            directory("results/gallery"),
            caption="../report/gallery.rst",
            htmlindex="index.html",
            category="Gallery",
        ),
    log:
        "logs/gallery.log",
    benchmark:
        "results/benchmarks/gallery.tsv"
    conda:
        ENV
    threads: GALLERY["threads"]
    params:
        order=GALLERY["order"],
        groups_per_page=GALLERY["groups_per_page"],
        title=GALLERY["title"],
        metrics=METRICS,
        edge_metrics=MATCHING["edge_metrics"],
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


rule group_folders:
    input:
        groups="results/groups.parquet",
        code=core_of("group_folders"),
    output:
        directory("results/group_folders"),
    log:
        "logs/group_folders.log",
    conda:
        ENV
    script:
        "../../scripts/group_folders.py"
