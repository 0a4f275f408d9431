"""The configuration: checked against its schema, one clear line per error.

The schema (``workflow/schemas/config.schema.yaml``) holds every key with its type, range,
description and default. :func:`problems` reads a merged configuration against it and
returns one line per problem, naming the key (and, for an unknown key, the nearest valid
one), so that the message is the last thing a user sees, not a dump of the schema.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from panelmatch.settings import FrameSelection


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the key. ``errors`` holds it
    and every other problem found with it (plan reports them all at once)."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.errors: list[ConfigError] = [self]


def _all_of(found: list[ConfigError]) -> ConfigError:
    """The first of several problems, holding them all (``errors``)."""
    first = found[0]
    first.errors = list(found)
    return first


@contextlib.contextmanager
def _gathered(found: list[ConfigError]):
    """Run one independent check, keeping its problem instead of stopping at it."""
    try:
        yield
    except ConfigError as exc:
        found.extend(exc.errors)


#: Keys that were renamed (old dotted key -> new): one name per concept, so a group is a
#: group (not a cluster) and the gallery a gallery (not a report).
RENAMED = {
    "clusters": "matching",
    "report": "gallery",
    "report.cluster_folders": "gallery.group_folders",
    "report.folds": "source.folds",
    "report.thumbnail_size": "frames.thumbnail_size",
    "gallery.thumbnail_size": "frames.thumbnail_size",
}


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "(the configuration)"


def unknown_keys(config: Any, schema: Mapping, where: tuple = ()) -> Iterator[str]:
    """One line for every key of `config` that `schema` does not allow, with the nearest
    allowed key when one is close."""
    if not isinstance(config, Mapping) or schema.get("type") not in ("object", ["object", "null"]):
        return
    properties = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False
    for key, value in config.items():
        if key in properties:
            yield from unknown_keys(value, properties[key], (*where, key))
        elif _path((*where, key)) in RENAMED:
            old = _path((*where, key))
            yield f"`{old}` was renamed: use `{RENAMED[old]}`"
            if isinstance(value, Mapping):  # and its keys that moved elsewhere
                for inner in value:
                    moved = f"{old}.{inner}"
                    if moved in RENAMED and not RENAMED[moved].startswith(RENAMED[old] + "."):
                        yield f"`{moved}` was renamed: use `{RENAMED[moved]}`"
        elif closed:
            # the nearest allowed key, or the new name of the nearest renamed one
            old = {
                k.rsplit(".", 1)[-1]: v
                for k, v in RENAMED.items()
                if k.rsplit(".", 1)[0] == _path(where) or ("." not in k and not where)
            }
            near = difflib.get_close_matches(str(key), [*properties, *old], n=1, cutoff=0.6)
            target = RENAMED.get(_path((*where, near[0]))) if near and near[0] in old else None
            hint = ""
            if target:
                hint = f" (did you mean `{target}`, formerly `{_path((*where, near[0]))}`?)"
            elif near:
                hint = f" (did you mean `{_path((*where, near[0]))}`?)"
            allowed = ", ".join(sorted(properties))
            yield f"unknown key `{_path((*where, key))}`{hint}; allowed here: {allowed}"


def _resolved(schema: Mapping, root: Mapping) -> Mapping:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def problems(config: Mapping, schema: Mapping) -> list[str]:
    """Every problem of `config` against `schema`, one line each: unknown keys (with the
    nearest valid key), numbers that are not finite (``.nan`` or ``.inf``: a NaN passes
    every comparison of a range, so it would pass the schema and switch a rule off), then
    values of the wrong type or out of range."""
    found = list(unknown_keys(config, _resolve_refs(schema, schema)))
    found += [
        f"`{_path(where)}`: {value!r} is not a number" for where, value in _not_finite(config)
    ]
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        if error.validator == "additionalProperties":
            continue  # said above, with the nearest valid key
        found.append(f"`{_path(error.absolute_path)}`: {_message(error)}")
    return found


def _not_finite(value: Any, where: tuple = ()) -> Iterator[tuple[tuple, float]]:
    """(path, value) of every float of a configuration that is NaN or infinite."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _not_finite(inner, (*where, key))
    elif isinstance(value, list):
        for k, inner in enumerate(value):
            yield from _not_finite(inner, (*where, k))
    elif isinstance(value, float) and not math.isfinite(value):
        yield where, value


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, said plainly where it names a sub-schema instead of values."""
    if error.validator == "contains" and "const" in error.validator_value:
        return f"{error.instance!r} must include {error.validator_value['const']!r}"
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of {allowed}"
    return error.message


def _resolve_refs(node: Any, root: Mapping) -> Any:
    """The schema with every local ``$ref`` replaced by what it points to."""
    if isinstance(node, Mapping):
        node = _resolved(node, root)
        return {k: _resolve_refs(v, root) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_resolve_refs(v, root) for v in node]
    return node


# ---------------------------------------------------------------------- the generated files


def _leaves(schema: Mapping, root: Mapping, where: tuple = ()) -> Iterator[tuple[tuple, Mapping]]:
    """(path, property schema) of every key the configuration has, in schema order: a
    section is an object with properties; the rest (lists, maps, values) are keys."""
    node = schema
    if "$ref" in node:
        node = {**_resolved(node, root), **{k: v for k, v in node.items() if k != "$ref"}}
    if node.get("type") == "object" and "properties" in node and "default" not in node:
        for key, child in node["properties"].items():
            yield from _leaves(child, root, (*where, key))
    elif "properties" in node and node.get("additionalProperties") is False and where:
        # a section whose default is given whole (matching: its schema is shared with the
        # overrides of evaluation.compare, which must not get defaults)
        for key, child in node["properties"].items():
            yield (*where, key), {**child, "default": node["default"][key]}
    else:
        yield where, node


def defaults(schema: Mapping) -> dict:
    """The default configuration the schema describes (its every key's default)."""
    out: dict = {}
    for path, node in _leaves(schema, schema):
        if "default" not in node:
            raise ValueError(f"{_path(path)} has no default in the schema")
        here = out
        for key in path[:-1]:
            here = here.setdefault(key, {})
        here[path[-1]] = node["default"]
    return out


def _flow(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return text.strip().removesuffix("...").strip()


def _wrap(text: str, indent: str, line_length: int = 92) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), line_length - len(indent) - 2) or [""]


def render_yaml(schema: Mapping) -> str:
    """config.yaml: every key with its default, its description as a comment above it."""
    lines = [
        "# panelmatch's defaults. Generated from workflow/schemas/config.schema.yaml (the one",
        "# source of every key's type, default and meaning) by",
        "#   python -m panelmatch config --yaml > config.yaml",
        "# Do not edit it by hand: edit the schema, then regenerate (a test checks).",
        "#",
        *(f"# {line}" for line in _wrap(schema.get("description", ""), "")),
    ]
    sections_done: set[tuple] = set()
    for path, node in _leaves(schema, schema):
        for depth in range(1, len(path)):
            section = path[:depth]
            if section not in sections_done:
                sections_done.add(section)
                indent = "  " * (depth - 1)
                if depth == 1:
                    lines.append("")
                described = _section(schema, section)
                lines += [f"{indent}# {line}" for line in _wrap(described, indent)]
                lines.append(f"{indent}{section[-1]}:")
        indent = "  " * (len(path) - 1)
        if node.get("description"):
            lines += [f"{indent}# {line}" for line in _wrap(node["description"], indent)]
        value = node["default"]
        if (
            isinstance(value, Mapping)
            and value
            and all(isinstance(v, Mapping) for v in value.values())
        ):
            lines.append(f"{indent}{path[-1]}:")
            lines += [f"{indent}  {k}: {_flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"{indent}{path[-1]}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _section(schema: Mapping, path: tuple) -> str:
    node = schema
    for key in path:
        node = node["properties"][key]
    return node.get("description", "")


def _allowed(node: Mapping, root: Mapping) -> str:
    """What values a key takes, in a few words."""
    node = _resolved(node, root) if "$ref" in node else node
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = [k for k in kinds if k != "null"]
    text = " or ".join(words)
    low, high = node.get("minimum", node.get("exclusiveMinimum")), node.get("maximum")
    if low is not None and high is not None:
        text += f", {low}..{high}"
    elif low is not None:
        text += f", > {low}" if "exclusiveMinimum" in node else f", >= {low}"
    if "items" in node and "array" in kinds:
        items = _resolved(node["items"], root) if "$ref" in node["items"] else node["items"]
        if "enum" in items:
            text += " of " + ", ".join(f"`{v}`" for v in items["enum"])
    if "null" in kinds:
        text += " or `null`"
    return text


def render_markdown(schema: Mapping) -> str:
    """docs/configuration.md: one table per section (key, default, values, meaning)."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from workflow/schemas/config.schema.yaml by",
        "     `python -m panelmatch config --markdown > docs/configuration.md`; a test checks",
        "     that it is current. Edit the schema, not this page. -->",
        "",
        " ".join(schema.get("description", "").split()),
        "",
        "The configuration is checked before any job starts: an unknown key (with the nearest",
        "valid one), a wrong type or a value out of range stops the run with one line naming",
        "the key. Cross-key checks (thresholds above their caps, a missing folder, a model",
        "whose fixed input size contradicts `embeddings.width`) stop it the same way.",
        "Renamed keys are refused with their new name: "
        + ", ".join(f"`{old}` is now `{new}`" for old, new in RENAMED.items())
        + ".",
    ]
    current = None
    for path, node in _leaves(schema, schema):
        if path[0] != current:
            current = path[0]
            lines += ["", f"## `{current}`", "", " ".join(_section(schema, (current,)).split())]
            lines += ["", "| key | default | values | meaning |", "| --- | --- | --- | --- |"]
        meaning = " ".join(node.get("description", "").split()).replace("|", "\\|")
        default = _flow(node["default"]).replace("|", "\\|")
        values = _allowed(node, schema).replace("|", "\\|")
        lines.append(f"| `{_path(path)}` | `{default}` | {values} | {meaning} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- across keys

#: Where the demo comic is drawn (rule demo_site), and its ground truth.
DEMO_SITE = "resources/demo/site"
DEMO_TRUTH = "resources/demo/truth.csv"


@dataclass(frozen=True)
class Plan:
    """What a checked configuration means for the workflow: the values its rules share."""

    metrics: list[str]  # every metric, in column order
    hash_bits: dict[str, int]  # bits of each hash metric
    metric_max: dict[str, int | float]  # largest value of each metric (its stored type)
    compare: dict[str, dict]  # the compared rules' overrides (null entries dropped)
    frame_selection: dict  # the frames settings that decide the kept frames
    truth: str | None  # the ground truth file, or None
    reads_demo: bool  # the run reads the demo comic
    embed_size: tuple[int, int] | None  # the embeddings' input size, with a model


def check_rule(key: str, rule: Mapping, metrics: list[str], hash_bits: Mapping, cfg: Mapping):
    """Raise ConfigError when a matching rule (the `matching` section, or it with a
    comparison's overrides) asks for what the stored distances cannot give."""
    from panelmatch import metrics as pm_metrics

    caps = cfg["distances"]["caps"]
    for m in rule["edge_metrics"]:
        if m not in pm_metrics.BITMAPS:
            raise ConfigError(f"{key}.edge_metrics", f"{m} is not a bitmap metric")
        if m not in metrics:
            raise ConfigError(f"{key}.edge_metrics", f"{m} is not in distances.bitmaps")
    for field in ("hash_max", "mixed"):
        for m, limit in rule[field].items():
            if limit is None:
                continue
            if m not in hash_bits:
                raise ConfigError(f"{key}.{field}.{m}", "is not a computed hash (hashes.methods)")
            if field == "hash_max" and limit > caps.get(m, -1):
                raise ConfigError(
                    f"{key}.hash_max.{m}",
                    f"{limit} exceeds distances.caps.{m} ({caps.get(m)}); "
                    "pairs between the two are never stored",
                )
    lines_cap = caps.get("lines")  # None: no cap, no pair is stored by it
    if rule["lines_max"] is not None and (lines_cap is None or rule["lines_max"] > lines_cap):
        raise ConfigError(
            f"{key}.lines_max",
            f"{rule['lines_max']} exceeds distances.caps.lines ({caps.get('lines')}); "
            "pairs between the two are never stored",
        )
    if rule.get("cosine_max") is not None:
        if pm_metrics.COSINE not in metrics:
            raise ConfigError(f"{key}.cosine_max", "needs embeddings.model (no embeddings)")
        if rule["cosine_max"] > caps["cosine"]:
            raise ConfigError(
                f"{key}.cosine_max",
                f"{rule['cosine_max']} exceeds distances.caps.cosine ({caps['cosine']})",
            )
    relative = cfg["distances"]["relative_cap"]
    if relative is not None and rule["threshold"] == "scaled":
        if rule["edge_scale"] > relative:
            raise ConfigError(
                f"{key}.edge_scale",
                f"{rule['edge_scale']} exceeds distances.relative_cap ({relative}); "
                "pairs between the two are never stored",
            )
    edge_caps = [caps[m] for m in rule["edge_metrics"] if m in caps]
    if edge_caps and rule["edge_cap"] > min(edge_caps):
        raise ConfigError(
            f"{key}.edge_cap",
            f"{rule['edge_cap']} exceeds the caps of {key}.edge_metrics in distances.caps;"
            " pairs between the two are never stored",
        )


def _embeddings(embed: Mapping, caps: Mapping, model_size) -> tuple[int, int]:
    """Check the embeddings section against the caps and the model; the model's input size.
    `model_size` as plan's."""
    import importlib.util
    import os

    from panelmatch import embeddings as pm_embeddings

    if not os.path.isfile(embed["model"]):
        raise ConfigError("embeddings.model", f"{embed['model']!r} is not a file")
    for key in ("similarity", "duplicate_similarity"):
        cosine_cap = caps.get("cosine")  # None: no cap, no pair is stored by it
        if cosine_cap is None or cosine_cap < 1 - embed[key] - 1e-9:
            raise ConfigError(
                "distances.caps.cosine",
                f"{cosine_cap} is below 1 - embeddings.{key} "
                f"({1 - embed[key]:.4g}); pairs within it would not be stored",
            )
    if embed["k_range"][0] > embed["k_range"][1]:
        raise ConfigError("embeddings.k_range", "the first value must not exceed the second")
    if model_size is None:
        if importlib.util.find_spec("onnxruntime") is None:
            raise ConfigError(
                "embeddings.model",
                "is set but onnxruntime is not installed: pip install -e '.[deep]'",
            )

        def model_size(path, output):
            return pm_embeddings.Model(path, output).input_size()

    try:
        return pm_embeddings.input_size(
            model_size(embed["model"], embed["output"] or None), embed["width"], embed["height"]
        )
    except ValueError as exc:
        raise ConfigError("embeddings.model", str(exc)) from exc


def plan(cfg: Mapping, model_size=None) -> Plan:
    """Check the keys of a schema-valid configuration against each other (and the files it
    names) and derive what the rules share. Raises ConfigError naming the key, holding
    every problem found (``errors``).

    `model_size(path, output)` gives the (width, height) an ONNX model's input is fixed at,
    or None (only called with embeddings.model set; the default loads the model)."""
    import os

    from panelmatch import hashes as pm_hashes
    from panelmatch import metrics as pm_metrics

    source, site = cfg["source"], cfg["source"]["site"]
    edges, hashes, embed = cfg["edges"], cfg["hashes"], cfg["embeddings"]
    caps = cfg["distances"]["caps"]
    found: list[ConfigError] = []  # every problem, said at once
    with _gathered(found):
        if site["last_page"] < site["first_page"]:
            raise ConfigError("source.site.last_page", "must not be smaller than first_page")
    with _gathered(found):
        if edges["canny_low"] > edges["canny_high"]:
            raise ConfigError("edges.canny_low", "must not exceed edges.canny_high")
    for method in hashes["methods"] + hashes["edge_methods"]:
        try:
            pm_hashes.check(method, hashes["hash_size"])
        except ValueError as exc:
            found.append(ConfigError("hashes.hash_size", str(exc)))
    try:
        metrics = pm_metrics.names(
            cfg["distances"]["bitmaps"], hashes["methods"], hashes["edge_methods"]
        )
    except ValueError as exc:
        found.append(ConfigError("distances.bitmaps", str(exc)))
        raise _all_of(found) from exc  # what follows needs the metrics
    embed_size = None
    if embed["model"]:
        with _gathered(found):
            embed_size = _embeddings(embed, caps, model_size)
        metrics.append(pm_metrics.COSINE)
    hash_bits = {
        m: pm_hashes.hash_bits(m.removeprefix(pm_metrics.EDGE_HASH), hashes["hash_size"])
        for m in metrics
        if m not in pm_metrics.BITMAPS and m not in pm_metrics.ALWAYS and m != pm_metrics.COSINE
    }
    metric_max = {
        m: pm_metrics.max_distance(m, edges["width"], edges["height"], hash_bits.get(m, 0))
        for m in metrics
    }
    for m in metrics:
        if m in pm_metrics.BITMAPS and m not in caps:
            found.append(
                ConfigError(f"distances.caps.{m}", "is missing: every bitmap metric needs a cap")
            )
    before = len(found)
    with _gathered(found):
        check_rule("matching", cfg["matching"], metrics, hash_bits, cfg)
    matching_ok = len(found) == before
    compare = {k: v for k, v in cfg["evaluation"]["compare"].items() if v is not None}
    for name, overrides in compare.items():
        rule = {**cfg["matching"], **overrides}
        try:
            check_rule(f"evaluation.compare.{name}", rule, metrics, hash_bits, cfg)
        except ConfigError as exc:
            # a compared rule inherits matching's keys: said once, under matching
            field = exc.key.removeprefix(f"evaluation.compare.{name}.").split(".")[0]
            if matching_ok or field in overrides:
                found.extend(exc.errors)
    for method in cfg["distances"]["candidates"]:
        if method not in hash_bits:
            found.append(ConfigError(f"distances.candidates.{method}", "is not a computed hash"))
    folder = source["folder"]
    reads_demo = not folder and os.path.normpath(site["root"]) == DEMO_SITE
    truth = cfg["evaluation"]["truth"]
    if truth == "demo":
        truth = DEMO_TRUTH if reads_demo else None
    elif truth is not None and not (os.path.isfile(truth) or truth == DEMO_TRUTH):
        found.append(ConfigError("evaluation.truth", f"{truth!r} is not a file"))
    if folder and not os.path.isdir(folder):
        found.append(ConfigError("source.folder", f"{folder!r} is not an existing folder"))
    if not folder and not site["root"].startswith(("http://", "https://")):
        if not reads_demo and not os.path.isdir(site["root"]):
            found.append(
                ConfigError(
                    "source.site.root",
                    f"{site['root']!r} is neither a URL nor an existing folder (an offline mirror)",
                )
            )
    if found:
        raise _all_of(found)
    frames = cfg["frames"]
    return Plan(
        metrics=metrics,
        hash_bits=hash_bits,
        metric_max=metric_max,
        compare=compare,
        frame_selection=FrameSelection.within(frames).plain(),
        truth=truth,
        reads_demo=reads_demo,
        embed_size=embed_size,
    )
