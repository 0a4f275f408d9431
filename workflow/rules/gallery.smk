# The run, shown to a person: thumbnails, the static gallery, and (optionally) folders of
# symlinks per group.

GALLERY = config["gallery"]


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
        size=GALLERY["thumbnail_size"],
        frames=FRAME_SELECTION,
    script:
        "../../scripts/thumbnails.py"


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
        summary="results/summary.txt",
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
    conda:
        ENV
    params:
        order=GALLERY["order"],
        groups_per_page=GALLERY["groups_per_page"],
        title=GALLERY["title"],
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
