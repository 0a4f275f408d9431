# Configuration checks and the chunk plan shared by every stage.

import hashlib
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
    sys.stderr.write("".join(f"Invalid configuration: {p}\n" for p in _problems[:5]))
    sys.stderr.flush()
    sys.exit(1)
validate(config, schema="../schemas/config.schema.yaml")
from panelmatch import chunks as pm_chunks  # noqa: E402
from panelmatch import hashes as pm_hashes  # noqa: E402
from panelmatch import metrics as pm_metrics  # noqa: E402
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


def config_error(key, message):
    """Stop before any job with one line naming the key (and nothing printed after it)."""
    sys.stderr.write(f"Invalid configuration: {key}: {message}\n")
    sys.stderr.flush()
    sys.exit(1)


SOURCE = config["source"]
SITE = SOURCE["site"]
FOLDER = SOURCE["folder"]
EDGES = config["edges"]
#: The frames settings that decide which frames are kept and how they decode.
FRAME_SELECTION = {
    k: config["frames"][k]
    for k in ("mode", "count", "same", "background", "max_pixels", "min_side")
}
HASHES = config["hashes"]
CAPS = config["distances"]["caps"]
CLUSTERS = config["clusters"]

if SITE["last_page"] < SITE["first_page"]:
    config_error("source.site.last_page", "must not be smaller than first_page")
if EDGES["canny_low"] > EDGES["canny_high"]:
    config_error("edges.canny_low", "must not exceed edges.canny_high")
for _method in HASHES["methods"] + HASHES["edge_methods"]:
    try:
        pm_hashes.check(_method, HASHES["hash_size"])
    except ValueError as _exc:
        config_error("hashes.hash_size", str(_exc))
try:
    #: Distance metrics, in column order: bitmaps, frame hashes, edge-map hashes.
    METRICS = pm_metrics.names(
        config["distances"]["bitmaps"], HASHES["methods"], HASHES["edge_methods"]
    )
except ValueError as _exc:
    config_error("distances.bitmaps", str(_exc))
EMBED = config["embeddings"]
EMBED_SIZE = None
if EMBED["model"]:
    if not os.path.isfile(EMBED["model"]):
        config_error("embeddings.model", f"{EMBED['model']!r} is not a file")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        config_error(
            "embeddings.model",
            "is set but onnxruntime is not installed: pip install -e '.[deep]'",
        )
    from panelmatch import embeddings as pm_embeddings

    try:
        _fixed = pm_embeddings.Model(
            EMBED["model"], EMBED["output"] or None
        ).input_size()
        #: (width, height) frames are resized to for the model
        EMBED_SIZE = pm_embeddings.input_size(_fixed, EMBED["width"], EMBED["height"])
    except ValueError as _exc:
        config_error("embeddings.model", str(_exc))
    METRICS.append(pm_metrics.COSINE)
    for _key in ("similarity", "duplicate_similarity"):
        if CAPS.get("cosine", -1) < 1 - EMBED[_key] - 1e-9:
            config_error(
                "distances.caps.cosine",
                f"{CAPS.get('cosine')} is below 1 - embeddings.{_key} "
                f"({1 - EMBED[_key]:.4g}); pairs within it would not be stored",
            )
    if EMBED["k_range"][0] > EMBED["k_range"][1]:
        config_error("embeddings.k_range", "the first value must not exceed the second")

#: Bits of each hash metric's codes.
HASH_BITS = {
    m: pm_hashes.hash_bits(m.removeprefix(pm_metrics.EDGE_HASH), HASHES["hash_size"])
    for m in METRICS
    if m not in pm_metrics.BITMAPS
    and m not in pm_metrics.ALWAYS
    and m != pm_metrics.COSINE
}
#: The largest value of each metric (it decides the stored integer type).
METRIC_MAX = {
    m: pm_metrics.max_distance(m, EDGES["width"], EDGES["height"], HASH_BITS.get(m, 0))
    for m in METRICS
}
for _m in METRICS:
    if _m in pm_metrics.BITMAPS and _m not in CAPS:
        config_error(
            f"distances.caps.{_m}", "is missing: every bitmap metric needs a cap"
        )


def check_rule(key, rule):
    """Check a clusters section (or a comparison's overrides) against the metrics."""
    for _m in rule.get("edge_metrics", []):
        if _m not in pm_metrics.BITMAPS:
            config_error(f"{key}.edge_metrics", f"{_m} is not a bitmap metric")
        if _m not in METRICS:
            config_error(f"{key}.edge_metrics", f"{_m} is not in distances.bitmaps")
    for _field in ("hash_max", "mixed"):
        for _m, _limit in rule.get(_field, {}).items():
            if _limit is None:
                continue
            if _m not in HASH_BITS:
                config_error(
                    f"{key}.{_field}.{_m}", "is not a computed hash (hashes.methods)"
                )
            if _field == "hash_max" and _limit > CAPS.get(_m, -1):
                config_error(
                    f"{key}.hash_max.{_m}",
                    f"{_limit} exceeds distances.caps.{_m} ({CAPS.get(_m)}); "
                    "pairs between the two are never stored",
                )
    if rule.get("lines_max") is not None and rule["lines_max"] > CAPS.get("lines", -1):
        config_error(
            f"{key}.lines_max",
            f"{rule['lines_max']} exceeds distances.caps.lines ({CAPS.get('lines')}); "
            "pairs between the two are never stored",
        )
    if rule.get("cosine_max") is not None:
        if pm_metrics.COSINE not in METRICS:
            config_error(f"{key}.cosine_max", "needs embeddings.model (no embeddings)")
        if rule["cosine_max"] > CAPS["cosine"]:
            config_error(
                f"{key}.cosine_max",
                f"{rule['cosine_max']} exceeds distances.caps.cosine ({CAPS['cosine']})",
            )
    relative = config["distances"]["relative_cap"]
    if (
        relative is not None
        and rule.get("threshold") == "scaled"
        and rule.get("edge_scale", 0) > relative
    ):
        config_error(
            f"{key}.edge_scale",
            f"{rule['edge_scale']} exceeds distances.relative_cap ({relative}); "
            "pairs between the two are never stored",
        )
    if rule.get("edge_cap", 0) > min(
        CAPS[m] for m in rule.get("edge_metrics", ["edges"]) if m in CAPS
    ):
        config_error(
            f"{key}.edge_cap",
            f"{rule['edge_cap']} exceeds the caps of {key}.edge_metrics in "
            "distances.caps; pairs between the two are never stored",
        )


check_rule("clusters", CLUSTERS)
#: Matching rules scored besides the configured one: name -> overrides of `clusters`.
COMPARE = {k: v for k, v in config["evaluation"]["compare"].items() if v is not None}
for _name, _overrides in COMPARE.items():
    check_rule(f"evaluation.compare.{_name}", {**CLUSTERS, **_overrides})

for _method in config["distances"]["candidates"]:
    if _method not in HASH_BITS:
        config_error(f"distances.candidates.{_method}", "is not a computed hash")

DEMO_SITE = "resources/demo/site"
DEMO_TRUTH = "resources/demo/truth.csv"
#: Whether the run reads the demo comic (which rule demo_site draws).
READS_DEMO = not FOLDER and os.path.normpath(SITE["root"]) == DEMO_SITE
#: The ground truth file, or None: `demo` is the demo comic's own, when the run reads it.
TRUTH = config["evaluation"]["truth"]
if TRUTH == "demo":
    TRUTH = DEMO_TRUTH if READS_DEMO else None
elif TRUTH is not None and not (os.path.isfile(TRUTH) or TRUTH == DEMO_TRUTH):
    config_error("evaluation.truth", f"{TRUTH!r} is not a file")
if not FOLDER:
    if pm_scrape.is_web(SITE["root"]):
        # checked before a real run only: a dry run (-n) asks nothing of the network
        if workflow.is_main_process and not workflow.dryrun:
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


def previous_plan():
    """The files of each chunk of the previous run in this directory (its manifests), so
    that a grown folder keeps its chunks and only new chunks are computed."""
    import pyarrow.parquet as pq

    plan = []
    while os.path.isfile(
        path := f"results/manifest/{pm_chunks.chunk_name(len(plan))}.parquet"
    ):
        try:
            plan.append(
                pq.read_table(path, columns=["image"]).column("image").to_pylist()
            )
        except Exception:  # an unreadable manifest: plan afresh
            return []
    return plan


if FOLDER:
    try:
        LISTING = pm_chunks.list_images(
            FOLDER, SOURCE["extensions"], SOURCE["hidden"], SOURCE["follow_symlinks"]
        )
    except FileNotFoundError as _exc:
        config_error("source.folder", str(_exc))
    CHUNK_FILES = pm_chunks.grow(
        LISTING.files, SOURCE["images_per_chunk"], previous_plan()
    )
    N_CHUNKS = len(CHUNK_FILES)
    if workflow.is_main_process:
        _counts = {}
        for _entry in LISTING.skipped:
            _counts[_entry.reason] = _counts.get(_entry.reason, 0) + 1
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
    """Sizes and modification times of a folder chunk's files: a change reruns the chunk.
    A file that cannot be stat'ed (a dangling symlink, a loop) is stamped by its error.
    """
    digest = hashlib.sha256()
    for rel in folder_files(wildcards):
        try:
            st = os.stat(os.path.join(FOLDER, rel))
            stamp = f"{st.st_size}\0{st.st_mtime_ns}"
        except OSError as exc:
            stamp = f"error {exc.errno}"
        digest.update(f"{rel}\0{stamp}\n".encode())
    return digest.hexdigest()


def skipped_entries(wildcards=None):
    """The folder entries that are not input images, as plain lists (path, reason, detail)."""
    return [list(entry) for entry in LISTING.skipped] if FOLDER else []


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


def embedding_files(side):
    """Input function: a shard side's embeddings, when an embeddings model is configured."""
    files = group_files("results/embeddings/{chunk}.parquet", side)
    return files if EMBED["model"] else []


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
