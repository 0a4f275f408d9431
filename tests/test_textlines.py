"""Text-line colour layouts: lines found, signatures gated, and the edit distance against a
plain reference; the demo's translated chat logs against its unrelated ones."""

import random

import numpy as np
import pytest
from democomic import lettering
from panelmatch import textlines
from PIL import Image, ImageDraw


def striped(colours, width=300, pitch=14, height=9):
    img = Image.new("RGB", (width, 20 + pitch * len(colours)), (238, 238, 238))
    draw = ImageDraw.Draw(img)
    for k, colour in enumerate(colours):
        draw.rectangle([20, 10 + pitch * k, width - 30, 10 + pitch * k + height], fill=colour)
    return np.asarray(img)


def test_lines_are_found_with_their_ink_direction():
    red, blue = (220, 10, 10), (10, 10, 200)
    top, bottom, colour = textlines.lines(striped([red, red, blue, red]))
    assert len(top) == 4 and (bottom - top == 10).all()
    bg = np.array([238, 238, 238])
    for found, want in zip(colour, [red, red, blue, red], strict=True):
        ink = bg - np.array(want)
        assert found @ (ink / np.linalg.norm(ink)) > 0.999
    with pytest.raises(ValueError):
        textlines.lines(np.zeros((4, 4), np.uint8))


def test_a_signature_needs_enough_lines_and_changes_of_colour():
    red, blue = (220, 10, 10), (10, 10, 200)
    assert len(textlines.signature(striped([(0, 0, 0)] * 12))) == 0  # black lettering
    assert len(textlines.signature(striped([red, blue] * 2))) == 0  # too few lines
    sig = textlines.signature(striped([red, blue, blue] * 5))
    assert sig.shape == (15, 3) and sig.dtype == np.int8
    assert textlines.from_bytes(textlines.to_bytes(sig)).tolist() == sig.tolist()


def edit_reference(a, b):
    cos = np.cos(np.radians(textlines.MATCH_DEGREES))
    ua = [v / np.linalg.norm(v) for v in np.asarray(a, float)]
    ub = [v / np.linalg.norm(v) for v in np.asarray(b, float)]
    d = [[0.0] * (len(ub) + 1) for _ in range(len(ua) + 1)]
    for i in range(len(ua) + 1):
        for j in range(len(ub) + 1):
            if i == 0 or j == 0:
                d[i][j] = float(i + j)
                continue
            same = 0.0 if ua[i - 1] @ ub[j - 1] > cos else 1.0
            d[i][j] = min(d[i - 1][j - 1] + same, d[i - 1][j] + 1, d[i][j - 1] + 1)
    return d[-1][-1] / max(len(ua), len(ub))


def test_distance_is_the_line_edit_distance():
    rng = np.random.default_rng(3)
    palette = rng.integers(-127, 128, (4, 3)).astype(np.int8)
    sigs = [palette[rng.integers(0, 4, rng.integers(8, 30))] for _ in range(8)]
    sigs.append(np.zeros((0, 3), np.int8))
    for a in sigs:
        for b in sigs:
            want = edit_reference(a, b) if len(a) and len(b) else 1.0
            assert textlines.distance(a, b) == pytest.approx(want)
    i, j, d = textlines.within(sigs, sigs, 0.3, upper_only=True)
    want = [
        (p, q)
        for p in range(9)
        for q in range(p + 1, 9)
        if textlines.distance(sigs[p], sigs[q]) <= 0.3
    ]
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == want
    assert np.allclose(d, [textlines.distance(sigs[p], sigs[q]) for p, q in want])
    listed = textlines.distances(sigs, sigs, [0, 8], [1, 0])
    assert listed[0] == pytest.approx(textlines.distance(sigs[0], sigs[1])) and listed[1] == 1.0


def test_translated_chat_logs_stay_close_and_unrelated_ones_apart():
    # the demo's model of a translation: same speakers, same order, each message's length
    # changed, every glyph new; a fixture that proves the code runs, not evidence
    rng = random.Random(8)
    logs, editions = [], []
    for _ in range(10):
        messages = lettering.chat_messages(rng, rng.randint(30, 60))
        logs.append(lettering.chat_log(messages, random.Random(rng.random())))
        editions.append(lettering.chat_log(messages, random.Random(rng.random()), 1, 1.08))
    sig = [textlines.signature(np.asarray(x)) for x in logs + editions]
    assert all(len(s) for s in sig)
    assert logs[0].height != editions[0].height
    for k in range(10):
        assert textlines.distance(sig[k], sig[10 + k]) <= 0.2, k
        for other in range(10):
            if other != k:
                assert textlines.distance(sig[k], sig[10 + other]) > 0.2, (k, other)
