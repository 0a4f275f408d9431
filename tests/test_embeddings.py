"""Deep fingerprints: a tiny ONNX model built here, run with onnxruntime, and the train/test
notebook's grouping methods on the vectors. Skipped when the `deep` extra is not installed."""

from pathlib import Path

import numpy as np
import pytest
import yaml

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from conftest import REPO  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from panelmatch import cosine, embedding_groups, embeddings  # noqa: E402

#: The test model: a fixed 1x1 convolution (3 -> 4 channels) with a bias, ReLU, global
#: average pooling. Output "features" is (n, 4, 1, 1); output "mean" is the pooled input.
WEIGHT = np.array(
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, -0.5, 0.25]], dtype=np.float32
)
BIAS = np.array([0.1, 0.2, 0.3, 1.0], dtype=np.float32)


def build_model(path: Path, size: int = 16) -> Path:
    """Write the test model to `path` with the onnx helper API (no download, no torch)."""
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", 3, size, size])
    features = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 4, 1, 1])
    mean = helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["n", 3, 1, 1])
    w = numpy_helper.from_array(WEIGHT.reshape(4, 3, 1, 1), "w")
    b = numpy_helper.from_array(BIAS, "b")
    nodes = [
        helper.make_node("Conv", ["pixels", "w", "b"], ["conv"]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["features"]),
        helper.make_node("GlobalAveragePool", ["pixels"], ["mean"]),
    ]
    graph = helper.make_graph(nodes, "panelmatch-test", [x], [features, mean], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def reference(batch: np.ndarray) -> np.ndarray:
    """What the test model computes, in numpy."""
    conv = np.einsum("oc,nchw->nohw", WEIGHT, batch) + BIAS[None, :, None, None]
    return np.maximum(conv, 0).mean(axis=(2, 3))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("onnx") / "tiny.onnx")


def test_preprocess_resizes_scales_and_normalises():
    rgb = np.zeros((30, 40, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    x = embeddings.preprocess(rgb, (16, 8), [0.5, 0.5, 0.5], [0.5, 0.25, 1.0])
    assert x.shape == (3, 8, 16) and x.dtype == np.float32
    assert np.allclose(x[0], 1.0) and np.allclose(x[1], -2.0) and np.allclose(x[2], -0.5)
    with pytest.raises(ValueError, match="std"):
        embeddings.preprocess(rgb, (16, 8), [0, 0, 0], [1, 0, 1])


def test_model_vectors_equal_the_numpy_reference(model_path):
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(3, 16, 16)).astype(np.float32) for _ in range(7)]
    model = embeddings.Model(str(model_path))
    assert model.output == "features" and "CPUExecutionProvider" in model.providers
    got = embeddings.embed(model, inputs, batch_size=3)  # batches of 3, 3 and 1
    want = reference(np.stack(inputs))
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    assert got.shape == (7, 4) and np.allclose(got, want, atol=1e-5)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0)
    pooled = embeddings.Model(str(model_path), output="mean")
    mean = embeddings.embed(pooled, inputs, 4)
    want = np.stack(inputs).mean(axis=(2, 3))
    assert np.allclose(mean, want / np.linalg.norm(want, axis=1, keepdims=True), atol=1e-5)


def test_model_errors_name_the_file_and_the_output(model_path, tmp_path):
    with pytest.raises(ValueError, match="no output 'logits'.*features"):
        embeddings.Model(str(model_path), output="logits")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="broken.onnx: cannot load"):
        embeddings.Model(str(broken))
    with pytest.raises(ValueError, match="not available"):
        embeddings.Model(str(model_path), providers=["NoSuchExecutionProvider"])


def random_unit(n, d, seed):
    return embeddings.normalise(np.random.default_rng(seed).normal(size=(n, d)))


@pytest.mark.parametrize("upper", [True, False])
def test_cosine_pairs_equal_numpy(upper):
    a = random_unit(50, 6, 1)
    b = a if upper else random_unit(37, 6, 2)
    full = 1.0 - a.astype(np.float64) @ b.T.astype(np.float64)
    for cap in (0.1, 0.5, 1.2):
        i, j = cosine.cosine_within(a, b, cap, upper_only=upper, block=16)
        want = [
            (x, y)
            for x in range(len(a))
            for y in range(len(b))
            if full[x, y] <= cap and (not upper or y > x)
        ]
        assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
        assert np.allclose(cosine.cosine_distances(a, b, i, j), full[i, j], atol=1e-5)


def clustered(seed=3):
    """Three tight bundles of directions (8, 6 and 4 vectors) and two loners."""
    rng = np.random.default_rng(seed)
    centres = embeddings.normalise(rng.normal(size=(5, 16)))
    parts = [centres[c] + rng.normal(scale=0.05, size=(m, 16)) for c, m in enumerate([8, 6, 4])]
    parts += [centres[3:5]]
    return embeddings.normalise(np.concatenate(parts))


@pytest.mark.parametrize("linkage", ["average", "single", "complete"])
def test_hierarchical_cut_equals_scipy_on_the_full_matrix(linkage):
    from scipy.cluster import hierarchy
    from scipy.spatial.distance import pdist

    v = clustered()
    similarity = 0.9
    i, j = cosine.cosine_within(v, v, 1 - similarity + 0.05, upper_only=True)
    got = embedding_groups.hierarchical(v, i, j, cosine.cosine_distances(v, v, i, j), 0.9, linkage)
    full = hierarchy.fcluster(
        hierarchy.linkage(np.clip(pdist(v.astype(np.float64), "cosine"), 0, None), linkage),
        t=1 - similarity,
        criterion="distance",
    )

    def partition(labels):
        return sorted(sorted(np.nonzero(labels == k)[0].tolist()) for k in set(labels.tolist()))

    assert partition(got) == partition(full)
    assert sorted(np.bincount(got)[1:].tolist(), reverse=True) == [8, 6, 4, 1, 1]
    assert got[0] == 1  # the largest group is numbered first, from 1


def test_duplicates_keep_the_first_and_point_to_the_most_similar_kept_image():
    # 0 and 1 near-identical; 2 close to 1 only (but 1 is a duplicate); 3 close to 0 and 2
    a = np.array([0, 1, 0, 2])
    b = np.array([1, 2, 3, 3])
    d = np.array([0.01, 0.05, 0.08, 0.02])
    result = embedding_groups.duplicates(5, a, b, d, similarity=0.9)
    assert result.keep.tolist() == [True, False, True, False, True]
    assert result.duplicate_of.tolist() == [-1, 0, -1, 2, -1]
    assert result.distance[3] == pytest.approx(0.02) and np.isnan(result.distance[0])


def test_kmedoids_scan_chooses_the_number_of_bundles():
    v = clustered()[:18]  # the three bundles
    scan = embedding_groups.choose_k(v, range(2, 8), 0)
    assert scan.chosen == 3 and scan.ks == list(range(2, 8))
    assert all(x >= y - 1e-6 for x, y in zip(scan.inertia, scan.inertia[1:], strict=False))
    result = embedding_groups.kmedoids(v, 3, 0)
    groups = sorted(sorted(np.nonzero(result.labels == k)[0].tolist()) for k in range(3))
    assert groups == [list(range(0, 8)), list(range(8, 14)), list(range(14, 18))]
    assert all(result.labels[m] == k for k, m in enumerate(result.medoids))
    with pytest.raises(ValueError, match="k must be"):
        embedding_groups.kmedoids(v, 0, 0)


@pytest.fixture(scope="module")
def deep_run(tmp_path_factory, model_path):
    """The small demo with the test model configured, through the real workflow."""
    import copy

    from conftest import SMALL_DEMO, snakemake, write_config

    workdir = tmp_path_factory.mktemp("deep_run")
    cfg = copy.deepcopy(SMALL_DEMO)
    # no embeddings.width/height: the model's input is fixed at 16 x 16, and that is used
    cfg["embeddings"] = {"model": str(model_path), "batch_size": 5, "k_range": [2, 6]}
    cfg["matching"] = {"cosine_max": 0.002}
    snakemake(workdir, configfile=write_config(workdir / "deep.yaml", cfg))
    return workdir


@pytest.mark.workflow
def test_a_size_that_contradicts_the_model_is_refused_before_any_job(model_path, tmp_path):
    from conftest import SMALL_DEMO, snakemake, write_config

    cfg = {**SMALL_DEMO, "embeddings": {"model": str(model_path), "width": 224}}
    proc = snakemake(tmp_path, configfile=write_config(tmp_path / "c.yaml", cfg), check=False)
    assert proc.returncode != 0 and not (tmp_path / "results").exists()
    last = proc.stderr.strip().splitlines()[-1]
    assert "embeddings.width is 224 but the model's input is fixed at 16x16" in last
    assert "embeddings.height" in last
    assert embeddings.input_size(None, None, None) == (224, 224)
    assert embeddings.input_size((64, 48), None, None) == (64, 48)
    assert embeddings.input_size((64, 48), 64, 48) == (64, 48)
    assert embeddings.input_size(None, 32, None) == (32, 224)


@pytest.mark.workflow
def test_workflow_stores_one_model_vector_per_image(deep_run):
    import pandas as pd
    from panelmatch import frames, tables
    from panelmatch.settings import FrameSelection

    res = deep_run / "results"
    chunks = sorted((res / "frame_features").glob("*.parquet"))
    assert chunks
    frames_section = yaml.safe_load((REPO / "config.yaml").read_text())["frames"]
    settings = FrameSelection.within(frames_section)
    for chunk in chunks:
        kept = pd.read_parquet(chunk, columns=["image", "frame"])
        manifest = pd.read_parquet(res / "manifest" / chunk.name).set_index("image")
        images, vectors = tables.read_vectors([res / "embeddings" / chunk.name])
        assert list(images) == list(kept["image"]) and vectors.shape == (len(kept), 4)
        batch = np.stack(
            [
                embeddings.preprocess(
                    frames.read_file(deep_run / manifest.loc[r.image, "path"], settings, [r.frame])
                    .kept[0]
                    .rgb,
                    (16, 16),  # the model's fixed input size
                    [0.485, 0.456, 0.406],
                    [0.229, 0.224, 0.225],
                )
                for r in kept.itertuples()
            ]
        )
        want = reference(batch)
        want /= np.linalg.norm(want, axis=1, keepdims=True)
        assert np.allclose(vectors, want, atol=2e-3)  # stored as float16


@pytest.mark.workflow
def test_workflow_cosine_pairs_equal_numpy_and_reach_the_groups(deep_run):
    import pandas as pd
    from panelmatch import tables

    res = deep_run / "results"
    images, vectors = tables.read_vectors(sorted((res / "embeddings").glob("*.parquet")))
    full = 1.0 - vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    shards = pd.concat(pd.read_parquet(p) for p in sorted((res / "distances").glob("*.parquet")))
    sizes = [len(pd.read_parquet(p)) for p in sorted((res / "frame_features").glob("*.parquet"))]
    start = np.concatenate([[0], np.cumsum(sizes)])
    a = start[shards["chunk_a"].to_numpy()] + shards["row_a"].to_numpy()
    b = start[shards["chunk_b"].to_numpy()] + shards["row_b"].to_numpy()
    assert shards["cosine"].dtype == np.float32
    assert np.allclose(shards["cosine"], full[a, b], atol=1e-5)
    stored = set(zip(a.tolist(), b.tolist(), strict=True))
    want = {(x, y) for x in range(len(images)) for y in range(x + 1, len(images))}
    assert {p for p in want if full[p] <= 0.15 - 1e-5} <= stored  # every pair under the cap
    pairs = pd.read_parquet(res / "pairs.parquet")
    assert [c for c in pairs.columns if c.startswith("cosine")] == ["cosine"]
    edge = pairs[["edges", "edges_mirror"]].min(axis=1)
    rule = (edge < pairs["edge_threshold"]) | (pairs["dhash"] <= 8) | (pairs["cosine"] <= 0.002)
    assert rule.all()

    groups = pd.read_parquet(res / "embedding_groups.parquet")
    assert list(groups["image"]) == list(images)
    assert (groups.groupby("group")["image"].transform("size") == groups["group_size"]).all()
    # the demo's exact copies have identical vectors: they share a hierarchical group
    truth = pd.read_csv(deep_run / "resources/demo/truth.csv").set_index("image")
    exact = truth[truth["relation"] == "exact"].index
    assert groups.set_index("image").loc[exact, "group"].nunique() == 1
    duplicates = pd.read_csv(res / "duplicates.csv", keep_default_na=False)
    assert list(duplicates["image"]) == list(images)
    assert (~duplicates.set_index("image").loc[exact[1:], "keep"]).all()
    reps = pd.read_csv(res / "representatives.csv")
    scan = pd.read_csv(res / "plots/kmedoids.csv")
    assert scan["k"].tolist() == [2, 3, 4, 5, 6]
    best = scan.loc[scan["silhouette"].idxmax(), "k"]
    assert len(reps) == best and reps["members"].sum() == len(images)
    text = (res / "summary.txt").read_text()
    assert "embeddings (deep fingerprints):" in text and f"k = {best}" in text
    assert (res / "gallery/plots/kmedoids.png").is_file()


@pytest.mark.workflow
def test_without_a_model_nothing_changes(small_demo_run):
    import pandas as pd

    res = small_demo_run / "results"
    assert not (res / "embeddings").exists() and not (res / "embedding_groups.parquet").exists()
    assert "cosine" not in pd.read_parquet(res / "pairs.parquet").columns


def test_of_run_groups_deduplicates_and_picks_representatives():
    """embedding_groups.of_run on vectors of 12 images in 3 tight bunches, each image with
    one frame, and its stored cosine pairs."""
    from panelmatch import pairs

    rng = np.random.default_rng(0)
    centres = embeddings.normalise(rng.normal(size=(3, 8)))
    vectors = embeddings.normalise(np.repeat(centres, 4, axis=0) + rng.normal(0, 0.01, (12, 8)))
    i, j = cosine.cosine_within(vectors, vectors, 0.5, upper_only=True)
    shard = pairs.Shard(i, j, {"cosine": cosine.cosine_distances(vectors, vectors, i, j)})
    images = [f"{k:02d}.png" for k in range(12)]
    common = dict(similarity=0.9, linkage="average", duplicate_similarity=0.99, seed=0)
    found = embedding_groups.of_run(
        images, vectors, [shard], representatives=0, k_range=[2, 5], **common
    )
    assert found.groups["group_size"].tolist() == [4] * 12
    assert found.groups["group"].nunique() == 3
    assert found.chosen and found.k == 3 and found.scan["k"].tolist() == [2, 3, 4, 5]
    assert sorted(found.representatives["members"].tolist()) == [4, 4, 4]
    assert (~found.duplicates["keep"]).sum() == 9  # three kept, one per bunch
    fixed = embedding_groups.of_run(
        images, vectors, [shard], representatives=2, k_range=[2, 5], **common
    )
    assert not fixed.chosen and fixed.k == 2 and fixed.scan.empty is False
