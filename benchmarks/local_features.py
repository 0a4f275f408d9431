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

A pair is shown to be reuse by local.reuses with the configured rule (config.yaml's
``matching.local`` and ``local``: enough inliers, and half of one frame's drawn pixels
reproduced in the same colour, or most of the drawn pixels inside the inliers' hull).

For the derivatives, a pair of images that share no source is counted as wrong only when
their sources share no drawing either: the real panels of pages 1-100 reuse their rooms and
their hero's drawing from panel to panel (``homestuck/README.md``: a missing label is not
evidence), so the source panels that verify as reuse of each other are listed (to be checked
by eye) and their derivatives are not counted. A second negative set does not depend on
that: ``distant``, each panel of pages 1-100 against each of the study's panels of pages
1033-2488 (other characters, other places), every pair verified and none a reuse. The
relation of each true pair found (relation.label of its ``local`` link) is scored too:
``zoomed``, ``cropped``, and ``partial`` for a paste.

Prints per collection: the cost of detection per
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
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from democomic import families  # noqa: E402
from panelmatch import local, relation  # noqa: E402

KS = (5, 10, 20)
TABLES, MAX_SHARE = local.WORD_TABLES, local.COMMON_WORDS
DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text())
SETTINGS, RULE = DEFAULTS["local"], DEFAULTS["matching"]["local"]
RATIO, TOLERANCE, MIN_MATCHES = SETTINGS["ratio"], SETTINGS["tolerance"], SETTINGS["min_matches"]
#: local.reuses' arguments after the match
REUSE = (RULE["min_inliers"], RULE["cover"], RULE["region_cover"], RULE["region_area"])
#: The relation each kind of derivative should get.
RELATION = {
    "zoomed": "zoomed",
    "cropped": "cropped",
    "pasted": "partial",
    "sprite pasted": "partial",
}
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
    return dict(frames=frames, names=[p.group or p.relation for p in panels], true=true, same=same)


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
    return dict(frames=frames, names=names, true=true, same=set(true), all_pairs=all_pairs)


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
        # the workflow composites a transparent frame onto white (frames.background)
        flat = Image.new("RGB", sprite.size, "white")
        flat.paste(sprite, (0, 0), sprite)
        j = add(flat, f"sprite:{k}", [f"sprite:{k}"])
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
    labelled = [used | {group[u] for u in used if u in group} for used in source_of]
    n = len(frames)
    same = {(a, b) for a in range(n) for b in range(a + 1, n) if labelled[a] & labelled[b]}
    found = {tuple(sorted(p)): kind for p, kind in true.items()}
    return dict(frames=frames, names=names, true=found, same=same, sources=source_of)


def distant(shared: Path):
    """Each real panel of pages 1-100 with each of the study's panels of pages 1033-2488:
    frames, names and the pairs to verify (every one unrelated); None without them."""
    panels = sorted((shared / "data" / "homestuck" / "panels").glob("*.gif"))
    early = [p for p in panels if int(p.name.split("_")[0]) <= 100]
    late = [p for p in panels if int(p.name.split("_")[0]) > 1000]
    if not early or not late:
        return None
    files = early + late
    frames = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    pairs = [(i, len(early) + j) for i in range(len(early)) for j in range(len(late))]
    return dict(frames=frames, names=[f.name for f in files], true={}, same=set(), only=pairs)


def unrelated(hit: set, names: list, sources: list) -> list:
    """The pairs of `hit` whose images share no source and whose sources (the untouched
    panels among the frames, named in `sources`) were not themselves shown to be reuse of
    each other; and the pairs of sources shown to be reuse (to be checked by eye)."""
    untouched = [sources[k] == {names[k]} for k in range(len(names))]
    shown = {frozenset((names[i], names[j])) for i, j in hit if untouched[i] and untouched[j]}
    wrong = [
        (i, j)
        for i, j in hit
        if not sources[i] & sources[j]
        and not any(frozenset((x, y)) in shown for x in sources[i] for y in sources[j])
    ]
    return wrong, sorted(" ~ ".join(sorted(pair)) for pair in shown)


def measure(
    frames, names, true, same, size, features, all_pairs=True, sources=None, only=None
) -> dict:
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
    if only is not None:
        pairs = only
    elif all_pairs:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:
        pairs = sorted(chosen[10])
    start = time.perf_counter()
    hit, matches = set(), {}
    for i, j in pairs:
        tolerance = TOLERANCE * max(frames[j].shape[:2]) / size
        match = local.verify(found[i], found[j], RATIO, tolerance, MIN_MATCHES)
        if local.reuses(match, *REUSE):
            hit.add((i, j))
            matches[i, j] = match
    verify_ms = (time.perf_counter() - start) / max(len(pairs), 1) * 1000
    kinds = defaultdict(list)
    named = defaultdict(list)
    for pair, kind in true.items():
        kinds[kind].append(pair in hit)
        if pair in hit and kind in RELATION:
            m = matches[pair]
            row = {"link": "local", "edges": 1e9, "edge_threshold": 1.0, **m._asdict()}
            named[kind].append(relation.of_row(row) == RELATION[kind])
    result = {
        "frames": n,
        "pairs verified": len(pairs),
        "which": "the listed pairs"
        if only is not None
        else "every pair"
        if all_pairs
        else "the candidates (k=10)",
        "detect_ms": round(detect_ms, 2),
        "verify_ms": round(verify_ms, 2),
        "candidates_s": round(words_s, 2),
        "found": {k: round(float(np.mean(v)), 2) for k, v in sorted(kinds.items())},
        "kinds": {k: len(v) for k, v in sorted(kinds.items())},
        "other pairs linked": len(hit - same),
        "other pairs": len(pairs) - len(same & set(pairs)),
        "relation": {k: round(float(np.mean(v)), 2) for k, v in sorted(named.items())},
        "relations right": sum(sum(v) for v in named.values()),
        "relations": sum(len(v) for v in named.values()),
    }
    wrong = sorted(hit - same)
    if sources is not None:
        wrong, result["sources shown to be reuse"] = unrelated(hit - same, names, sources)
    result["wrong"] = len(wrong)
    result["unrelated linked"] = sorted(f"{names[i]} ~ {names[j]}" for i, j in wrong)
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
    parser.add_argument("--size", type=int, default=SETTINGS["size"])
    parser.add_argument("--features", type=int, default=SETTINGS["features"])
    parser.add_argument("--only", nargs="*", help="only these collections")
    args = parser.parse_args()
    data = args.shared / "data"
    sets = {
        "demo": demo,
        "homestuck": lambda: labelled(data / "homestuck" / "panels", "*.gif", "name", True),
        "sprites": lambda: labelled(data / "sprites" / "images", "*.png", "path", False),
        "derivatives": lambda: derivatives(args.shared),
        "distant": lambda: distant(args.shared),
    }
    results = {}
    for name, load in sets.items():
        if args.only and name not in args.only:
            continue
        loaded = load()
        if loaded is None:
            print(f"{name}: no data, skipped")
            continue
        results[name] = r = measure(**loaded, size=args.size, features=args.features)
        print(
            f"\n{name}: {r['frames']} frames, {r['which']} verified ({r['pairs verified']}); "
            f"detection {r['detect_ms']} ms per frame, verification {r['verify_ms']} ms per "
            f"pair, candidates {r['candidates_s']} s"
        )
        for kind, share in r["found"].items():
            print(f"  {kind:<18} {share:.2f} of the true pairs shown to be reuse")
        print(f"  other pairs shown to be reuse: {r['other pairs linked']} of {r['other pairs']}")
        if name == "derivatives":
            right = sum(round(r["found"][k] * r["kinds"][k]) for k in r["found"])
            three = ("zoomed", "cropped", "pasted")
            hits = sum(round(r["found"][k] * r["kinds"][k]) for k in three)
            total = sum(r["kinds"][k] for k in three)
            r["recall"] = round(hits / total, 3)
            r["precision"] = round(right / max(right + r["wrong"], 1), 3)
            r["precision, every pair that shares no source"] = round(
                right / max(right + r["other pairs linked"], 1), 3
            )
            print(f"  recall over zoomed, cropped and pasted: {hits} of {total} ({r['recall']})")
            print(
                f"  precision: {r['precision']} ({r['wrong']} linked pairs share no source, "
                "nor sources shown to be reuse of each other); counting every pair that shares "
                f"no source as wrong: {r['precision, every pair that shares no source']}"
            )
            print(
                f"  source panels shown to be reuse of each other (pages 1-100 reuse their rooms"
                f" and hero; check by eye): {len(r['sources shown to be reuse'])}: "
                + "; ".join(r["sources shown to be reuse"])
            )
            print("  linked pairs counted as wrong:", "; ".join(r["unrelated linked"]) or "none")
        if r["relations"]:
            kinds = ", ".join(f"{k} {v:.2f}" for k, v in r["relation"].items())
            share = r["relations right"] / r["relations"]
            right = r["relations right"]
            print(f"  relation right: {right} of {r['relations']} ({share:.3f}; {kinds})")
        if r["which"] == "every pair" and name != "distant":
            recall = ", ".join(f"k={k}: {v}" for k, v in r["candidate recall"].items())
            print(f"  candidates' recall of the true pairs found among all: {recall}")
        if r["alone linked"] is not None:
            print(f"  panels that must stay alone, linked: {r['alone linked'] or 'none'}")
    print(json.dumps({"size": args.size, "features": args.features, "results": results}))


if __name__ == "__main__":
    main()
