"""The demo comic's site: story pages in the real comic's markup, with its ground truth.

The site has 404 gaps and pages without images (flash pages), holds one or two panels a
page, and names its images independently of page numbers.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from democomic.drawing import font, sentence, to_gif
from democomic.families import panels

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/assets/site.css"></head>
<body class="bg-hs-gray">
<header><a href="/"><img class="logo" src="/images/logo.gif" alt="Demo Comic"></a></header>
<div id="content_container" class="pos-r mar-x-auto">
<h2 class="type-hs-header line-tight">{title}</h2>
<div class="bg-scheme-default">
{body}
</div>
<p class="o-story_text type-content">{story}</p>
<div class="o-story-nav"><a href="/story/{next}">&gt; Next page</a></div>
</div></body></html>
"""


def write_site(
    out: Path, seed: int, pages: int, families_per_relation: int, singles: int
) -> list[dict]:
    """Write the demo site under `out` (pages at story/N, images under images/) and return
    the ground truth rows (image as PAGE_INDEX, group, relation, reuse)."""
    rng = random.Random(seed + 1)
    all_panels = panels(seed, families_per_relation, singles)
    gaps = {p for p in range(7, pages + 1, 19)}  # page numbers with no page at all (404)
    flash = {p for p in range(12, pages + 1, 23)} - gaps  # pages with no image (flash)
    free = [p for p in range(1, pages + 1) if p not in gaps | flash]
    if len(free) > len(all_panels):
        raise ValueError(f"demo: {pages} pages need at least {len(free)} panels; raise singles")
    if 2 * len(free) < len(all_panels):
        raise ValueError(
            f"demo: {len(all_panels)} panels do not fit on {pages} pages (two per page)"
        )
    doubles = set(rng.sample(free, len(all_panels) - len(free)))
    (out / "story").mkdir(parents=True, exist_ok=True)
    img_dir = out / "images" / "storyfiles" / "hs2"
    img_dir.mkdir(parents=True, exist_ok=True)
    logo = Image.new("RGB", (120, 40), (60, 120, 190))
    ImageDraw.Draw(logo).text((10, 10), "DEMO", fill=(255, 255, 255), font=font())
    (out / "images" / "logo.gif").write_bytes(to_gif([logo]))
    truth: list[dict] = []
    queue = iter(all_panels)
    number = 0
    for page in range(1, pages + 1):
        if page in gaps:
            continue
        title = f"Demo Comic: page {page}"
        if page in flash:
            body = (
                f'<div class="flash-player" data-src="/flash/{page}.swf">'
                "[S] An animation plays.</div>"
            )
        else:
            imgs = []
            for index in range(1, 3 if page in doubles else 2):
                panel = next(queue)
                number += 1
                name = f"{number * 7 + 3:05d}.gif"  # image names do not follow page numbers
                (img_dir / name).write_bytes(panel.gif)
                imgs.append(
                    f'<img src="/images/storyfiles/hs2/{name}" class="mar-x-auto disp-bl" alt="">'
                )
                truth.append(
                    {
                        "image": f"{page}_{index}",
                        "group": panel.group,
                        "relation": panel.relation,
                        "reuse": panel.reuse,
                    }
                )
            body = "\n".join(imgs)
        (out / "story" / str(page)).write_text(
            _PAGE.format(title=title, body=body, story=" ".join(sentence(rng)), next=page + 1),
            encoding="utf-8",
        )
    (out / "index.html").write_text(
        _PAGE.format(title="Demo Comic", body="", story="Start", next=1), encoding="utf-8"
    )
    return truth
