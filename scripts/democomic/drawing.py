"""Drawing the demo comic: rooms, characters and lettered text boxes, as line art.

Panels are line art: a room (wall, floor, window, door, shelves), one or two characters with
black outlines and flat colours, props, and a lettered text box. Everything is drawn
deterministically from a random.Random, so a seed gives the same comic on every machine.
"""

from __future__ import annotations

import copy
import io
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 650, 450
TALL = 650
INK = (0, 0, 0)

PALETTE = [
    (238, 232, 213),
    (200, 222, 240),
    (240, 214, 200),
    (214, 240, 210),
    (232, 216, 240),
    (255, 255, 255),
    (96, 96, 96),
    (180, 60, 60),
    (60, 120, 190),
    (70, 160, 90),
    (235, 190, 60),
    (150, 90, 170),
    (245, 150, 60),
    (120, 80, 50),
    (250, 220, 190),
    (200, 170, 140),
    (170, 230, 60),
    (40, 180, 180),
    (230, 110, 150),
    (130, 130, 210),
]
SKIN = [(250, 220, 190), (200, 150, 110), (150, 100, 70), (255, 235, 160), (180, 240, 180)]
NAMES = ["PIP", "NOVA", "GUS", "ODE", "KIT", "MOE", "RAY", "ZED", "LU", "BEA"]
WORDS = (
    "the a my your this that what where why now later never always again look wait run "
    "stop go come see hear find lost found box door window cake robot hammer letter game "
    "computer room house yard mailbox stairs kitchen rocket bed friend brother sister "
    "strange quiet loud nice terrible awesome weird broken new old big tiny is are was "
    "will can cannot should maybe really very just still"
).split()


@dataclass
class Shape:
    kind: str  # rect, ellipse, line, polygon
    xy: list[float]
    fill: tuple[int, int, int] | None = None
    width: int = 3
    art: bool = True  # part of the drawing (mirrored, shifted) rather than the lettering


@dataclass
class Scene:
    background: tuple[int, int, int]
    shapes: list[Shape]
    text: list[str]
    text_box: tuple[int, int, int, int]
    height: int = HEIGHT
    busy: int = 0  # number of hatching strokes drawn behind everything (busy backgrounds)
    busy_seed: int = 0
    extra: dict = field(default_factory=dict)


def sentence(rng: random.Random) -> list[str]:
    name = rng.choice(NAMES)
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 12))]
    text = f"{name}: " + " ".join(words).capitalize() + rng.choice([".", "!", "?", "..."])
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > 34:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return lines[:3]


def _figure(rng: random.Random, x: float, floor: float, scale: float) -> list[Shape]:
    skin, shirt, pants = rng.choice(SKIN), rng.choice(PALETTE[6:]), rng.choice(PALETTE[6:])
    head_r = 34 * scale
    body_h = 95 * scale
    leg_h = 70 * scale
    top = floor - leg_h - body_h - 2 * head_r
    hx, hy = x, top + head_r
    shapes = [
        Shape("rect", [x - 28 * scale, floor - leg_h, x - 6 * scale, floor], pants),
        Shape("rect", [x + 6 * scale, floor - leg_h, x + 28 * scale, floor], pants),
        Shape(
            "polygon",
            [
                x - 40 * scale,
                floor - leg_h,
                x + 40 * scale,
                floor - leg_h,
                x + 30 * scale,
                floor - leg_h - body_h,
                x - 30 * scale,
                floor - leg_h - body_h,
            ],
            shirt,
        ),
    ]
    arm_y = floor - leg_h - body_h + 12 * scale
    pose = rng.choice(["down", "up", "wave", "point"])
    left = [x - 30 * scale, arm_y, x - 62 * scale, arm_y + (70 if pose != "up" else -60) * scale]
    right_end = {"down": (62, 70), "up": (62, -60), "wave": (70, -50), "point": (100, 5)}[pose]
    right = [x + 30 * scale, arm_y, x + right_end[0] * scale, arm_y + right_end[1] * scale]
    shapes += [
        Shape("line", left, None, max(4, int(9 * scale))),
        Shape("line", right, None, max(4, int(9 * scale))),
    ]
    shapes += [
        Shape(
            "ellipse",
            [left[2] - 9 * scale, left[3] - 9 * scale, left[2] + 9 * scale, left[3] + 9 * scale],
            skin,
        )
    ]
    shapes += [
        Shape(
            "ellipse",
            [
                right[2] - 9 * scale,
                right[3] - 9 * scale,
                right[2] + 9 * scale,
                right[3] + 9 * scale,
            ],
            skin,
        )
    ]
    shapes.append(Shape("ellipse", [hx - head_r, hy - head_r, hx + head_r, hy + head_r], skin))
    hair = rng.choice(PALETTE[6:14])
    shapes.append(
        Shape(
            "polygon",
            [
                hx - head_r,
                hy - 4 * scale,
                hx - head_r * 0.6,
                hy - head_r * 1.1,
                hx + head_r * 0.7,
                hy - head_r * 1.05,
                hx + head_r,
                hy - 2 * scale,
            ],
            hair,
        )
    )
    for dx in (-12, 12):
        shapes.append(
            Shape(
                "ellipse",
                [hx + (dx - 4) * scale, hy - 2 * scale, hx + (dx + 4) * scale, hy + 8 * scale],
                INK,
                1,
            )
        )
    mouth = rng.choice(["flat", "smile", "open"])
    if mouth == "open":
        shapes.append(
            Shape(
                "ellipse",
                [hx - 7 * scale, hy + 14 * scale, hx + 7 * scale, hy + 24 * scale],
                (120, 30, 30),
                2,
            )
        )
    else:
        bend = 6 if mouth == "smile" else 0
        shapes.append(
            Shape(
                "line",
                [
                    hx - 10 * scale,
                    hy + 16 * scale,
                    hx,
                    hy + 16 * scale + bend * scale,
                    hx + 10 * scale,
                    hy + 16 * scale,
                ],
                None,
                2,
            )
        )
    return shapes


def figure(rng: random.Random, scale: float = 1.0) -> Image.Image:
    """A character drawing alone, on a transparent RGBA image cropped to the drawing: the
    art a comic pastes into other scenes."""
    side = int(420 * scale) + 40
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    _draw_shapes(ImageDraw.Draw(layer), _figure(rng, side / 2, side - 20, scale))
    return layer.crop(layer.getbbox())


def _room(rng: random.Random, height: int) -> tuple[list[Shape], float]:
    floor = height * rng.uniform(0.62, 0.9)
    ground = rng.choice(PALETTE[13:16] + PALETTE[:2])
    shapes = [
        Shape("rect", [0, floor, WIDTH, height], ground, 0),
        Shape("line", [0, floor, WIDTH, floor], None, 4),
    ]
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["window", "door", "frame", "shelf", "computer", "table"])
        x = rng.uniform(30, WIDTH - 170)
        if kind == "window":
            y, w, h = rng.uniform(40, floor - 200), rng.uniform(90, 150), rng.uniform(80, 130)
            sky = rng.choice([(150, 200, 250), (40, 40, 90), (250, 190, 120)])
            shapes += [
                Shape("rect", [x, y, x + w, y + h], sky, 4),
                Shape("line", [x + w / 2, y, x + w / 2, y + h], None, 3),
                Shape("line", [x, y + h / 2, x + w, y + h / 2], None, 3),
            ]
        elif kind == "door":
            w, h = rng.uniform(80, 110), rng.uniform(180, 230)
            shapes += [
                Shape("rect", [x, floor - h, x + w, floor], rng.choice(PALETTE[13:16]), 4),
                Shape(
                    "ellipse",
                    [x + w - 22, floor - h / 2 - 6, x + w - 10, floor - h / 2 + 6],
                    (235, 190, 60),
                    2,
                ),
            ]
        elif kind == "frame":
            y, w, h = rng.uniform(30, floor - 180), rng.uniform(50, 90), rng.uniform(50, 90)
            shapes += [
                Shape("rect", [x, y, x + w, y + h], rng.choice(PALETTE[6:]), 5),
                Shape(
                    "line", [x + 8, y + h - 10, x + w / 2, y + 12, x + w - 8, y + h - 10], None, 2
                ),
            ]
        elif kind == "shelf":
            y, w = rng.uniform(60, floor - 120), rng.uniform(110, 170)
            shapes.append(Shape("rect", [x, y, x + w, y + 10], (120, 80, 50), 3))
            bx = x + 6
            while bx < x + w - 20:
                bw = rng.uniform(10, 22)
                shapes.append(
                    Shape(
                        "rect",
                        [bx, y - rng.uniform(25, 45), bx + bw, y],
                        rng.choice(PALETTE[6:]),
                        2,
                    )
                )
                bx += bw + 3
        elif kind == "computer":
            w, h = rng.uniform(90, 130), rng.uniform(70, 95)
            y = floor - 75 - h
            shapes += [
                Shape("rect", [x - 20, floor - 75, x + w + 20, floor - 60], (120, 80, 50), 3),
                Shape("rect", [x, y, x + w, y + h], (96, 96, 96), 4),
                Shape(
                    "rect",
                    [x + 9, y + 9, x + w - 9, y + h - 9],
                    rng.choice([(60, 120, 190), (20, 30, 40)]),
                    2,
                ),
            ]
        else:
            w = rng.uniform(120, 180)
            shapes += [
                Shape("rect", [x, floor - 70, x + w, floor - 58], (120, 80, 50), 3),
                Shape("line", [x + 10, floor - 58, x + 10, floor], None, 5),
                Shape("line", [x + w - 10, floor - 58, x + w - 10, floor], None, 5),
            ]
    return shapes, floor


def new_scene(rng: random.Random, height: int = HEIGHT, busy: bool = False) -> Scene:
    shapes, floor = _room(rng, height)
    scale = height / HEIGHT * rng.uniform(0.85, 1.15)
    xs = [rng.uniform(120, WIDTH - 120)]
    if rng.random() < 0.45:
        other = WIDTH - xs[0] + rng.uniform(-40, 40)
        if abs(other - xs[0]) > 150:
            xs.append(other)
    for x in xs:
        shapes += _figure(rng, x, floor, scale)
    text = sentence(rng)
    width = rng.uniform(0.6, 0.97) * WIDTH
    x0 = rng.uniform(10, WIDTH - 10 - width)
    box_h = 22 + 24 * rng.randint(len(text), 3)
    y0 = rng.uniform(8, 40) if rng.random() < 0.5 else height - 8 - box_h - rng.uniform(0, 30)
    box = (int(x0), int(y0), int(x0 + width), int(y0 + box_h))
    return Scene(
        rng.choice(PALETTE[:5]),
        shapes,
        text,
        box,
        height,
        busy=rng.randint(250, 400) if busy else 0,
        busy_seed=rng.randrange(2**31),
    )


_FONT_CACHE: dict[int, ImageFont.ImageFont] = {}


def font(size: int = 19):
    if size not in _FONT_CACHE:
        try:
            _FONT_CACHE[size] = ImageFont.load_default(size=size)
        except TypeError:  # Pillow without FreeType: fixed bitmap font
            _FONT_CACHE[size] = ImageFont.load_default()
    return _FONT_CACHE[size]


def _draw_shapes(
    draw: ImageDraw.ImageDraw, shapes: list[Shape], dx: float = 0, dy: float = 0
) -> None:
    for s in shapes:
        xy = [v + (dx if i % 2 == 0 else dy) for i, v in enumerate(s.xy)]
        if s.kind == "rect":
            draw.rectangle(_box(xy), fill=s.fill, outline=INK if s.width else None, width=s.width)
        elif s.kind == "ellipse":
            draw.ellipse(_box(xy), fill=s.fill, outline=INK, width=s.width)
        elif s.kind == "polygon":
            draw.polygon(xy, fill=s.fill, outline=INK, width=s.width)
        else:
            draw.line(xy, fill=INK, width=s.width, joint="curve")


def _box(xy: list[float]) -> list[float]:
    x0, y0, x1, y1 = xy
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def render(
    scene: Scene, mirror: bool = False, shift: tuple[int, int] = (0, 0), crop: float = 0.0
) -> Image.Image:
    """Draw a scene. `mirror` flips the art (not the lettering); `shift` moves the art and
    `crop` trims that fraction from every side and scales back (the lettering stays put)."""
    art = Image.new("RGB", (WIDTH, scene.height), scene.background)
    draw = ImageDraw.Draw(art)
    if scene.busy:
        brng = random.Random(scene.busy_seed)
        for _ in range(scene.busy):
            x, y = brng.uniform(0, WIDTH), brng.uniform(0, scene.height)
            colour = brng.choice(PALETTE)
            draw.line(
                [x, y, x + brng.uniform(-60, 60), y + brng.uniform(-60, 60)],
                fill=colour,
                width=brng.randint(2, 5),
            )
    _draw_shapes(draw, [s for s in scene.shapes if s.art], shift[0], shift[1])
    if crop:
        cx, cy = int(WIDTH * crop), int(scene.height * crop)
        art = art.crop((cx, cy, WIDTH - cx, scene.height - cy)).resize(
            (WIDTH, scene.height), Image.Resampling.BICUBIC
        )
    if mirror:
        art = art.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    draw = ImageDraw.Draw(art)
    x0, y0, x1, y1 = scene.text_box
    draw.rectangle([x0, y0, x1, y1], fill=(255, 255, 255), outline=INK, width=3)
    face = font()
    for i, line in enumerate(scene.text):
        draw.text((x0 + 16, y0 + 10 + 24 * i), line, fill=INK, font=face)
    return art


def to_gif(frames: list[Image.Image], durations: int = 400) -> bytes:
    """Encode RGB frames as a GIF (adaptive palette, no dithering; deterministic)."""
    pal = [
        f.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        for f in frames
    ]
    buf = io.BytesIO()
    if len(pal) == 1:
        pal[0].save(buf, format="GIF")
    else:
        pal[0].save(
            buf, format="GIF", save_all=True, append_images=pal[1:], duration=durations, loop=0
        )
    return buf.getvalue()


def recolour(scene: Scene, rng: random.Random) -> Scene:
    out = copy.deepcopy(scene)
    mapping: dict[tuple[int, int, int], tuple[int, int, int]] = {}
    for s in out.shapes:
        if s.fill is not None and s.fill != INK:
            if s.fill not in mapping:
                mapping[s.fill] = rng.choice([c for c in PALETTE + SKIN if c != s.fill])
            s.fill = mapping[s.fill]
    out.background = rng.choice([c for c in PALETTE[:5] if c != scene.background])
    return out


def jitter(scene: Scene, rng: random.Random, amount: float) -> Scene:
    out = copy.deepcopy(scene)
    for s in out.shapes:
        s.xy = [v + rng.gauss(0, amount) for v in s.xy]
        if s.width > 1 and rng.random() < 0.3:
            s.width += rng.choice([-1, 1])
    return out
