"""Panels that are mostly lettering: chat logs, and big captions over busy art.

A translated or re-lettered edition keeps the panel and replaces its words. When the
lettering covers most of the panel, that leaves little for a matcher:

- a *chat log* is a tall panel of text lines, each in its speaker's colour; translated, it
  keeps the speakers' order and roughly each message's length, but every glyph changes,
  lines wrap elsewhere and the panel grows or shrinks;
- a *caption panel* is big lettering over art (flames, a busy room); re-lettered, the art
  is the same wherever neither version's lettering covers it.

Unrelated chat logs (the same speakers, other conversations) and unrelated caption panels
(big text on a plain background) are the distractors: to a hash, any two of them look
alike.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from democomic import drawing

#: Speakers of the chat logs: handle and text colour.
SPEAKERS = [
    ("GT", (7, 21, 205)),
    ("TT", (181, 54, 218)),
    ("TG", (224, 7, 7)),
    ("GG", (74, 201, 37)),
    ("CG", (98, 98, 98)),
    ("GC", (0, 130, 130)),
    ("AG", (0, 86, 130)),
    ("CA", (106, 0, 106)),
]
#: Syllables of the demo's "other languages" (a translation changes every glyph).
SYLLABLES = (
    "ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho ma mi mu "
    "me mo ya yu yo ra ri ru re ro wa n"
).split()
LOG_BACKGROUND = (238, 238, 238)
LOG_FONT = 15
LOG_PITCH = 19


def words(rng: random.Random, count: int, language: int) -> list[str]:
    """`count` words: the demo's English (language 0) or made-up syllable words."""
    if language == 0:
        return [rng.choice(drawing.WORDS) for _ in range(count)]
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(count)]


def wrap(text: str, face, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` pixels in font `face`."""
    lines, line = [], ""
    for word in text.split():
        longer = f"{line} {word}".strip()
        if line and face.getlength(longer) > width:
            lines.append(line)
            line = word
        else:
            line = longer
    return lines + [line] if line else lines


def chat_messages(rng: random.Random, count: int) -> list[tuple[int, int]]:
    """A conversation of `count` messages between 2 or 3 speakers: (speaker, characters)."""
    speakers = rng.sample(range(len(SPEAKERS)), rng.choice([2, 2, 3]))
    who = rng.randrange(len(speakers))
    out = []
    for _ in range(count):
        if rng.random() < 0.75:
            who = (who + 1) % len(speakers)
        out.append((speakers[who], rng.randint(15, 170)))
    return out


def chat_log(
    messages: list[tuple[int, int]],
    rng: random.Random,
    language: int = 0,
    factor: float = 1.0,
    noise: float = 0.15,
) -> Image.Image:
    """A chat log panel of `messages`, lettered in `language`; each message's length is
    scaled by `factor` and a random factor within 1 +- `noise` (a translation)."""
    face = drawing.font(LOG_FONT)
    lines = []
    for speaker, length in messages:
        handle, colour = SPEAKERS[speaker]
        target = length * factor * rng.uniform(1 - noise, 1 + noise)
        text, used = [], 0
        while used < target:
            word = words(rng, 1, language)[0]
            text.append(word)
            used += len(word) + 1
        for line in wrap(f"{handle}: " + " ".join(text).upper(), face, drawing.WIDTH - 60):
            lines.append((line, colour))
    height = 40 + LOG_PITCH * len(lines) + 30
    img = Image.new("RGB", (drawing.WIDTH, height), LOG_BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.rectangle([8, 8, drawing.WIDTH - 9, height - 9], outline=(160, 160, 160), width=2)
    for k, (line, colour) in enumerate(lines):
        draw.text((28, 30 + LOG_PITCH * k), line, fill=colour, font=face)
    return img


#: Colours of the flame art, dark to bright.
FLAME = [(120, 10, 0), (200, 40, 0), (240, 100, 0), (255, 170, 20), (255, 230, 90)]


def flames(rng: random.Random, height: int = drawing.HEIGHT) -> Image.Image:
    """Flame art: layers of flame tongues rising from the bottom."""
    img = Image.new("RGB", (drawing.WIDTH, height), FLAME[0])
    draw = ImageDraw.Draw(img)
    for layer, colour in enumerate(FLAME[1:], 1):
        for _ in range(rng.randint(10, 18)):
            x = rng.uniform(-40, drawing.WIDTH)
            top = height * (1 - rng.uniform(0.25, 0.95) / layer**0.4)
            width = rng.uniform(40, 120)
            mid = (top + height) / 2
            draw.polygon(
                [
                    (x, height + 10),
                    (x + width * 0.2, mid),
                    (x + width / 2 + rng.uniform(-20, 20), top),
                    (x + width * 0.8, mid),
                    (x + width, height + 10),
                ],
                fill=colour,
            )
    return img


def busy_art(rng: random.Random) -> Image.Image:
    """A room with characters over a busy hatched background, without its text box."""
    scene = drawing.new_scene(rng, busy=True)
    scene.text = []
    scene.text_box = (-10, -10, -10, -10)
    return drawing.render(scene)


def caption(
    art: Image.Image,
    rng: random.Random,
    language: int = 0,
    cover: float = 0.5,
    place: str | None = None,
) -> tuple[Image.Image, float]:
    """`art` with big lettering over it: full-width lines added until the block of
    lettering covers at least `cover` of the panel, at `place` (top, middle or bottom;
    random by default; an edition letters where the original did). Returns the panel and
    the fraction its lettering block covers."""
    img = art.copy()
    draw = ImageDraw.Draw(img)
    size = rng.randint(44, 58)
    face = drawing.font(size)
    fill = rng.choice([(255, 255, 255), (0, 0, 0), (255, 240, 120)])
    stroke = (0, 0, 0) if fill != (0, 0, 0) else (255, 255, 255)
    pitch = round(size * 1.2)
    count = max(1, -(-round(cover * img.height) // pitch))
    lines = wrap(" ".join(words(rng, 20 * count, language)).upper(), face, img.width - 40)
    lines = lines[:count]
    block = pitch * len(lines)
    place = place or rng.choice(["top", "middle", "bottom"])
    top = {"top": 8, "middle": (img.height - block) // 2, "bottom": img.height - block - 8}[place]
    for k, line in enumerate(lines):
        draw.text(
            (20, top + pitch * k), line, font=face, fill=fill, stroke_width=3, stroke_fill=stroke
        )
    covered = min(block, img.height) / img.height
    return img, covered


def plain_caption(rng: random.Random, language: int = 0) -> Image.Image:
    """Big lettering on a plain light background (a distractor)."""
    background = rng.choice([(255, 255, 255), (250, 248, 240), (238, 238, 238)])
    img = Image.new("RGB", (drawing.WIDTH, drawing.HEIGHT), background)
    return caption(img, rng, language)[0]
