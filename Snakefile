# panelmatch: find reused art in a large image collection.
# Data flow: scrape (or ingest a folder) -> features (frames, edges, hashes) -> distances
# -> clusters -> evaluate (with a ground truth) -> summary and report. See README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/scrape.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/embeddings.smk"
include: "workflow/rules/distances.smk"
include: "workflow/rules/clusters.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/settings.smk"


# Rules that only gather or copy small files run on the submitting machine, not as cluster
# jobs.
localrules:
    all,
    summary,
    leakage,
    cluster_folders,
    settings,


rule all:
    default_target: True
    input:
        "results/clusters.parquet",
        "results/clusters.csv",
        "results/pairs.parquet",
        "results/failures.csv",
        "results/summary.txt",
        "results/settings.json",
        evaluation_input,
        embedding_outputs,
        "results/neighbours.parquet",
        "results/leakage.csv",
        "results/report",
        ["results/clusters"] if config["report"]["cluster_folders"] else [],
