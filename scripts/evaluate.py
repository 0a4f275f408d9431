"""Rule evaluate: score the configured matching rule, and every rule of evaluation.compare,
against the ground truth (results/evaluation.json)."""

import json

import numpy as np
from panelmatch import evaluate, graph, logs, tables

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
names = names.tolist()
pixels = frames["edge_pixels"].to_numpy(np.int64)
shards = tables.read_many(inp.shards)
a, b = tables.pair_numbers(shards, offsets)
distances = {m: shards[m].to_numpy() for m in p.metrics}
truth = tables.read_truth(inp.truth[0])
true_group = dict(zip(truth["image"], truth["group"], strict=True))
relation = dict(zip(truth["image"], truth["relation"], strict=True))

rules = {"clusters": dict(p.rule)}
rules.update({name: {**p.rule, **overrides} for name, overrides in p.compare.items()})
results = {}
for name, rule in rules.items():
    labels, links, pick = graph.cluster(
        len(names), a, b, distances, pixels, dict(p.hash_bits), rule, image_of
    )
    sizes = graph.sizes(labels)
    scores = evaluate.pair_scores(
        true_group, dict(zip(names, labels.tolist(), strict=True)), relation
    )
    results[name] = {
        "overrides": p.compare.get(name, {}),
        **scores,
        "links": int(links.keep[pick].sum()),
        "groups": len(set(labels[sizes > 1].tolist())),
        "grouped_images": int((sizes > 1).sum()),
        "largest_group": int(sizes.max()) if len(sizes) else 0,
    }
    log.info(
        "%s: precision %.3f recall %.3f F1 %.3f",
        name,
        *(scores[k] for k in ("precision", "recall", "f1")),
    )
document = {"truth": inp.truth[0], "rule": dict(p.rule), "results": results}
tables.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", snakemake.output[0])
