# The demo comic: a small site in the real comic's markup, drawn from a seed, with its
# ground truth. The default configuration scrapes it, so no network is needed.


rule demo_site:
    input:
        core_of("demo_site"),
    output:
        site=directory(DEMO_SITE),
        truth="resources/demo/truth.csv",
    log:
        "logs/demo_site.log",
    benchmark:
        "results/benchmarks/demo_site.tsv"
    conda:
        ENV
    params:
        seed=config["demo"]["seed"],
        pages=config["demo"]["pages"],
        families_per_relation=config["demo"]["families_per_relation"],
        singles=config["demo"]["singles"],
    script:
        "../../scripts/demo_site.py"
