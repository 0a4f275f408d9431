"""Real Snakemake runs of the whole workflow on the small demo comic."""

import copy
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_DEMO, SNAKEFILE, snakemake, write_config

pytestmark = pytest.mark.workflow


def summary_f1(workdir: Path) -> float:
    text = (workdir / "results" / "summary.txt").read_text()
    return float(re.search(r"^  F1: +([0-9.]+)$", text, re.M).group(1))


def test_demo_outputs_account_for_every_input(small_demo_run):
    res = small_demo_run / "results"
    for name in [
        "groups.parquet",
        "groups.csv",
        "pairs.parquet",
        "failures.csv",
        "summary.txt",
        "evaluation.json",
    ]:
        assert (res / name).is_file(), name
    # 3 chunks in groups of chunks_per_shard 2: [0, 1] and [2]
    assert sorted(p.name for p in (res / "distances").glob("*.parquet")) == [
        "0000_0000.parquet",
        "0000_0001.parquet",
        "0001_0001.parquet",
    ]
    manifest = pd.concat(pd.read_parquet(p) for p in sorted((res / "manifest").glob("*.parquet")))
    groups = pd.read_parquet(res / "groups.parquet")
    assert list(groups.columns) == [
        "image",
        "path",
        "page",
        "group",
        "group_size",
        "medoid",
        "family",
        "family_size",
    ]
    assert (groups.groupby("group")["medoid"].sum() == 1).all()  # one per group
    ok = manifest[manifest["status"] == "ok"]
    assert sorted(groups["image"]) == sorted(ok["image"])
    assert (
        groups["image"].is_unique
        and groups["path"].map(lambda p: (small_demo_run / p).is_file()).all()
    )
    assert (groups.groupby("group")["image"].transform("size") == groups["group_size"]).all()
    assert set(manifest.loc[manifest["page"] == 7, "status"]) == {"http_404"}
    assert set(manifest.loc[manifest["page"] == 12, "status"]) == {"no_images"}
    pairs = pd.read_parquet(res / "pairs.parquet")
    assert {"image_a", "image_b", "edges", "edges_mirror", "phash", "dhash", "hue"} <= set(
        pairs.columns
    )
    assert str(pairs["edges"].dtype) == "uint16" and str(pairs["phash"].dtype) == "uint8"
    assert str(pairs["hue"].dtype) == "float32" and pairs["hue"].between(0, 1).all()
    same = pairs["image_a"].map(dict(zip(groups["image"], groups["group"], strict=True)))
    # each link says what linked it: min(edges, edges_mirror) under the pair's threshold,
    # dhash <= 8 (corroborated), same art or the same text lines
    edge = pairs[["edges", "edges_mirror"]].min(axis=1)
    assert len(pairs) > 0 and set(pairs["link"]) <= {"edge", "hash", "same_art", "lines"}
    by_edge, by_hash = pairs["link"] == "edge", pairs["link"] == "hash"
    assert (edge[by_edge] < pairs.loc[by_edge, "edge_threshold"]).all()
    assert (pairs.loc[by_hash, "dhash"] <= 8).all()
    assert (pairs.loc[pairs["link"] == "lines", "lines"] <= 0.2).all()
    assert (pairs.loc[pairs["link"] == "same_art", "same_art"] >= 4).all()
    # and how the two are related, in the relation's own words
    assert pairs["relation"].notna().all()
    assert (pairs.loc[pairs["link"] == "lines", "relation"] == "reletter").all()
    exact = (pairs["edges"] == 0) & (pairs["phash"] == 0) & (pairs["dhash"] == 0)
    assert (pairs.loc[exact & (pairs["hue"] == 0), "relation"] == "identical").all()
    # the line art kept and the hues moved: a recolour (or a mirror image), whatever the
    # pHash says
    hues = (pairs["edges"] <= pairs["edge_threshold"]) & (pairs["hue"] >= 0.15)
    recoloured = pairs.loc[hues & (pairs["link"] != "lines"), "relation"]
    assert set(recoloured) <= {"recolour", "mirrored"}
    assert len(same) == len(pairs)
    text = (res / "summary.txt").read_text()
    assert f"images processed:           {len(groups)}" in text


def test_demo_families_come_out_as_clusters(small_demo_run):
    truth = pd.read_csv(small_demo_run / "resources/demo/truth.csv", keep_default_na=False)
    groups = pd.read_parquet(small_demo_run / "results/groups.parquet").set_index("image")
    for group, members in truth[truth["group"] != ""].groupby("group"):
        if members["relation"].iloc[0] in ("exact", "recolour", "reletter"):
            assert groups.loc[members["image"], "group"].nunique() == 1, group
    for image in truth.loc[truth["relation"] == "blank", "image"]:
        assert groups.loc[image, "group_size"] == 1, image
    assert summary_f1(small_demo_run) >= 0.9


def mtimes(workdir: Path) -> dict[str, int]:
    return {
        str(p.relative_to(workdir)): p.stat().st_mtime_ns
        for p in (workdir / "results").rglob("*.parquet")
    } | {
        name: (workdir / "results" / file).stat().st_mtime_ns
        for name, file in [("summary", "summary.txt"), ("evaluation", "evaluation.json")]
    }


def changed(before: dict, after: dict) -> set[str]:
    """Stages (first folder under results/, or the file) whose outputs were rewritten."""
    out = set()
    for key, t in before.items():
        if after[key] != t:
            parts = Path(key).parts
            out.add(parts[1] if len(parts) > 2 else parts[-1])
    return out


def test_reruns_touch_only_what_depends_on_a_change(tmp_path):
    cfg = copy.deepcopy(SMALL_DEMO)
    path = write_config(tmp_path / "c.yaml", cfg)
    snakemake(tmp_path, configfile=path)

    before = mtimes(tmp_path)
    out = snakemake(tmp_path, configfile=path).stdout
    assert "Nothing to be done" in out
    assert changed(before, mtimes(tmp_path)) == set()

    cfg["matching"] = {"edge_scale": 0.8}
    write_config(path, cfg)
    before = mtimes(tmp_path)
    snakemake(tmp_path, configfile=path)
    assert changed(before, mtimes(tmp_path)) == {
        "groups.parquet",
        "pairs.parquet",
        "neighbours.parquet",
        "summary",
        "evaluation",
    }

    cfg["edges"] = {"canny_low": 60}
    write_config(path, cfg)
    before = mtimes(tmp_path)
    snakemake(tmp_path, configfile=path)
    # one pass computes every feature of a frame: the features job rewrites its tables,
    # the thumbnails too (made from the frames it decodes; their content is unchanged)
    assert changed(before, mtimes(tmp_path)) == {
        "frame_features",
        "hashes",
        "thumbs",
        "failures",
        "distances",
        "groups.parquet",
        "pairs.parquet",
        "neighbours.parquet",
        "summary",
        "evaluation",
    }


def test_folder_mode_with_separate_run_directory(small_demo_run, tmp_path):
    images = sorted((small_demo_run / "results/images").glob("*.gif"))
    folder = tmp_path / "my images"
    (folder / "train").mkdir(parents=True)
    (folder / "test" / "deep").mkdir(parents=True)
    for k, src in enumerate(images[:12]):
        shutil.copy(src, folder / ("train" if k % 2 else "test") / f"img{k:02d}.gif")
    shutil.copy(images[0], folder / "test" / "deep" / "copy of img00.gif")  # an exact duplicate
    (folder / "train" / "notes.gif").write_text("not an image at all")
    (folder / "train" / "readme.txt").write_text("ignored: not an image extension")
    run = tmp_path / "run"
    run.mkdir()
    # the default evaluation.truth (the demo's) does not apply to a folder
    cfg = write_config(
        tmp_path / "my.yaml", {"source": {"folder": str(folder), "images_per_chunk": 5}}
    )
    snakemake(run, configfile=cfg)
    assert not (run / "resources").exists()  # no demo comic drawn
    assert not (run / "results/evaluation.json").exists()
    assert "evaluation" not in (run / "results/summary.txt").read_text()
    groups = pd.read_csv(run / "results/groups.csv")
    assert len(groups) == 13
    by_image = groups.set_index("image")
    assert (
        by_image.loc["test/img00.gif", "group"]
        == by_image.loc["test/deep/copy of img00.gif", "group"]
    )
    assert groups["page"].isna().all()
    failures = pd.read_csv(run / "results/failures.csv")
    assert failures[["image", "stage"]].values.tolist() == [["train/notes.gif", "frames"]]
    assert "not a recognised image" in failures["reason"][0]
    summary = (run / "results/summary.txt").read_text()
    assert (
        "inputs (images found):      14" in summary and "processed + failed:         14" in summary
    )
    assert len(list((run / "results/manifest").glob("*.parquet"))) == 3
    assert not (tmp_path / "results").exists()  # everything stays under the run directory


def test_a_truth_that_names_none_of_the_images_gives_no_score(small_demo_run, tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    for src in sorted((small_demo_run / "results/images").glob("*.gif"))[:4]:
        shutil.copy(src, folder / src.name)
    truth = tmp_path / "truth.csv"
    truth.write_text("image,group\nsomewhere/else.gif,g\nother.gif,g\n")
    cfg = {"source": {"folder": str(folder)}, "evaluation": {"truth": str(truth)}}
    run = tmp_path / "run"
    run.mkdir()
    snakemake(run, configfile=write_config(tmp_path / "c.yaml", cfg))
    evaluation = json.loads((run / "results/evaluation.json").read_text())
    assert evaluation["covered"] == 0 and evaluation["results"] == {}
    assert "covers none of the run's 4 images" in evaluation["message"]
    summary = (run / "results/summary.txt").read_text()
    assert (
        "the truth covers 0 of the run's 4 images (2 of its images are not in the run)" in summary
    )
    assert "no score:" in summary and "precision" not in summary


def test_scrape_over_real_http_matches_the_mirror(small_demo_run, serve, tmp_path):
    server = serve(small_demo_run / "resources/demo/site")
    cfg = copy.deepcopy(SMALL_DEMO)
    cfg["source"]["site"].update({"root": server.url, "delay": 0.0, "retries": 0})
    snakemake(tmp_path, configfile=write_config(tmp_path / "web.yaml", cfg))
    web = pd.read_parquet(tmp_path / "results/groups.parquet")
    mirror = pd.read_parquet(small_demo_run / "results/groups.parquet")
    cols = ["image", "page", "group", "group_size"]
    pd.testing.assert_frame_equal(web[cols], mirror[cols])
    assert any(p.startswith("/story/") for p in server.requests)
    assert any(p.startswith("/images/storyfiles/") for p in server.requests)


def all_shards(workdir: Path) -> pd.DataFrame:
    return pd.concat(
        pd.read_parquet(p) for p in sorted((workdir / "results/distances").glob("*.parquet"))
    ).reset_index(drop=True)


def test_shards_together_equal_the_all_pairs_reference(small_demo_run):
    """Every pair of images once: under the caps exactly (edge distances also within
    distances.relative_cap of both images' edge pixels), with numpy's distances; or sharing
    at least distances.shared_blocks blocks of identical edges; or within the lines cap."""
    from panelmatch import art, textlines

    res = small_demo_run / "results"
    edges = [pd.read_parquet(p) for p in sorted((res / "frame_features").glob("*.parquet"))]
    hashes = [pd.read_parquet(p) for p in sorted((res / "hashes").glob("*.parquet"))]
    keys = [(c, r) for c, e in enumerate(edges) for r in range(len(e))]
    unpacked = {}
    for m, frames, column in [("edges", edges, "edges")] + [
        (h, hashes, h) for h in ("phash", "dhash")
    ]:
        blobs = [b for f in frames for b in f[column]]
        raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), -1)
        unpacked[m] = np.unpackbits(raw, axis=1, bitorder="little").astype(bool)
    maps = unpacked["edges"][:, :10000].reshape(-1, 100, 100)
    flipped = maps[:, :, ::-1].reshape(len(maps), -1)
    caps = {"edges": 1500, "edges_mirror": 1500, "phash": 12, "dhash": 12}
    limit = np.floor(1.5 * maps.reshape(len(maps), -1).sum(axis=1))
    # each frame's detailed blocks, by their place and exact edge pixels
    detail = art.detailed(maps)
    blocks = [
        {
            (t, maps[x, t // 10 * 10 : t // 10 * 10 + 10, t % 10 * 10 : t % 10 * 10 + 10].tobytes())
            for t in np.nonzero(detail[x])[0]
        }
        for x in range(len(maps))
    ]
    lines = [textlines.from_bytes(b) for e in edges for b in e["lines"]]
    rows, extra = [], 0
    for x in range(len(keys)):
        for y in range(x + 1, len(keys)):
            d = {m: int((v[x] != v[y]).sum()) for m, v in unpacked.items()}
            d["edges_mirror"] = int((maps[x].ravel() != flipped[y]).sum())
            cap = {
                m: c if m in ("phash", "dhash") else min(c, limit[x], limit[y])
                for m, c in caps.items()
            }
            shared = len(blocks[x] & blocks[y]) >= 4
            near = textlines.distance(lines[x], lines[y]) <= 0.35
            if any(d[m] <= cap[m] for m in caps) or shared or near:
                rows.append((*keys[x], *keys[y], *(d[m] for m in caps)))
                extra += not any(d[m] <= cap[m] for m in caps)
    reference = sorted(rows)
    shards = all_shards(small_demo_run)
    got = sorted(
        map(tuple, shards[["chunk_a", "row_a", "chunk_b", "row_b", *caps]].values.tolist())
    )
    assert got == reference and len(reference) > 20 and extra > 0
    for m in caps:
        assert shards[m].dtype == (np.uint16 if m.startswith("edges") else np.uint8)


def test_a_different_shard_layout_stores_the_same_pairs(small_demo_run, tmp_path):
    cfg = copy.deepcopy(SMALL_DEMO)
    cfg["distances"] = {"chunks_per_shard": 1}  # the default is 2
    snakemake(tmp_path, configfile=write_config(tmp_path / "layout.yaml", cfg))
    assert len(list((tmp_path / "results/distances").glob("*.parquet"))) == 6  # 3 groups
    key = ["chunk_a", "row_a", "chunk_b", "row_b"]
    one = all_shards(small_demo_run).sort_values(key).reset_index(drop=True)
    two = all_shards(tmp_path).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(one, two)
    for name in ("groups.parquet", "pairs.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "results" / name),
            pd.read_parquet(small_demo_run / "results" / name),
        )


def test_candidate_mode_keeps_exactly_the_candidate_pairs(small_demo_run, tmp_path):
    """Opt-in candidates: the stored pairs are the exhaustive ones within a hash limit."""
    cfg = copy.deepcopy(SMALL_DEMO)
    cfg["distances"] = {"candidates": {"dhash": 16, "phash": 16}}
    snakemake(tmp_path, configfile=write_config(tmp_path / "cand.yaml", cfg))
    exhaustive, candidates = all_shards(small_demo_run), all_shards(tmp_path)
    # pairs found outside the bit caps (shared blocks, text lines) are kept in either mode
    edges = [
        pd.read_parquet(p)
        for p in sorted((small_demo_run / "results/frame_features").glob("*.parquet"))
    ]
    px = {(c, r): n for c, e in enumerate(edges) for r, n in enumerate(e["edge_pixels"])}
    pa = np.array([px[k] for k in zip(exhaustive["chunk_a"], exhaustive["row_a"], strict=True)])
    pb = np.array([px[k] for k in zip(exhaustive["chunk_b"], exhaustive["row_b"], strict=True)])
    limit = np.minimum(np.floor(1.5 * pa), np.floor(1.5 * pb))
    under = (exhaustive["phash"] <= 12).to_numpy() | (exhaustive["dhash"] <= 12).to_numpy()
    for m in ("edges", "edges_mirror"):
        under |= exhaustive[m].to_numpy() <= np.minimum(1500, limit)
    within = (exhaustive["dhash"] <= 16) | (exhaustive["phash"] <= 16)
    expected = exhaustive[within | ~under]
    pd.testing.assert_frame_equal(candidates, expected.reset_index(drop=True))
    assert 0 < len(candidates) < len(exhaustive)


@pytest.mark.parametrize(
    "cfg,message",
    [
        ({"matching": {"edge_scael": 1.0}}, "edge_scael"),
        ({"edges": {"width": "wide"}}, "wide"),
        ({"matching": {"method": "kmeans"}}, "kmeans"),
        ({"matching": {"edge_cap": 5000}}, "matching.edge_cap"),
        ({"source": {"folder": "/no/such/folder"}}, "/no/such/folder"),
        ({"matching": {"hash_max": {"colorhash": 3}}}, "matching.hash_max.colorhash"),
        ({"distances": {"candidates": {"colorhash": 3}}}, "distances.candidates.colorhash"),
        ({"distances": {"chunks_per_shard": 0}}, "chunks_per_shard"),
        ({"source": {"site": {"root": "http://127.0.0.1:9"}}}, "source.site.root"),
        ({"source": {"site": {"root": "no/such/mirror"}}}, "no/such/mirror"),
        ({"source": {"site": {"first_page": 10, "last_page": 2}}}, "source.site.last_page"),
        ({"edges": {"canny_low": 300}}, "edges.canny_low"),
        ({"matching": {"edge_scale": -1}}, "edge_scale"),
        ({"matching": {"edge_metrics": ["edges_tolerant"]}}, "matching.edge_metrics"),
        ({"distances": {"bitmaps": ["bw"]}}, "edges"),
        ({"distances": {"bitmaps": ["edges", "sobel"]}}, "sobel"),
        (
            {"evaluation": {"compare": {"x": {"mixed": {"colorhash": 0.3}}}}},
            "evaluation.compare.x.mixed.colorhash",
        ),
        ({"evaluation": {"compare": {"y": {"strong": 2}}}}, "strong"),
        ({"embeddings": {"model": "/no/such/model.onnx"}}, "embeddings.model"),
        ({"matching": {"cosine_max": 0.1}}, "matching.cosine_max"),
        pytest.param(
            {"embeddings": {"model": str(SNAKEFILE), "similarity": 0.5}},
            "distances.caps.cosine",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("onnxruntime") is None,
                reason="needs the deep extra (onnxruntime)",
            ),
        ),
        ({"embeddings": {"dtype": "int8"}}, "int8"),
        ({"matching": {"lines_max": 0.5}}, "matching.lines_max"),
        ({"matching": {"same_art": {"blocks": 0, "fraction": 0.1}}}, "matching.same_art.blocks"),
        ({"matching": {"strong_links": ["edges"]}}, "matching.strong_links"),
        ({"evaluation": {"truth": "/no/such/truth.csv"}}, "evaluation.truth"),
        ({"source": {"follow_symlinks": "yes"}}, "source.follow_symlinks"),
        ({"frames": {"min_side": 0}}, "frames.min_side"),
    ],
)
def test_config_errors_name_the_key_before_any_job(tmp_path, cfg, message):
    proc = snakemake(tmp_path, configfile=write_config(tmp_path / "bad.yaml", cfg), check=False)
    assert proc.returncode != 0
    # one line naming the key, and it is the last thing on screen
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Invalid configuration: ") and message in last, proc.stderr[-2000:]
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


def test_a_dry_run_asks_nothing_of_the_network(tmp_path, serve):
    server = serve(tmp_path)
    cfg = {"source": {"site": {"root": server.url, "last_page": 3}}}
    proc = snakemake(tmp_path, "-n", configfile=write_config(tmp_path / "web.yaml", cfg))
    assert "scrape" in proc.stdout and server.requests == []
    # a real run checks the site first (and the unreachable one stops before any job)
    cfg = {"source": {"site": {"root": "http://127.0.0.1:9"}}}
    proc = snakemake(tmp_path, "-n", configfile=write_config(tmp_path / "off.yaml", cfg))
    assert proc.returncode == 0


def test_a_misspelt_key_names_the_nearest_valid_one(tmp_path):
    cfg = write_config(tmp_path / "typo.yaml", {"clustres": {"edge_scale": 0.9}})
    proc = snakemake(tmp_path, configfile=cfg, check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(
        "Invalid configuration: unknown key `clustres` (did you mean `matching`, formerly"
    )
    assert "additionalProperties" not in proc.stderr and len(lines) < 10


def test_jobs_print_no_empty_shell_commands(small_demo_run):
    log = sorted((small_demo_run / ".snakemake/log").glob("*.log"))[0].read_text()
    assert "Shell command: None" not in log and "localrule all" in log


def test_lint_is_clean(tmp_path):
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout
    assert "Congratulations" in proc.stdout


def test_jobs_use_this_checkouts_core_library(small_demo_run, tmp_path):
    """A different panelmatch earlier on the path (an old install) must not be picked up."""
    decoy = tmp_path / "decoy" / "panelmatch"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('decoy panelmatch was imported')\n")
    folder = tmp_path / "in"
    folder.mkdir()
    for src in sorted((small_demo_run / "results/images").glob("*.gif"))[:3]:
        shutil.copy(src, folder / src.name)
    run = tmp_path / "run"
    run.mkdir()
    cfg = write_config(
        tmp_path / "c.yaml", {"source": {"folder": str(folder)}, "evaluation": {"truth": None}}
    )
    env = dict(os.environ, PYTHONPATH=str(decoy.parent))
    snakemake(run, configfile=cfg, env=env)
    assert len(pd.read_csv(run / "results/groups.csv")) == 3
