"""A shared template is not reused art: real workflow runs on generated folders in which
seven drawings share one bust (each in six skin tones) among copied scenes, and in which
eighty drawings share one ornate frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import snakemake, write_config
from PIL import Image, ImageDraw

pytestmark = pytest.mark.workflow

#: The default (yellow) tone and five skin tones, as emoji sets draw them.
TONES = [
    (255, 220, 93),
    (247, 222, 206),
    (243, 210, 162),
    (213, 171, 136),
    (175, 126, 87),
    (124, 83, 62),
]


def bust(draw: ImageDraw.ImageDraw, tone) -> None:
    """The template every drawing shares: a rounded frame, a head, shoulders."""
    draw.rounded_rectangle((4, 4, 123, 123), radius=18, outline=(40, 40, 40), width=3)
    draw.ellipse((38, 22, 90, 74), fill=tone, outline=(30, 30, 30), width=3)
    draw.chord((18, 70, 110, 160), 180, 360, fill=(70, 110, 160), outline=(30, 30, 30), width=3)


def template_folder(root: Path, drawings: int = 7, scenes: int = 100, seed: int = 0) -> None:
    """`drawings` drawings on one bust, each in every tone (role{k}_tone{t}.png), and
    `scenes` unrelated scenes, each with a copy (scene{p}.png, scene{p}_copy.png)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for k in range(drawings):
        points = [(int(x), int(y)) for x, y in rng.integers(20, 108, size=(5, 2))]
        for t, tone in enumerate(TONES):
            image = Image.new("RGB", (128, 128), "white")
            draw = ImageDraw.Draw(image)
            bust(draw, tone)
            draw.polygon(points, outline=(200, 30, 30), width=3)
            draw.line([points[0], points[3]], fill=(20, 120, 20), width=2)
            image.save(root / f"role{k}_tone{t}.png")
    for p in range(scenes):
        image = Image.new("RGB", (128, 128), "white")
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x0, y0, x1, y1 = (int(v) for v in rng.integers(0, 128, 4))
            colour = tuple(int(c) for c in rng.integers(0, 200, 3))
            draw.line((x0, y0, x1, y1), fill=colour, width=3)
        image.save(root / f"scene{p}.png")
        image.save(root / f"scene{p}_copy.png")


def framed_folder(root: Path, n: int = 80, seed: int = 1) -> None:
    """`n` images (img00.png ...) in one ornate frame, each with a drawing of its own inside
    it; the last one's drawing is the first one's."""
    rng = np.random.default_rng(seed)
    ornament = np.random.default_rng(99)

    def in_the_border() -> tuple[int, int]:
        along, depth = int(ornament.integers(0, 200)), int(ornament.integers(2, 38))
        side = int(ornament.integers(4))
        return [(along, depth), (along, 199 - depth), (depth, along), (199 - depth, along)][side]

    strokes = [(*in_the_border(), *in_the_border()) for _ in range(60)]
    strokes = [
        (x0, y0, x1, y1)
        for x0, y0, x1, y1 in strokes
        if max(x0, x1) < 40 or max(y0, y1) < 40 or min(x0, x1) > 160 or min(y0, y1) > 160
    ]
    drawings = [[tuple(int(v) for v in rng.integers(60, 140, 4)) for _ in range(5)]]
    drawings += [
        [tuple(int(v) for v in rng.integers(60, 140, 4)) for _ in range(5)] for _ in range(n - 2)
    ]
    drawings.append(drawings[0])
    root.mkdir(parents=True)
    for k, lines in enumerate(drawings):
        image = Image.new("RGB", (200, 200), "white")
        draw = ImageDraw.Draw(image)
        draw.rectangle((3, 3, 196, 196), outline=(20, 20, 20), width=4)
        draw.rectangle((14, 14, 185, 185), outline=(20, 20, 20), width=2)
        for stroke in strokes:
            draw.line(stroke, fill=(90, 40, 10), width=2)
        for line in lines:
            draw.line(line, fill=(200, 30, 30), width=3)
        image.save(root / f"img{k:02d}.png")


def run(tmp_path: Path, name: str, matching: dict) -> pd.DataFrame:
    workdir = tmp_path / name
    workdir.mkdir()
    cfg = {"source": {"folder": str(tmp_path / "images")}, "evaluation": {"truth": None}}
    if matching:
        cfg["matching"] = matching
    snakemake(
        workdir, "results/groups.parquet", configfile=write_config(tmp_path / f"{name}.yaml", cfg)
    )
    return pd.read_parquet(workdir / "results/groups.parquet").set_index("image")


def test_drawings_on_one_template_are_groups_of_one_family(tmp_path):
    template_folder(tmp_path / "images")
    groups = run(tmp_path, "default", {})
    roles = groups[groups.index.str.startswith("role")]
    drawing = roles.index.str.extract(r"role(\d+)_", expand=False).to_numpy()
    # each drawing in its six tones is one group, and no group holds two drawings
    assert roles.groupby(drawing)["group"].nunique().eq(1).all()
    assert roles.groupby("group").size().eq(6).all()
    assert roles["group"].nunique() == 7
    # the template joins them as one family of 42
    assert roles["family"].nunique() == 1 and (roles["family_size"] == 42).all()
    # the copied scenes are pairs, each its own family
    scenes = groups[groups.index.str.startswith("scene")]
    assert (scenes["group_size"] == 2).all() and (scenes["family_size"] == 2).all()
    assert scenes.groupby("group")["family"].nunique().eq(1).all()

    # without the family step (a group may hold any number of images), the template
    # makes one group of all 42 drawings: what the step is for
    merged = run(tmp_path, "no_split", {"max_group_size": 1000000})
    assert merged.loc[roles.index, "group"].nunique() == 1


def test_a_frame_eighty_images_share_links_only_the_shared_drawing(tmp_path):
    """The frame is a template (more than matching.template_frames images hold its blocks of
    edges): the edge rule compares what is inside it, and the only pair is the drawing that
    two images share."""
    framed_folder(tmp_path / "images")
    run(tmp_path, "default", {})
    pairs = pd.read_parquet(tmp_path / "default/results/pairs.parquet")
    assert list(zip(pairs["image_a"], pairs["image_b"], strict=True)) == [
        ("img00.png", "img79.png")
    ]
    groups = pd.read_parquet(tmp_path / "default/results/groups.parquet").set_index("image")
    assert groups.loc["img00.png", "group"] == groups.loc["img79.png", "group"]
    assert (groups["group_size"] > 1).sum() == 2
    # without templates the frame links the drawings to each other
    run(tmp_path, "no_templates", {"template_frames": None})
    pairs = pd.read_parquet(tmp_path / "no_templates/results/pairs.parquet")
    assert len(pairs) > 1000
