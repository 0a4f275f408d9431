"""Local features on line art: can ORB with RANSAC verification tell reuse from chance?

    python benchmarks/local_features.py [--shared DIR] [--size 400] [--features 500]

Measures panelmatch.local (the opt-in local features, local.enabled) on three collections, on the
first frame of each image:

- ``demo``: the demo comic's panels plus its partial-reuse families
  (democomic.families.partial_reuse: close-ups, crops, a character pasted elsewhere),
  scored against the truth: each family's original with each of its reuses is a true pair,
  two panels of different families (or none) an unrelated one; every pair verified;
- ``homestuck``: the real panels in ``<shared>/data/homestuck/panels`` against the labelled
  groups of ``groups.csv`` (pages 1-100 hold much unlabelled reuse, so an unlabelled pair
  that verifies is not counted as wrong; only the count is shown), verifying every pair;
- ``sprites``: the real sprite recolours in ``<shared>/data/sprites/images``, against
  ``groups.csv`` (verifying the candidate pairs only: all 297,000 pairs take too long);
- ``derivatives``: partial reuse made here from real panels (``homestuck/panels``; never
  written to disk): each of 12 source panels zoomed (a region of 45-60% of each side,
  enlarged back), cropped (55-65% of its width kept) and a region of 35-45% of each side
  pasted into another real panel at another place and scale 0.8-1.1; and 12 sprites
  (``sprites/images``) pasted into real panels, three times larger. Each source with its
  derivative is a true pair of that kind; a pair of images that share no source (a host
  panel is a source too) is an unrelated one; every pair verified.

A pair is shown to be reuse by local.reuses (8 inliers or more, half of one frame's drawn
pixels reproduced in the same colour). Prints per collection: the cost of detection per
frame and of verification per pair, the share of the true pairs of each kind shown to be
reuse, how many other pairs are, the recall of the candidate pairs (each frame's k most
similar frames by shared visual words) of the true pairs found by verifying every pair,
and which real panels that must stay alone (controls, nearly blank) were linked. Then
one JSON line.
Not part of the test suite: it measures.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from democomic import families  # noqa: E402
from panelmatch import local  # noqa: E402

KS = (5, 10, 20)
TABLES, MAX_SHARE = local.WORD_TABLES, local.COMMON_WORDS
RATIO, MIN_MATCHES, MIN_INLIERS, COVER = 0.8, 8, 8, 0.5
#: Real panels that must stay alone: the study's controls, and the nearly blank ones.
ALONE = ("1870_1.gif", "1828_2.gif", "94_1.gif", "96_1.gif")


def first_frame(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def demo():
    """Frames, names and true pairs (i, j) -> the family's kind."""
    panels = families.panels(413, 4, 20)
    panels += families.partial_reuse(random.Random("413:partial"), 4)
    frames = [first_frame(p.gif) for p in panels]
    true, same = {}, set()
    for i, p in enumerate(panels):
        for j in range(i + 1, len(panels)):
            q = panels[j]
            if p.group and p.group == q.group:
                same.add((i, j))
                if families.ORIGINAL in (p.reuse, q.reuse):
                    true[i, j] = p.relation
    return frames, [p.group or p.relation for p in panels], true, same, True


def labelled(folder: Path, pattern: str, column: str, all_pairs: bool):
    import csv

    if not folder.is_dir():
        return None
    files = sorted(folder.glob(pattern))
    frames = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    names = [str(f.relative_to(folder.parent)) if column == "path" else f.name for f in files]
    group = {}
    with open(folder.parent / "groups.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["group"]:
                group[row["image"]] = row["group"]
    true = {}
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            if a in group and group[a] == group.get(names[j]):
                true[i, j] = "labelled"
    return frames, names, true, set(true), all_pairs


def derivatives(shared: Path, sources: int = 12):
    """Frames, names, true pairs (source, derivative) -> kind, and the pairs that share a
    source (see the module docstring); None without the real panels."""
    panels = sorted((shared / "data" / "homestuck" / "panels").glob("*.gif"))
    sprites = sorted((shared / "data" / "sprites" / "images").glob("*.png"))
    if len(panels) < 2 * sources or not sprites:
        return None
    rng = random.Random(33)
    chosen = rng.sample([p for p in panels if p.name not in ALONE], 2 * sources)
    images = {p.name: Image.open(p).convert("RGB") for p in chosen}
    frames, names, source_of = [], [], []

    def add(image, name, used):
        frames.append(np.asarray(image.convert("RGB")))
        names.append(name)
        source_of.append(set(used))
        return len(frames) - 1

    true = {}
    for k in range(sources):
        src, host = chosen[k].name, chosen[sources + k].name
        image, other = images[src], images[host]
        w, h = image.size
        i = add(image, src, [src])
        add(other, host, [host]) if host not in names else None
        # zoomed: a region of 45-60% of each side, enlarged back to the panel's size
        fw, fh = rng.uniform(0.45, 0.6), rng.uniform(0.45, 0.6)
        x, y = rng.randint(0, int(w * (1 - fw))), rng.randint(0, int(h * (1 - fh)))
        zoom = image.crop((x, y, x + int(w * fw), y + int(h * fh))).resize((w, h), Image.BICUBIC)
        true[i, add(zoom, f"{src}:zoomed", [src])] = "zoomed"
        # cropped: 55-65% of the width kept, at its size
        keep = int(w * rng.uniform(0.55, 0.65))
        x = rng.randint(0, w - keep)
        true[i, add(image.crop((x, 0, x + keep, h)), f"{src}:cropped", [src])] = "cropped"
        # pasted: a region of 35-45% of each side into the host, elsewhere, scale 0.8-1.1
        fw, fh, scale = rng.uniform(0.35, 0.45), rng.uniform(0.35, 0.45), rng.uniform(0.8, 1.1)
        x, y = rng.randint(0, int(w * (1 - fw))), rng.randint(0, int(h * (1 - fh)))
        part = image.crop((x, y, x + int(w * fw), y + int(h * fh)))
        part = part.resize((max(1, int(part.width * scale)), max(1, int(part.height * scale))))
        canvas = other.copy()
        ow, oh = canvas.size
        canvas.paste(
            part,
            (rng.randint(0, max(0, ow - part.width)), rng.randint(0, max(0, oh - part.height))),
        )
        true[i, add(canvas, f"{src}:pasted_into:{host}", [src, host])] = "pasted"
        # a sprite (a character drawing) pasted into the host, three times larger
        sprite = Image.open(rng.choice(sprites)).convert("RGBA")
        j = add(sprite.convert("RGB"), f"sprite:{k}", [f"sprite:{k}"])
        big = sprite.resize((sprite.width * 3, sprite.height * 3), Image.NEAREST)
        canvas = other.copy()
        at = (rng.randint(0, max(0, ow - big.width)), rng.randint(0, max(0, oh - big.height)))
        canvas.paste(big, at, big)
        true[j, add(canvas, f"sprite:{k}:pasted_into:{host}", [f"sprite:{k}", host])] = (
            "sprite pasted"
        )
    # sources the collection labels as one drawing (groups.csv) are one source too
    import csv

    group = {}
    with open(shared / "data" / "homestuck" / "groups.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["group"]:
                group[row["image"]] = row["group"]
    source_of = [used | {group[u] for u in used if u in group} for used in source_of]
    n = len(frames)
    same = {(a, b) for a in range(n) for b in range(a + 1, n) if source_of[a] & source_of[b]}
    found = {tuple(sorted(p)): kind for p, kind in true.items()}
    return frames, names, found, same, True


def measure(frames, names, true, same, all_pairs, size, features) -> dict:
    start = time.perf_counter()
    found = [local.detect(f, size, features) for f in frames]
    detect_ms = (time.perf_counter() - start) / len(frames) * 1000
    n = len(frames)
    start = time.perf_counter()
    plain, mirror = local.word_matrices(
        local.word_counts([local.words(f.plain.descriptors, TABLES) for f in found]),
        local.word_counts([local.words(f.mirror.descriptors, TABLES) for f in found]),
        MAX_SHARE,
        local.COMMON_FRAMES,
    )
    chosen = {}
    for k in KS:
        ci, cj = local.candidates(plain, mirror, np.arange(n), k, threads=1)
        chosen[k] = set(zip(ci.tolist(), cj.tolist(), strict=True))
    words_s = time.perf_counter() - start
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)] if all_pairs else sorted(chosen[10])
    start = time.perf_counter()
    hit = set()
    for i, j in pairs:
        tolerance = 4 * max(frames[j].shape[:2]) / size
        if local.reuses(
            local.verify(found[i], found[j], RATIO, tolerance, MIN_MATCHES), MIN_INLIERS, COVER
        ):
            hit.add((i, j))
    verify_ms = (time.perf_counter() - start) / max(len(pairs), 1) * 1000
    kinds = defaultdict(list)
    for pair, kind in true.items():
        kinds[kind].append(pair in hit)
    result = {
        "frames": n,
        "pairs verified": len(pairs),
        "which": "every pair" if all_pairs else "the candidates (k=10)",
        "detect_ms": round(detect_ms, 2),
        "verify_ms": round(verify_ms, 2),
        "candidates_s": round(words_s, 2),
        "found": {k: round(float(np.mean(v)), 2) for k, v in sorted(kinds.items())},
        "kinds": {k: len(v) for k, v in sorted(kinds.items())},
        "other pairs linked": len(hit - same),
        "other pairs": len(pairs) - len(same & set(pairs)),
    }
    result["unrelated linked"] = sorted(f"{names[i]} ~ {names[j]}" for i, j in hit - same)
    # (the other collections list them too; only the derivatives print them)
    true_hit = hit & set(true)
    result["candidate recall"] = {
        # against every pair verified: with only the candidates verified it says nothing
        k: round(len(true_hit & c) / len(true_hit), 2) if true_hit and all_pairs else None
        for k, c in chosen.items()
    }
    alone = [names[i] for i in range(n) if names[i] in ALONE]
    result["alone linked"] = (
        sorted({names[x] for i, j in hit for x in (i, j) if names[x] in ALONE}) if alone else None
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--features", type=int, default=500)
    parser.add_argument("--only", nargs="*", help="only these collections")
    args = parser.parse_args()
    data = args.shared / "data"
    sets = {
        "demo": demo,
        "homestuck": lambda: labelled(data / "homestuck" / "panels", "*.gif", "name", True),
        "sprites": lambda: labelled(data / "sprites" / "images", "*.png", "path", False),
        "derivatives": lambda: derivatives(args.shared),
    }
    results = {}
    for name, load in sets.items():
        if args.only and name not in args.only:
            continue
        loaded = load()
        if loaded is None:
            print(f"{name}: no data, skipped")
            continue
        results[name] = r = measure(*loaded, args.size, args.features)
        print(
            f"\n{name}: {r['frames']} frames, {r['which']} verified ({r['pairs verified']}); "
            f"detection {r['detect_ms']} ms per frame, verification {r['verify_ms']} ms per "
            f"pair, candidates {r['candidates_s']} s"
        )
        for kind, share in r["found"].items():
            print(f"  {kind:<18} {share:.2f} of the true pairs shown to be reuse")
        print(f"  other pairs shown to be reuse: {r['other pairs linked']} of {r['other pairs']}")
        if name == "derivatives":
            right = sum(r["found"][k] * r["kinds"][k] for k in r["found"])
            wrong = r["other pairs linked"]
            print(
                f"  precision over pairs that share no source: {right / max(right + wrong, 1):.3f}"
                " (a lower bound: real panels of nearby pages share unlabelled backgrounds)"
            )
            print("  the pairs that share no source:", "; ".join(r["unrelated linked"]) or "none")
        if r["which"] == "every pair":
            recall = ", ".join(f"k={k}: {v}" for k, v in r["candidate recall"].items())
            print(f"  candidates' recall of the true pairs found among all: {recall}")
        if r["alone linked"] is not None:
            print(f"  panels that must stay alone, linked: {r['alone linked'] or 'none'}")
    print(json.dumps({"size": args.size, "features": args.features, "results": results}))


if __name__ == "__main__":
    main()
