"""The configuration check, without Snakemake: one line per problem, naming the key."""

import pytest
import yaml
from conftest import REPO
from panelmatch import config

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text())


def test_the_defaults_pass():
    assert config.problems(DEFAULTS, SCHEMA) == []


def test_a_misspelt_key_names_the_nearest_valid_one():
    found = config.problems({**DEFAULTS, "clustres": {}}, SCHEMA)
    assert found == [
        "unknown key `clustres` (did you mean `matching`, formerly `clusters`?); allowed here: "
        + ", ".join(sorted(SCHEMA["properties"]))
    ]
    found = config.problems({**DEFAULTS, "galery": {}}, SCHEMA)
    assert found[0].startswith("unknown key `galery` (did you mean `gallery`?)")
    nested = {**DEFAULTS, "matching": {**DEFAULTS["matching"], "edge_scael": 1.0}}
    assert config.problems(nested, SCHEMA)[0].startswith(
        "unknown key `matching.edge_scael` (did you mean `matching.edge_scale`?)"
    )


def test_renamed_keys_name_their_new_names():
    old = {**DEFAULTS, "clusters": {"edge_scale": 0.9}, "report": {"folds": ["a"]}}
    found = config.problems(old, SCHEMA)
    assert "`clusters` was renamed: use `matching`" in found
    assert "`report` was renamed: use `gallery`" in found
    assert "`report.folds` was renamed: use `source.folds`" in found


def test_wrong_types_and_ranges_name_the_key():
    bad = {**DEFAULTS, "edges": {**DEFAULTS["edges"], "width": "wide"}}
    assert config.problems(bad, SCHEMA) == ["`edges.width`: 'wide' is not of type 'integer'"]


def test_not_a_number_is_refused_and_every_problem_is_said():
    """A NaN passes every range comparison (it would switch a rule off silently); an
    unknown key, a NaN and a value out of range in one file are three lines."""
    matching = {**DEFAULTS["matching"], "edge_scale": float("nan"), "edge_cap": -3, "bogus": 1}
    found = config.problems({**DEFAULTS, "matching": matching}, SCHEMA)
    assert len(found) == 3
    assert found[0].startswith("unknown key `matching.bogus`")
    assert found[1] == "`matching.edge_scale`: nan is not a number"
    assert found[2] == "`matching.edge_cap`: -3 is less than the minimum of 0"
    caps = {**DEFAULTS["distances"]["caps"], "edges": float("inf")}
    inf = {**DEFAULTS, "distances": {**DEFAULTS["distances"], "caps": caps}}
    assert "`distances.caps.edges`: inf is not a number" in config.problems(inf, SCHEMA)


# ---------------------------------------------------------------- one source: the schema


def test_config_yaml_and_its_docs_are_generated_from_the_schema():
    # regenerate with: PYTHONPATH=scripts python -m panelmatch config --yaml > config.yaml
    assert (REPO / "config.yaml").read_text() == config.render_yaml(SCHEMA)
    assert (REPO / "docs/configuration.md").read_text() == config.render_markdown(SCHEMA)
    assert config.defaults(SCHEMA) == DEFAULTS


def test_every_key_is_described():
    for path, node in config._leaves(SCHEMA, SCHEMA):
        assert node.get("description"), ".".join(path)
        assert "default" in node, ".".join(path)


def _enum(node):
    node = config._resolved(node, SCHEMA)
    return node["enum"] if "enum" in node else node["items"].get("enum") or _enum(node["items"])


def test_the_schema_lists_what_the_code_knows():
    from panelmatch import (
        edges,
        embedding_groups,
        frames,
        gallery,
        grouping,
        hashes,
        matching,
        metrics,
    )

    props = SCHEMA["properties"]
    rule_keys = SCHEMA["$defs"]["matching"]["properties"]
    assert set(SCHEMA["$defs"]["hash_method"]["enum"]) == set(hashes.METHODS)
    assert set(SCHEMA["$defs"]["bitmap"]["enum"]) == set(metrics.BITMAPS)
    assert set(SCHEMA["$defs"]["metric"]["enum"]) == set(metrics.BITMAPS) | set(hashes.METHODS) | {
        metrics.EDGE_HASH + m for m in hashes.METHODS
    }
    assert set(rule_keys["method"]["enum"]) == set(grouping.METHODS)
    assert set(_enum(rule_keys["strong_links"])) == set(matching.KINDS)
    assert set(props["edges"]["properties"]["resample"]["enum"]) == set(edges.RESAMPLE)
    assert set(props["edges"]["properties"]["channels"]["enum"]) == set(edges.CHANNELS)
    assert set(props["frames"]["properties"]["mode"]["enum"]) == set(frames.MODES)
    assert set(props["gallery"]["properties"]["order"]["enum"]) == set(gallery.ORDERS)
    assert set(props["embeddings"]["properties"]["linkage"]["enum"]) == set(
        embedding_groups.LINKAGES
    )


# ---------------------------------------------------------------- across keys: plan()


def _with(**sections):
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    for dotted, value in sections.items():
        *path, last = dotted.split("__")
        node = cfg
        for part in path:
            node = node[part]
        node[last] = value
    return cfg


def test_the_default_plan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = config.plan(DEFAULTS)
    assert plan.metrics[:2] == DEFAULTS["distances"]["bitmaps"]
    assert plan.hash_bits["phash"] == 64 and "edges" not in plan.hash_bits
    assert plan.metric_max["edges"] == DEFAULTS["edges"]["width"] * DEFAULTS["edges"]["height"]
    assert plan.truth == config.DEMO_TRUTH and plan.reads_demo and plan.embed_size is None
    assert set(plan.compare) == {k for k, v in DEFAULTS["evaluation"]["compare"].items() if v}


def _error(cfg, **kwargs):
    try:
        config.plan(cfg, **kwargs)
    except config.ConfigError as exc:
        return exc.key, str(exc)
    raise AssertionError("no ConfigError")


def test_every_cross_key_error_is_said_at_once(tmp_path):
    bad = _with(
        source__site__first_page=10,
        source__site__last_page=2,
        edges__canny_low=300,
        matching__hash_max={"phash": 500},
        evaluation__truth=str(tmp_path / "missing.csv"),
    )
    with pytest.raises(config.ConfigError) as raised:
        config.plan(bad)
    keys = [e.key for e in raised.value.errors]
    assert raised.value.key == "source.site.last_page"
    # the compared rules inherit matching.hash_max: its problem is said once, under matching
    assert keys == [
        "source.site.last_page",
        "edges.canny_low",
        "matching.hash_max.phash",
        "evaluation.truth",
    ]


def test_cross_key_errors_name_the_key(tmp_path):
    assert _error(_with(source__site__first_page=10, source__site__last_page=2))[0] == (
        "source.site.last_page"
    )
    assert _error(_with(edges__canny_low=300))[0] == "edges.canny_low"
    key, message = _error(_with(matching__hash_max={"phash": 500}))
    assert key == "matching.hash_max.phash" and "exceeds distances.caps.phash" in message
    assert _error(_with(matching__hash_max={"colorhash": 3}))[0] == "matching.hash_max.colorhash"
    assert _error(_with(distances__candidates={"colorhash": 3}))[0] == (
        "distances.candidates.colorhash"
    )
    assert _error(_with(matching__edge_metrics=["edges_tolerant"]))[0] == ("matching.edge_metrics")
    compared = _with(evaluation__compare={"x": {"lines_max": 0.9}})
    assert _error(compared)[0] == "evaluation.compare.x.lines_max"
    assert _error(_with(source__folder=str(tmp_path / "none")))[0] == "source.folder"
    assert _error(_with(source__site__root=str(tmp_path / "none")))[0] == "source.site.root"
    assert _error(_with(evaluation__truth=str(tmp_path / "t.csv")))[0] == "evaluation.truth"


def test_a_folder_run_has_no_demo_truth(tmp_path):
    plan = config.plan(_with(source__folder=str(tmp_path)))
    assert plan.truth is None and not plan.reads_demo


def test_an_embeddings_model_adds_cosine_and_fixes_its_size(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    cfg = _with(embeddings__model=str(model))
    plan = config.plan(cfg, model_size=lambda path, output: (224, 224))
    assert plan.metrics[-1] == "cosine" and plan.embed_size == (224, 224)
    cfg = _with(embeddings__model=str(model), embeddings__similarity=0.2)
    assert _error(cfg, model_size=lambda p, o: None)[0] == "distances.caps.cosine"
    cfg = _with(embeddings__model=str(model), embeddings__width=100)
    key, message = _error(cfg, model_size=lambda p, o: (224, 224))
    assert key == "embeddings.model" and "224" in message
