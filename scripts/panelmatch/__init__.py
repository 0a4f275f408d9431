"""panelmatch: find reused art (near-duplicate groups) in large image collections.

The core library behind the Snakemake workflow; docs/development.md lists its modules in
data-flow order (config, tables, chunks, scrape, frames, edges, hashes, resampling, art,
textlines, features, bits, metrics, stored, pairs, rule, grouping, nearest, evaluate,
summary, embeddings, gallery, plots, query).

Nothing here imports snakemake; the scripts under ``scripts/`` do the I/O around it.
"""

__version__ = "0.1.0"
