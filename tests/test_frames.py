"""Every frame of an animated panel: which frames are kept, and reuse found in a later frame."""

import io
import random

import democomic as demo
import numpy as np
import pandas as pd
import pytest
from conftest import snakemake, write_config
from panelmatch import frames, matching, query, tables
from PIL import Image

WHITE = (255, 255, 255)


def select(data, background, max_pixels, mode="first", count=1, same=0.0, only=None, min_side=1):
    """frames.select with the test's choices of the frame selection."""
    return frames.select(data, background, max_pixels, mode, count, same, min_side, only)


def gif(images):
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=100)
    return buf.getvalue()


def flat(colour, mark=None):
    img = Image.new("RGB", (40, 30), colour)
    if mark:
        img.putpixel(mark, (0, 0, 0))
    return img


def test_frame_modes_keep_the_right_frames():
    red, blue, green = (200, 0, 0), (0, 0, 200), (0, 200, 0)
    # frame 1 differs from frame 0 in one pixel (Pillow itself never writes an identical
    # repeat), frames 2 and 3 are new, frame 4 is frame 3 with one pixel changed
    data = gif([flat(red), flat(red, (5, 5)), flat(blue), flat(green), flat(green, (1, 1))])

    def kept(*args, **kw):
        return [f.index for f in select(data, WHITE, 10**6, *args, **kw).kept]

    assert kept("first") == [0]
    assert kept("all", same=0.0) == [0, 1, 2, 3, 4]
    assert kept("all", same=1.0) == [0, 2, 3]  # one changed pixel is near-identical
    assert kept("sample", 2, 1.0) == [0, 4]
    assert kept("sample", 4, 1.0) == [0, 3]  # frames 0, 1, 3, 4: 1 and 4 are repeats
    assert kept("sample", 3, 0.0) == [0, 2, 4]
    assert kept(only=[3, 1]) == [1, 3]
    rgb = {f.index: f.rgb for f in select(data, WHITE, 10**6, "all").kept}
    assert (rgb[2] == (0, 0, 200)).all() and (rgb[3] == (0, 200, 0)).all()
    assert rgb[0].shape == (30, 40, 3)
    assert frames.sample_indices(10, 4) == [0, 3, 6, 9]
    assert frames.sample_indices(2, 5) == [0, 1] and frames.sample_indices(7, 1) == [0]
    with pytest.raises(ValueError, match="mode"):
        select(data, WHITE, 10**6, "most")
    with pytest.raises(frames.FrameError, match="corrupt"):
        select(data, WHITE, 10**6, only=[9])


def test_an_image_pair_is_its_best_frame_pair():
    # frames 0,1 are image 0; frame 2 image 1; frames 3,4 image 2
    image_of = np.array([0, 0, 1, 2, 2])
    a = np.array([0, 1, 0, 1, 2, 2])
    b = np.array([2, 2, 3, 4, 3, 4])
    keep = np.array([False, True, False, False, True, True])
    links = matching.Links(
        keep=keep,
        ratio=np.array([np.inf, 0.5, np.inf, np.inf, 0.7, 0.2]),
        edge=np.array([300, 900, 200, 100, 800, 400]),
        limit=np.full(6, 1000.0),
        kind=np.where(keep, 0, -1).astype(np.int8),
        strong=np.zeros(6, dtype=bool),
    )
    # (0,1): linked frame pair 1; (0,2): neither linked, smaller edge distance 100 (pair 3);
    # (1,2): both linked, smaller ratio (pair 5)
    assert matching.best_pairs(image_of, a, b, links).tolist() == [1, 3, 5]


@pytest.fixture(scope="module")
def animated_folder(tmp_path_factory):
    """A folder where anim.gif reuses base.gif's drawing in its third frame only."""
    root = tmp_path_factory.mktemp("animated")
    folder = root / "panels"
    folder.mkdir()
    rng = random.Random(5)
    scene = demo.new_scene(rng)
    (folder / "base.gif").write_bytes(demo.to_gif([demo.render(scene)]))
    opening = [demo.render(demo.new_scene(rng)), demo.render(demo.new_scene(rng))]
    (folder / "anim.gif").write_bytes(demo.to_gif([*opening, demo.render(scene)]))
    for k in range(4):
        (folder / f"other{k}.gif").write_bytes(demo.to_gif([demo.render(demo.new_scene(rng))]))
    return root, folder


def run(root, folder, mode, name):
    workdir = root / name
    workdir.mkdir()
    cfg = {
        "source": {"folder": str(folder), "images_per_chunk": 3},
        "frames": {"mode": mode, "count": 3},
        "evaluation": {"truth": None},
    }
    snakemake(workdir, configfile=write_config(root / f"{name}.yaml", cfg))
    return workdir / "results"


def cluster_of(res):
    groups = pd.read_parquet(res / "groups.parquet").set_index("image")["group"]
    return groups


@pytest.mark.workflow
def test_reuse_in_a_third_frame_is_found_in_all_mode_only(animated_folder):
    root, folder = animated_folder
    first = run(root, folder, "first", "first")
    labels = cluster_of(first)
    assert labels["anim.gif"] != labels["base.gif"]
    assert len(pd.read_parquet(first / "pairs.parquet")) == 0

    for mode in ("all", "sample"):
        res = run(root, folder, mode, mode)
        labels = cluster_of(res)
        assert labels["anim.gif"] == labels["base.gif"], mode
        assert (labels == labels["base.gif"]).sum() == 2
        edges, offsets = tables.read_images(sorted((res / "frame_features").glob("*.parquet")))
        assert edges.groupby("image").size()["anim.gif"] == 3  # every frame kept
        pairs = pd.read_parquet(res / "pairs.parquet")
        assert len(pairs) == 1
        row = pairs.iloc[0]
        frame_of = {row.image_a: row.frame_a, row.image_b: row.frame_b}
        assert frame_of == {"anim.gif": 2, "base.gif": 0}
        assert row.edges == 0 and row.ratio == 0
        # no two frames of one image were ever compared
        shards = tables.read_many(sorted((res / "distances").glob("*.parquet")))
        a, b = tables.pair_numbers(shards, offsets)
        names = edges["image"].to_numpy()
        assert len(shards) > 0 and (names[a] != names[b]).all()
        # neighbours name the frames; the gallery shows the matching frame
        neigh = pd.read_parquet(res / "neighbours.parquet")
        top = neigh[(neigh["image"] == "base.gif") & (neigh["rank"] == 1)].iloc[0]
        assert top["neighbour"] == "anim.gif" and top["neighbour_frame"] == 2
        html = (res / "gallery/index.html").read_text()
        assert "anim.gif · frame 2" in html
        assert len(list((res / "gallery/thumbs").glob("*.jpg"))) == len(edges)

    # the query computes the same frames: anim.gif finds base.gif through its third frame
    index = query.load(res)
    found = query.nearest(index, query.read_frames(folder / "anim.gif", index.settings), 2)
    best = found[found["image"] == "base.gif"].iloc[0]
    assert best["query_frame"] == 2 and best["frame"] == 0 and bool(best["linked"])


def gif_then_a_larger_frame(width: int, height: int) -> bytes:
    """A 64x64 one-frame GIF followed by a second frame of width x height pixels (one
    colour, so the file stays small whatever the size it declares)."""
    small, big = io.BytesIO(), io.BytesIO()
    Image.new("P", (64, 64), 1).save(small, "GIF")
    Image.new("P", (width, height), 0).save(big, "GIF")
    data, tail = small.getvalue(), big.getvalue()
    # the big GIF's blocks after its header, logical screen and global colour table
    flags = tail[10]
    start = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    return data[:-1] + tail[start:-1] + b";"


@pytest.mark.parametrize("mode", ["all", "sample"])
def test_a_later_frame_past_max_pixels_is_refused_before_it_is_decoded(mode):
    """A later frame that enlarges the canvas past frames.max_pixels is listed as broken
    and never decoded; the frames before it are kept."""
    data = gif_then_a_larger_frame(400, 300)  # 120,000 pixels
    found = select(data, (255, 255, 255), 100_000, mode, count=2)
    assert [f.index for f in found.kept] == [0]
    assert found.kept[0].rgb.shape == (64, 64, 3)
    assert len(found.broken) == 1 and found.broken[0][0] == 1
    assert "too large" in found.broken[0][1] and "frames.max_pixels" in found.broken[0][1]
    # within the limit, the same file keeps both frames
    kept = select(data, (255, 255, 255), 120_000, mode, count=2).kept
    assert [f.index for f in kept] == [0, 1] and kept[1].rgb.shape == (300, 400, 3)
    # a stage that asks for that frame by its index gets an error naming the limit
    with pytest.raises(frames.FrameError, match="frames.max_pixels"):
        select(data, (255, 255, 255), 100_000, only=[1])
    assert Image.MAX_IMAGE_PIXELS not in (None, 50_000)  # Pillow's own limit is restored
