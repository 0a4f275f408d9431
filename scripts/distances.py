"""Rule distances: all pairs of two feature chunks under a cap, with every distance."""

import pandas as pd
from panelmatch import bits, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
metric_bits = dict(p.metric_bits)
chunk_a, chunk_b = int(snakemake.wildcards.a), int(snakemake.wildcards.b)


def codes(edges_path, hashes_path):
    edges = tables.read(edges_path)
    hashes = tables.read(hashes_path)
    if not edges["image"].equals(hashes["image"]):
        raise ValueError(f"{edges_path} and {hashes_path} do not list the same images")
    out = {"edges": bits.from_bytes(edges["edges"], metric_bits["edges"])}
    for m in metric_bits:
        if m != "edges":
            out[m] = bits.from_bytes(hashes[m], metric_bits[m])
    return out


a = codes(inp.edges_a, inp.hashes_a)
b = a if chunk_a == chunk_b else codes(inp.edges_b, inp.hashes_b)
i, j, dist = bits.pairs_within(a, b, dict(p.caps), upper_only=chunk_a == chunk_b)
out = pd.DataFrame({"chunk_a": chunk_a, "row_a": i, "chunk_b": chunk_b, "row_b": j})
for m in metric_bits:
    out[m] = dist[m]
tables.write(out, snakemake.output[0], tables.shard_schema(metric_bits))
log.info(
    "chunks %d x %d: %d x %d images, %d pairs kept under caps %s",
    chunk_a,
    chunk_b,
    len(a["edges"]),
    len(b["edges"]),
    len(out),
    dict(p.caps),
)
