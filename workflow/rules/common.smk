# Configuration checks and the chunk plan shared by every stage.

import glob
import os
import sys

import yaml
from snakemake.logging import logger
from snakemake.utils import validate

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
from panelmatch import config as pm_config  # noqa: E402

SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
with open(SCHEMA, encoding="utf-8") as _handle:
    _problems = pm_config.problems(config, yaml.safe_load(_handle))
if _problems:  # one line each, and nothing after them (not the schema and config dumps)
    sys.stderr.write("".join(f"Invalid configuration: {p}\n" for p in _problems))
    sys.stderr.flush()
    sys.exit(1)
validate(config, schema="../schemas/config.schema.yaml")
from panelmatch import chunks as pm_chunks  # noqa: E402
from panelmatch import folder as pm_folder  # noqa: E402
from panelmatch import scrape as pm_scrape  # noqa: E402

LIB = os.path.join(SCRIPTS, "panelmatch")
ENV = "../../envs/panelmatch.yaml"
DEEP_ENV = "../../envs/deep.yaml"


#: The packages beside the scripts: the core library, and the demo comic's generator.
PACKAGES = ("panelmatch", "democomic")


def core_of(script):
    """The modules of PACKAGES that scripts/<script>.py imports, directly or through other
    such modules: inputs of its rule, so that an edit to one reruns the rule (by mtime).
    """
    import ast

    def module_file(package, name):
        path = os.path.join(SCRIPTS, package, f"{name}.py")
        return path if os.path.isfile(path) else None

    seen, todo = set(), [(None, os.path.join(SCRIPTS, f"{script}.py"))]
    while todo:
        package, path = todo.pop()
        found = []
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.Import):
                found += [tuple(a.name.split(".")[:2]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top, *rest = node.module.split(".")
                found += (
                    [(top, rest[0])] if rest else [(top, a.name) for a in node.names]
                )
                found.append((top, "__init__"))
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and package:
                found += [(package, node.module or a.name) for a in node.names]
        for item in found:
            if len(item) == 1:
                item = (item[0], "__init__")
            if item[0] in PACKAGES and item not in seen:
                where = module_file(*item)
                if where:
                    seen.add(item)
                    todo.append((item[0], where))
    return sorted(module_file(*item) for item in seen)


def config_error(key, message, others=()):
    """Stop before any job with one line naming the key, and one line for each of the
    `others` (ConfigErrors found with it), and nothing printed after them."""
    lines = [f"{key}: {message}", *(str(e) for e in others)]
    sys.stderr.write("".join(f"Invalid configuration: {line}\n" for line in lines))
    sys.stderr.flush()
    sys.exit(1)


SOURCE = config["source"]
SITE = SOURCE["site"]
FOLDER = SOURCE["folder"]
EDGES = config["edges"]
HASHES = config["hashes"]
CAPS = config["distances"]["caps"]
MATCHING = config["matching"]
EMBED = config["embeddings"]
LOCAL = config["local"]
DEMO_SITE = pm_config.DEMO_SITE
DEMO_TRUTH = pm_config.DEMO_TRUTH

# the checks across keys, and what they mean for the rules (panelmatch.config.plan)
try:
    PLAN = pm_config.plan(config)
except pm_config.ConfigError as _exc:
    config_error(_exc.key, str(_exc).removeprefix(f"{_exc.key}: "), _exc.errors[1:])
#: Distance metrics, in column order: bitmaps, frame hashes, edge-map hashes (+ cosine).
METRICS = PLAN.metrics
#: Bits of each hash metric's codes.
HASH_BITS = PLAN.hash_bits
#: The largest value of each metric (it decides the stored integer type).
METRIC_MAX = PLAN.metric_max
#: The frames settings that decide which frames are kept and how they decode.
FRAME_SELECTION = PLAN.frame_selection
#: Matching rules scored besides the configured one: name -> overrides of `matching`.
COMPARE = PLAN.compare
#: Whether the run reads the demo comic (which rule demo_site draws).
READS_DEMO = PLAN.reads_demo
#: The ground truth file, or None: `demo` is the demo comic's own, when the run reads it.
TRUTH = PLAN.truth
#: (width, height) frames are resized to for the embeddings model, or None.
EMBED_SIZE = PLAN.embed_size


# An empty source folder is said again at the end, where a user looks.
onsuccess:
    if FOLDER and not LISTING.files:
        logger.warning(
            f"source.folder {FOLDER!r} holds no image files (extensions"
            f" {SOURCE['extensions']}): nothing was compared; see results/skipped.csv"
        )


# A web site is checked before a real run only (onstart is not called in a dry run, which
# asks nothing of the network); an unreachable one stops before any job starts.
onstart:
    if not FOLDER and pm_scrape.is_web(SITE["root"]):
        _why = pm_scrape.unreachable(
            SITE["root"], min(SITE["timeout"], 15), SITE["user_agent"]
        )
        if _why:
            config_error(
                "source.site.root", f"{SITE['root']} is unreachable ({_why})"
            )


# The run's own outputs are never inputs, even when the working directory lies inside the
# source folder (or is it).
RUN_FOLDERS = [os.path.abspath(p) for p in ("results", "logs", ".snakemake")]

if FOLDER:
    try:
        LISTING = pm_folder.list_images(
            FOLDER,
            SOURCE["extensions"],
            SOURCE["hidden"],
            SOURCE["follow_symlinks"],
            exclude=RUN_FOLDERS,
        )
    except FileNotFoundError as _exc:
        config_error("source.folder", str(_exc))
    CHUNK_FILES = pm_chunks.grow(
        LISTING.files, SOURCE["images_per_chunk"], pm_folder.previous_plan()
    )
    N_CHUNKS = len(CHUNK_FILES)
    if workflow.is_main_process:
        _counts = {}
        for _entry in LISTING.skipped:
            _counts[_entry.reason] = _counts.get(_entry.reason, 0) + 1
        if LISTING.excluded:
            logger.info(
                f"source.folder holds this run's own output folders"
                f" ({', '.join(LISTING.excluded)}): they are not inputs"
            )
        if LISTING.undecodable:
            logger.warning(
                f"source.folder: {len(LISTING.undecodable)} image file(s) whose name is not"
                " valid UTF-8, listed in results/failures.csv: "
                + ", ".join(LISTING.undecodable[:3])
            )
        if not LISTING.files:
            logger.warning(
                f"source.folder {FOLDER!r} holds no image files "
                f"(extensions {SOURCE['extensions']}; skipped: {_counts or 'nothing'})"
            )
        elif _counts:
            logger.info(
                f"source.folder: {len(LISTING.files)} image files; skipped {_counts}"
                " (listed in results/skipped.csv)"
            )
else:
    PAGE_CHUNKS = pm_chunks.page_chunks(
        SITE["first_page"], SITE["last_page"], SITE["pages_per_chunk"]
    )
    N_CHUNKS = len(PAGE_CHUNKS)

CHUNKS = [pm_chunks.chunk_name(k) for k in range(N_CHUNKS)]
#: Chunks grouped for the distance stage; a shard is a pair of groups (a <= b).
SIDES = pm_chunks.sides(N_CHUNKS, config["distances"]["chunks_per_shard"])
SHARDS = [
    (pm_chunks.chunk_name(a), pm_chunks.chunk_name(b))
    for a, b in pm_chunks.shards(len(SIDES))
]


wildcard_constraints:
    chunk=r"\d{4}",
    a=r"\d{4}",
    b=r"\d{4}",


def folder_files(wildcards):
    """Relative paths of the files of one folder chunk."""
    return CHUNK_FILES[int(wildcards.chunk)]


def folder_stamp(wildcards):
    """The stamp of a folder chunk's files (sizes and modification times): a change reruns
    the chunk."""
    return pm_folder.stamp(FOLDER, folder_files(wildcards))


def skipped_entries(wildcards=None):
    """The folder entries that are not input images, as plain lists (path, reason, detail)."""
    return [list(entry) for entry in LISTING.skipped] if FOLDER else []


def undecodable_files(wildcards=None):
    """The printable paths of the folder's image files whose name is not valid UTF-8."""
    return list(LISTING.undecodable) if FOLDER else []


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
        group = SIDES[int(getattr(wildcards, side))]
        return [pattern.format(chunk=pm_chunks.chunk_name(k)) for k in group]

    return files


def embedding_files(side):
    """Input function: a shard side's embeddings, when an embeddings model is configured."""
    files = group_files("results/embeddings/{chunk}.parquet", side)
    return files if EMBED["model"] else []


def verified_input(wildcards):
    """The verified pairs of local features, when local.enabled."""
    return ["results/verified.parquet"] if LOCAL["enabled"] else []


def expand_chunks(pattern):
    return [pattern.format(chunk=c) for c in CHUNKS]


def expand_shards(pattern):
    return [pattern.format(a=a, b=b) for a, b in SHARDS]


def truth_input(wildcards):
    """The ground truth when one is configured (built by demo_site for the demo)."""
    return [TRUTH] if TRUTH else []


def embedding_outputs(wildcards):
    """The embeddings' groups, duplicates and representatives, when a model is configured."""
    if not EMBED["model"]:
        return []
    return [
        "results/embedding_groups.parquet",
        "results/duplicates.csv",
        "results/representatives.csv",
        "results/plots/kmedoids.png",
    ]


def evaluation_input(wildcards):
    """The scores of the matching rules when a ground truth is configured."""
    return ["results/evaluation.json"] if TRUTH else []
