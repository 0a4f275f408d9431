"""The demo comic's panels: families of reuse, and distractors that must not match.

Families of panels reuse one drawing in the ways a comic does: exact reuse, recolour,
re-lettered text, shift or slight crop, a redraw with jittered lines, and a mirrored redraw;
a drawing reused in the third frame of an animated panel (``later_frame``: found only when
every frame is compared, frames.mode all or sample); and heavy re-lettering
(``heavy_lettering``: chat logs translated, big captions over art replaced). Distractors
test what must *not* match: nearly blank panels, busy backgrounds, unrelated scenes,
animated panels whose later frames differ, unrelated chat logs and caption panels.

New families are drawn after the earlier ones from the same random sequence, so the
panels of earlier versions of the demo stay the same.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from democomic import lettering
from democomic.drawing import (
    HEIGHT,
    INK,
    PALETTE,
    TALL,
    WIDTH,
    figure,
    jitter,
    new_scene,
    recolour,
    render,
    sentence,
    to_gif,
)

RELATIONS = ("exact", "recolour", "reletter", "shift", "redraw", "mirror")
#: A drawing reused in the third frame of an animated panel.
LATER_FRAME = "later_frame"
#: Lettering that covers at least half the panel, replaced completely.
HEAVY_LETTERING = "heavy_lettering"
#: Heavy lettering's panels cover at least this fraction of the panel with lettering.
HEAVY_COVER = 0.5
#: How a family's reuse of its original is related to it (panelmatch.relation's names):
#: the truth's ``reuse`` column. The two reuses of one family are not related this way to
#: each other (two mirrored redraws are not mirrored), so only pairs with the original are.
REUSE = {
    "exact": "identical",
    "recolour": "recolour",
    "reletter": "reletter",
    "shift": "shifted",
    "redraw": "similar",
    "mirror": "mirrored",
    LATER_FRAME: "identical",
    HEAVY_LETTERING: "reletter",
    "zoomed": "zoomed",
    "cropped": "cropped",
    "pasted": "partial",
}
#: Partial reuse (:func:`partial_reuse`, not on the demo site): a close-up, a crop, a
#: drawing pasted elsewhere.
PARTIAL = ("zoomed", "cropped", "pasted")
ORIGINAL = "original"


@dataclass
class Panel:
    gif: bytes
    group: str
    relation: str
    reuse: str = ""  # how it reuses its family's original (REUSE), "original" for that one


def _family(rng: random.Random, relation: str, name: str, size: int) -> list[Panel]:
    tall = rng.random() < 0.2
    scene = new_scene(rng, TALL if tall else HEIGHT)
    base = to_gif([render(scene)])
    panels = [Panel(base, name, relation, ORIGINAL)]
    for _ in range(size - 1):
        if relation == "exact":
            gif = base
        elif relation == "recolour":
            gif = to_gif([render(recolour(scene, rng))])
        elif relation == "reletter":
            variant = copy.deepcopy(scene)
            variant.text = sentence(rng)
            gif = to_gif([render(variant)])
        elif relation == "shift":
            if rng.random() < 0.5:
                gif = to_gif(
                    [
                        render(
                            scene,
                            shift=(
                                rng.choice([-1, 1]) * rng.randint(4, 9),
                                rng.choice([-1, 1]) * rng.randint(3, 7),
                            ),
                        )
                    ]
                )
            else:
                gif = to_gif([render(scene, crop=rng.uniform(0.02, 0.04))])
        elif relation == "redraw":
            variant = jitter(scene, rng, 2.0)
            variant.text = sentence(rng)
            gif = to_gif([render(variant)])
        elif relation == "mirror":
            gif = to_gif([render(jitter(scene, rng, 1.0), mirror=True)])
        else:
            raise ValueError(f"unknown relation {relation!r}")
        panels.append(Panel(gif, name, relation, REUSE[relation]))
    return panels


def _blank(rng: random.Random) -> bytes:
    colour = rng.choice(PALETTE[:6] + [(20, 20, 20)])
    img = Image.new("RGB", (WIDTH, HEIGHT), colour)
    draw = ImageDraw.Draw(img)
    x, y = rng.uniform(100, 550), rng.uniform(100, 350)
    mark = rng.choice(["dot", "dash", "none"])
    if mark == "dot":
        draw.ellipse([x, y, x + 8, y + 8], fill=INK)
    elif mark == "dash":
        draw.line(
            [x, y, x + 30, y], fill=(255, 255, 255) if colour == (20, 20, 20) else INK, width=3
        )
    return to_gif([img])


def _animated(rng: random.Random) -> bytes:
    scene = new_scene(rng)
    frames = [render(scene)]
    for _ in range(rng.randint(2, 3)):
        frames.append(render(jitter(new_scene(rng), rng, 0)))
    return to_gif(frames)


def panels(seed: int, families_per_relation: int, singles: int) -> list[Panel]:
    """Every panel of the demo, in a shuffled but seed-determined order."""
    rng = random.Random(seed)
    out: list[Panel] = []
    for relation in RELATIONS:
        for k in range(families_per_relation):
            size = 3 if k % 3 else 4
            out += _family(rng, relation, f"{relation}_{k + 1}", size)
    out += [
        Panel(
            to_gif([render(new_scene(rng, TALL if rng.random() < 0.2 else HEIGHT))]), "", "single"
        )
        for _ in range(singles)
    ]
    n_distract = max(2, families_per_relation)
    out += [Panel(_blank(rng), "", "blank") for _ in range(n_distract)]
    out += [
        Panel(to_gif([render(new_scene(rng, busy=True))]), "", "busy") for _ in range(n_distract)
    ]
    out += [Panel(_animated(rng), "", "animated") for _ in range(n_distract)]
    # drawn last, so that the panels above stay those of earlier versions of the demo
    for k in range(families_per_relation):
        name = f"{LATER_FRAME}_{k + 1}"
        scene = new_scene(rng)
        opening = [render(new_scene(rng)), render(jitter(new_scene(rng), rng, 0))]
        out.append(Panel(to_gif([render(scene)]), name, LATER_FRAME, ORIGINAL))
        out.append(Panel(to_gif([*opening, render(scene)]), name, LATER_FRAME, REUSE[LATER_FRAME]))
    rng.shuffle(out)
    # heavy lettering after that, from a random sequence of its own: the shuffle above
    # keeps the order of earlier versions of the demo, and these panels are added to it
    extra = random.Random(f"{seed}:{HEAVY_LETTERING}")
    added = heavy_lettering(extra, families_per_relation)
    added += [
        Panel(
            to_gif(
                [lettering.chat_log(lettering.chat_messages(extra, extra.randint(30, 70)), extra)]
            ),
            "",
            "chat",
        )
        for _ in range(max(4, families_per_relation))
    ]
    added += [
        Panel(to_gif([lettering.plain_caption(extra, extra.randint(0, 1))]), "", "caption")
        for _ in range(max(2, families_per_relation // 2))
    ]
    for panel in added:  # each at a random place, earlier panels keeping their order
        out.insert(extra.randrange(len(out) + 1), panel)
    return out


def _edge_count(img: Image.Image) -> int:
    """Pixels on an edge of `img` (how much there is to see in it)."""
    return int((np.asarray(img.convert("L").filter(ImageFilter.FIND_EDGES)) > 40).sum())


def _close_up(rng: random.Random, base: Image.Image) -> Image.Image:
    """A region of `base` enlarged 1.5-3x back to the panel's size: of 6 random regions,
    the one with the most edges (a close-up shows something)."""
    w, h = base.size
    zoom = rng.uniform(1.5, 3.0)
    rw, rh = int(w / zoom), int(h / zoom)
    boxes = []
    for _ in range(6):
        x, y = rng.randint(0, w - rw), rng.randint(0, h - rh)
        boxes.append((x, y, x + rw, y + rh))
    box = max(boxes, key=lambda b: _edge_count(base.crop(b)))
    return base.crop(box).resize((w, h), Image.Resampling.BICUBIC)


def _crop(rng: random.Random, base: Image.Image) -> Image.Image:
    """Half or more of `base` at its own scale: 50-75% of its width or of its height, from
    one side or the middle."""
    w, h = base.size
    keep = rng.uniform(0.5, 0.75)
    where = rng.choice(["start", "middle", "end"])
    if rng.random() < 0.6:
        cw = int(w * keep)
        x = {"start": 0, "middle": (w - cw) // 2, "end": w - cw}[where]
        return base.crop((x, 0, x + cw, h))
    ch = int(h * keep)
    y = {"start": 0, "middle": (h - ch) // 2, "end": h - ch}[where]
    return base.crop((0, y, w, y + ch))


def _paste(
    rng: random.Random, scene_img: Image.Image, art: Image.Image, scale: float
) -> Image.Image:
    """`art` (RGBA) scaled by `scale` and pasted into `scene_img` at a random place."""
    art = art.resize(
        (max(1, int(art.width * scale)), max(1, int(art.height * scale))),
        Image.Resampling.BICUBIC,
    )
    out = scene_img.copy()
    x = rng.randint(0, max(0, out.width - art.width))
    y = rng.randint(max(0, out.height - art.height - 60), max(0, out.height - art.height))
    out.paste(art, (x, y), art)
    return out


def partial_reuse(rng: random.Random, families: int) -> list[Panel]:
    """`families` families each of partial reuse: close-ups (``zoomed``), crops
    (``cropped``) and a character drawing pasted into other scenes at another place and
    scale (``pasted``). The original of each is a whole panel; its reuses show part of it.

    They are not on the demo site: whole-panel matching, the default, cannot find them.
    benchmarks/local_features.py and the workflow test of local features (local.enabled)
    draw them (docs/methods.md)."""
    out = []
    for relation in PARTIAL:
        for k in range(families):
            name = f"{relation}_{k + 1}"
            size = 3 if k % 3 else 4
            if relation == "pasted":
                art = figure(rng, rng.uniform(0.9, 1.2))
                base = _paste(rng, render(new_scene(rng)), art, 1.0)
                reuses = [
                    _paste(rng, render(new_scene(rng)), art, rng.uniform(0.6, 0.85))
                    for _ in range(size - 1)
                ]
            else:
                base = render(new_scene(rng, TALL if rng.random() < 0.2 else HEIGHT))
                make = _close_up if relation == "zoomed" else _crop
                reuses = [make(rng, base) for _ in range(size - 1)]
            out.append(Panel(to_gif([base]), name, relation, ORIGINAL))
            out += [Panel(to_gif([img]), name, relation, REUSE[relation]) for img in reuses]
    return out


def heavy_lettering(rng: random.Random, families: int) -> list[Panel]:
    """`families` families of heavy re-lettering: chat logs translated (a second edition
    in another language, and a third in a third), alternating with art under big captions
    re-lettered twice. In each, the lettering covers at least HEAVY_COVER of every panel."""
    out = []
    for k in range(families):
        name = f"{HEAVY_LETTERING}_{k + 1}"
        if k % 2 == 0:
            messages = lettering.chat_messages(rng, rng.randint(30, 70))
            editions = [(0, 1.0), (1, rng.uniform(1.02, 1.12)), (2, rng.uniform(0.9, 0.98))]
            for language, factor in editions:
                img = lettering.chat_log(messages, random.Random(rng.random()), language, factor)
                reuse = ORIGINAL if language == 0 else REUSE[HEAVY_LETTERING]
                out.append(Panel(to_gif([img]), name, HEAVY_LETTERING, reuse))
        else:
            art = lettering.flames(rng) if k % 4 == 1 else lettering.busy_art(rng)
            place = rng.choice(["top", "middle", "bottom"])
            for language in range(3):
                letters = random.Random(rng.random())
                img, _ = lettering.caption(art, letters, language, HEAVY_COVER, place)
                reuse = ORIGINAL if language == 0 else REUSE[HEAVY_LETTERING]
                out.append(Panel(to_gif([img]), name, HEAVY_LETTERING, reuse))
    return out
