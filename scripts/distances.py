"""Rule distances: all pairs of frames of two chunk groups under a cap, with every
distance; the frames of one image are never paired with each other."""

import numpy as np
import pandas as pd
from panelmatch import bits, embeddings, logs, metrics, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_max = dict(p.metric_max)
hash_bits = dict(p.hash_bits)
bits.set_threads(snakemake.threads)


def load(chunks, edges_paths, hashes_paths):
    """Every metric's codes for a group's images, with each row's chunk and row number."""
    edge_codes, bw_codes, hash_codes = [], [], {m: [] for m in hash_bits}
    chunk_of, row_of, names, pixels = [], [], [], []
    nbits = p.width * p.height
    for chunk, edges_path, hashes_path in zip(chunks, edges_paths, hashes_paths, strict=True):
        edges = tables.read(edges_path)
        hashes = tables.read(hashes_path)
        if not edges[["image", "frame"]].equals(hashes[["image", "frame"]]):
            raise ValueError(f"{edges_path} and {hashes_path} do not list the same frames")
        names.append(edges["image"])
        pixels.append(edges["edge_pixels"].to_numpy(np.int64))
        edge_codes.append(bits.from_bytes(edges["edges"], nbits))
        bw_codes.append(bits.from_bytes(edges["bw"], nbits))
        for m, size in hash_bits.items():
            hash_codes[m].append(bits.from_bytes(hashes[m], size))
        chunk_of.append(np.full(len(edges), chunk, dtype=np.int64))
        row_of.append(np.arange(len(edges), dtype=np.int64))
    codes = metrics.codes(
        list(metric_max),
        np.concatenate(edge_codes),
        np.concatenate(bw_codes),
        {m: np.concatenate(v) for m, v in hash_codes.items()},
        p.width,
        p.height,
        p.tolerance,
    )
    _, image_of = tables.image_numbers(pd.concat(names, ignore_index=True))
    # relative cap: an edge distance is stored only up to relative_cap x each frame's edges
    limit = None
    if p.relative_cap is not None:
        limit = np.floor(p.relative_cap * np.concatenate(pixels)).astype(np.int64)
    return codes, np.concatenate(chunk_of), np.concatenate(row_of), image_of, limit


def load_vectors(paths, images):
    """The embeddings of a group's images (None without an embeddings model)."""
    if not paths:
        return None
    names, vectors = tables.read_vectors(paths)
    if len(names) != images:
        raise ValueError(f"{list(paths)} hold {len(names)} vectors for {images} images")
    return vectors


same = snakemake.wildcards.a == snakemake.wildcards.b
a, chunk_a, row_a, image_a, limit_a = load(p.chunks_a, inp.edges_a, inp.hashes_a)
b, chunk_b, row_b, image_b, limit_b = (
    (a, chunk_a, row_a, image_a, limit_a) if same else load(p.chunks_b, inp.edges_b, inp.hashes_b)
)
limits = None
if limit_a is not None:
    limits = {m: (limit_a, limit_b) for m in metrics.EDGE_BITMAPS if m in p.caps}
caps = {m: cap for m, cap in p.caps.items() if m != metrics.COSINE}
cosine = metrics.COSINE in metric_max
extra = None
if cosine:
    va = load_vectors(inp.embeddings_a, len(chunk_a))
    vb = va if same else load_vectors(inp.embeddings_b, len(chunk_b))
    extra = embeddings.cosine_within(va, vb, p.caps[metrics.COSINE], same)
i, j, dist = bits.pairs_within(a, b, caps, same, dict(p.candidates) or None, extra, limits)
if same:  # two frames of one image (frames.mode all or sample) are not a pair
    other = image_a[i] != image_b[j]
    if not other.all():
        i, j, dist = i[other], j[other], {m: d[other] for m, d in dist.items()}
if cosine:
    dist[metrics.COSINE] = embeddings.cosine_distances(va, vb, i, j)
out = pd.DataFrame(
    {"chunk_a": chunk_a[i], "row_a": row_a[i], "chunk_b": chunk_b[j], "row_b": row_b[j]}
)
for m in metric_max:
    out[m] = dist[m]
tables.write(out, snakemake.output[0], tables.shard_schema(metric_max))
log.info(
    "chunks %s x %s: %d x %d images, %d pairs kept under caps %s (%d threads)",
    list(p.chunks_a),
    list(p.chunks_b),
    len(chunk_a),
    len(chunk_b),
    len(out),
    dict(p.caps),
    snakemake.threads,
)
