"""A shared template is not reused art: a real workflow run on a generated folder in which
seven drawings share one bust (each in six skin tones) among copied scenes."""

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
