"""The demo comic: a small comic site drawn deterministically from a seed, with known reuse.

Test data for panelmatch, beside (not inside) the core library: the default configuration
scrapes it, so the workflow runs end to end with no network, and its ground truth scores the
matching. It is a test fixture, not evidence: the real collections are (docs/methods.md).
"""

from democomic.drawing import HEIGHT, TALL, WIDTH, new_scene, render, sentence, to_gif
from democomic.families import HEAVY_COVER, HEAVY_LETTERING, LATER_FRAME, RELATIONS, panels
from democomic.site import write_site

__all__ = [
    "HEAVY_COVER",
    "HEAVY_LETTERING",
    "HEIGHT",
    "LATER_FRAME",
    "RELATIONS",
    "TALL",
    "WIDTH",
    "new_scene",
    "panels",
    "render",
    "sentence",
    "to_gif",
    "write_site",
]
