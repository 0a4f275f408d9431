"""panelmatch: find reused art (near-duplicate groups) in large image collections.

The core library behind the Snakemake workflow. Modules, in data-flow order:

- ``chunks``: how inputs are split into chunks and distance shards.
- ``scrape``: read story pages, find panel images, download them (or list a folder).
- ``frames``: first frame of an image file as an RGB array.
- ``edges``: resize, then Canny: boolean edge maps.
- ``hashes``: perceptual hashes (imagehash) as bit rows.
- ``bits``: bit-packed codes and their Hamming distances (the pairwise kernel).
- ``graph``: thresholds and grouping of the pair graph.
- ``evaluate``: pair-level precision/recall/F1 against a ground truth.
- ``tables``: the schema of every table the stages exchange, and atomic Parquet I/O.
- ``demo``: the deterministic demo comic used by the default configuration.

Nothing here imports snakemake; the scripts under ``scripts/`` do the I/O around it.
"""

__version__ = "0.1.0"
