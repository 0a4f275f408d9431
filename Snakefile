# panelmatch: find reused art in a large image collection.
# Data flow: scrape (or ingest a folder) -> features (frames, edges, hashes, ...) ->
# distances (and, opt-in, verified local features) -> groups -> evaluate (with a ground
# truth) -> summary, neighbours, plots, leakage and the gallery. See README.md and
# docs/development.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/scrape.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/embeddings.smk"
include: "workflow/rules/local.smk"
include: "workflow/rules/distances.smk"
include: "workflow/rules/groups.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/neighbours.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/leakage.smk"
include: "workflow/rules/gallery.smk"
include: "workflow/rules/settings.smk"


# Rules that only gather or copy small files run on the submitting machine, not as cluster
# jobs.
localrules:
    all,
    summary,
    leakage,
    group_folders,
    settings,


rule all:
    default_target: True
    input:
        "results/groups.parquet",
        "results/groups.csv",
        "results/pairs.parquet",
        "results/failures.csv",
        "results/summary.txt",
        "results/settings.json",
        evaluation_input,
        embedding_outputs,
        "results/neighbours.parquet",
        "results/leakage.csv",
        "results/gallery",
        ["results/group_folders"] if config["gallery"]["group_folders"] else [],
