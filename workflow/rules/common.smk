# Configuration checks and the chunk plan shared by every stage.

import hashlib
import os
import sys

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

# The core library lives beside the scripts. This workflow and every job it starts (job
# scripts, and cluster jobs, which inherit the environment) import it from this checkout,
# ahead of any installed copy: Snakemake itself only appends the script folder to sys.path.
SCRIPTS = os.path.join(workflow.basedir, "scripts")
sys.path.insert(0, SCRIPTS)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        [SCRIPTS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
)
from panelmatch import chunks as pm_chunks  # noqa: E402
from panelmatch import hashes as pm_hashes  # noqa: E402
from panelmatch import scrape as pm_scrape  # noqa: E402

LIB = os.path.join(SCRIPTS, "panelmatch")
ENV = "../../envs/panelmatch.yaml"


def lib(*modules):
    """Core modules a rule's output depends on: an edit to one reruns the rule (mtime)."""
    return [os.path.join(LIB, f"{m}.py") for m in ("tables",) + modules]


def config_error(key, message):
    raise WorkflowError(f"Invalid configuration: {key}: {message}")


SOURCE = config["source"]
SITE = SOURCE["site"]
FOLDER = SOURCE["folder"]
EDGES = config["edges"]
HASHES = config["hashes"]
CAPS = config["distances"]["caps"]
CLUSTERS = config["clusters"]

if SITE["last_page"] < SITE["first_page"]:
    config_error("source.site.last_page", "must not be smaller than first_page")
if EDGES["canny_low"] > EDGES["canny_high"]:
    config_error("edges.canny_low", "must not exceed edges.canny_high")
for _method in HASHES["methods"]:
    try:
        pm_hashes.check(_method, HASHES["hash_size"])
    except ValueError as _exc:
        config_error("hashes.hash_size", str(_exc))
if CLUSTERS["edge_cap"] > CAPS["edges"]:
    config_error(
        "clusters.edge_cap",
        f"{CLUSTERS['edge_cap']} exceeds distances.caps.edges ({CAPS['edges']}); "
        "pairs between the two are never stored",
    )
for _method, _limit in CLUSTERS["hash_max"].items():
    if _method not in HASHES["methods"]:
        config_error(f"clusters.hash_max.{_method}", "is not in hashes.methods")
    if _limit > CAPS.get(_method, -1):
        config_error(
            f"clusters.hash_max.{_method}",
            f"{_limit} exceeds distances.caps.{_method} ({CAPS.get(_method)}); "
            "pairs between the two are never stored",
        )

for _method in config["distances"]["candidates"]:
    if _method not in HASHES["methods"]:
        config_error(f"distances.candidates.{_method}", "is not in hashes.methods")

#: Distance metrics, in column order: the edge maps, then every configured hash.
METRICS = ["edges"] + list(HASHES["methods"])
METRIC_BITS = {"edges": EDGES["width"] * EDGES["height"]}
METRIC_BITS.update(
    {m: pm_hashes.hash_bits(m, HASHES["hash_size"]) for m in HASHES["methods"]}
)

DEMO_SITE = "resources/demo/site"
if not FOLDER:
    if pm_scrape.is_web(SITE["root"]):
        if workflow.is_main_process:
            _why = pm_scrape.unreachable(SITE["root"], min(SITE["timeout"], 15))
            if _why:
                config_error(
                    "source.site.root", f"{SITE['root']} is unreachable ({_why})"
                )
    elif os.path.normpath(SITE["root"]) != DEMO_SITE and not os.path.isdir(
        SITE["root"]
    ):
        config_error(
            "source.site.root",
            f"{SITE['root']!r} is neither a URL nor an existing folder (an offline mirror)",
        )

if FOLDER:
    try:
        _files = pm_chunks.list_images(FOLDER, SOURCE["extensions"])
    except FileNotFoundError as _exc:
        config_error("source.folder", str(_exc))
    CHUNK_FILES = pm_chunks.split(_files, SOURCE["images_per_chunk"])
    N_CHUNKS = len(CHUNK_FILES)
else:
    PAGE_CHUNKS = pm_chunks.page_chunks(
        SITE["first_page"], SITE["last_page"], SITE["pages_per_chunk"]
    )
    N_CHUNKS = len(PAGE_CHUNKS)

CHUNKS = [pm_chunks.chunk_name(k) for k in range(N_CHUNKS)]
#: Chunks grouped for the distance stage; a shard is a pair of groups (a <= b).
GROUPS = pm_chunks.groups(N_CHUNKS, config["distances"]["chunks_per_shard"])
SHARDS = [
    (pm_chunks.chunk_name(a), pm_chunks.chunk_name(b))
    for a, b in pm_chunks.shards(len(GROUPS))
]


wildcard_constraints:
    chunk=r"\d{4}",
    a=r"\d{4}",
    b=r"\d{4}",


def folder_files(wildcards):
    """Relative paths of the files of one folder chunk."""
    return CHUNK_FILES[int(wildcards.chunk)]


def folder_stamp(wildcards):
    """Sizes and modification times of a folder chunk's files: a change reruns the chunk."""
    digest = hashlib.sha256()
    for rel in folder_files(wildcards):
        st = os.stat(os.path.join(FOLDER, rel))
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def chunk_pages(wildcards):
    """[first, last] page of one site chunk."""
    pages = PAGE_CHUNKS[int(wildcards.chunk)]
    return [pages.start, pages.stop - 1]


def site_input(wildcards):
    """The mirror folder when the site is local (built by demo_site for the demo)."""
    root = SITE["root"]
    return [] if root.startswith(("http://", "https://")) else [root]


def group_files(pattern, side):
    """Input function: the files of every chunk in one side's group of a shard."""

    def files(wildcards):
        group = GROUPS[int(getattr(wildcards, side))]
        return [pattern.format(chunk=pm_chunks.chunk_name(k)) for k in group]

    return files


def expand_chunks(pattern):
    return [pattern.format(chunk=c) for c in CHUNKS]


def expand_shards(pattern):
    return [pattern.format(a=a, b=b) for a, b in SHARDS]


def truth_input(wildcards):
    """The ground truth when one is configured (built by demo_site for the demo)."""
    truth = config["evaluation"]["truth"]
    return [truth] if truth else []
