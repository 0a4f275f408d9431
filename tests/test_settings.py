"""Typed settings (panelmatch.settings): every section class holds exactly the schema's keys,
with no default of its own, and refuses a section that does not."""

import dataclasses

import pytest
import yaml
from conftest import REPO
from panelmatch import settings
from panelmatch.settings import FrameSelection, Matching, RunSettings

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def schema_keys(section):
    node = SCHEMA["properties"][section]
    if "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return set(node["properties"])


@pytest.mark.parametrize("name", sorted(settings.SECTIONS))
def test_each_section_has_the_schemas_keys_and_no_default(name):
    cls = settings.SECTIONS[name]
    fields = dataclasses.fields(cls)
    if cls is FrameSelection:
        assert {f.name for f in fields} < schema_keys(name)
    else:
        assert {f.name for f in fields} == schema_keys(name)
    assert all(f.default is dataclasses.MISSING for f in fields), name
    assert all(f.default_factory is dataclasses.MISSING for f in fields), name


def test_a_section_is_built_from_the_configuration_and_is_read_only():
    found = Matching.of(CONFIG["matching"])
    assert found.edge_scale == CONFIG["matching"]["edge_scale"]
    assert found.edge_metrics == tuple(CONFIG["matching"]["edge_metrics"])
    assert found.plain() == CONFIG["matching"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.edge_scale = 2.0
    with pytest.raises(TypeError, match="read-only"):
        found.hash_max["dhash"] = 99
    assert found.but(edge_scale=0.5).edge_scale == 0.5 and found.edge_scale != 0.5


def test_a_section_with_a_key_missing_or_unknown_is_refused():
    values = dict(CONFIG["matching"])
    del values["edge_cap"]
    with pytest.raises(ValueError, match="matching section lacks edge_cap"):
        Matching.of(values)
    with pytest.raises(ValueError, match="has unknown keys bogus"):
        Matching.of({**CONFIG["matching"], "bogus": 1})
    with pytest.raises(ValueError, match="unknown keys"):
        Matching.but(Matching.of(CONFIG["matching"]), edge_scael=1.0)


def test_the_frame_selection_is_the_part_of_frames_that_decides_the_kept_frames():
    found = FrameSelection.within(CONFIG["frames"])
    assert "thumbnail_size" not in found.plain() and found.count == CONFIG["frames"]["count"]


def test_run_settings_round_trip_and_name_an_old_file():
    plain = {
        "frames": FrameSelection.within(CONFIG["frames"]).plain(),
        "edges": CONFIG["edges"],
        "hashes": CONFIG["hashes"],
        "embeddings": CONFIG["embeddings"],
        "matching": CONFIG["matching"],
        "bitmaps": ["edges"],
        "metrics": ["edges", "phash"],
        "hash_bits": {"phash": 64},
        "tolerance": 1,
        "art_tolerance": 16,
        "common_blocks": 64,
    }
    found = RunSettings.of(plain)
    assert found.plain() == plain and found.edges.width == CONFIG["edges"]["width"]
    old = {k: v for k, v in plain.items() if k != "matching"} | {"rule": CONFIG["matching"]}
    with pytest.raises(ValueError, match="lack matching.*another version of panelmatch"):
        RunSettings.of(old)
