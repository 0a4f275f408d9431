"""Rule evaluate: score the configured matching rule, and every rule of evaluation.compare,
against the ground truth (results/evaluation.json)."""

import json

import numpy as np
from panelmatch import evaluate, grouping, logs, pairs, relation, rule, tables, templates

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
inp, p = snakemake.input, snakemake.params
hash_bits = dict(p.hash_bits)
# with local features, their verified pairs are one more shard (as in groups)
columns = list(p.metrics) + (tables.LOCAL_COLUMNS if p.local else [])

frames, offsets = tables.read_images(inp.edges)
names, image_of = tables.image_numbers(frames["image"])
names = names.tolist()
counts = {k: frames[k].to_numpy(np.int64) for k in tables.FRAME_COUNTS}
truth = tables.read_truth(inp.truth[0], p.dont_care)
covered = evaluate.coverage(truth["image"], names)
document = {
    "truth": inp.truth[0],
    "dont_care": p.dont_care if (truth["family"] != "").any() else None,
    **covered,
    "rule": dict(p.rule),
}
rules = {"configured": dict(p.rule)}
rules.update({name: {**p.rule, **overrides} for name, overrides in p.compare.items()})
if not covered["covered"]:
    document["message"] = (
        f"{inp.truth[0]} covers none of the run's {len(names)} images (its image names must"
        " be the run's: PAGE_INDEX for a site, the path under source.folder for a folder);"
        " nothing was scored"
    )
    document["results"] = {}
    log.warning(document["message"])
else:
    true_group = dict(zip(truth["image"], truth["group"], strict=True))
    kind_of = dict(zip(truth["image"], truth["relation"], strict=True))
    family = dict(zip(truth["image"], truth["family"], strict=True))
    # the edge maps without their templates, once per value of template_frames the rules use
    width, height = p.edge_size
    codes = tables.read_edge_codes(inp.edges, width * height)
    cleared = {
        bound: templates.of(codes, width, height, bound)
        for bound in {m["template_frames"] for m in rules.values()}
    }
    stream = pairs.stream([*inp.shards, *inp.verified], offsets, list(p.metrics), p.local)
    by_rule = grouping.linked_pairs(
        stream, counts, hash_bits, rules, cleared, p.tolerance, columns, p.local
    )
    results = {}
    for name, matching in rules.items():
        a, b, distances = by_rule[name]
        labels, links, pick, _ = grouping.group_images(
            len(names),
            a,
            b,
            distances,
            cleared[matching["template_frames"]].counts(counts),
            hash_bits,
            matching,
            image_of,
        )
        sizes = grouping.sizes(labels)
        scores = evaluate.pair_scores(
            true_group, dict(zip(names, labels.tolist(), strict=True)), kind_of, family
        )
        ignored = scores.pop("dont_care_predicted")
        results[name] = {
            "overrides": p.compare.get(name, {}),
            **scores,
            "dont_care_predicted": len(ignored),
            "links": int(links.keep[pick].sum()),
            "groups": len(set(labels[sizes > 1].tolist())),
            "grouped_images": int((sizes > 1).sum()),
            "largest_group": int(sizes.max()) if len(sizes) else 0,
        }
        if name == "configured":
            document["dont_care_pairs"] = [list(pair) for pair in ignored]
            # the relation of each linked image pair, as pairs.parquet gives it
            linked = pick[links.keep[pick]]
            found = relation.label(
                {m: distances[m][linked] for m in columns},
                rule.kind_names(links.kind[linked]),
                links.limit[linked],
            )
            image_a = [names[i] for i in image_of[a[linked]]]
            image_b = [names[i] for i in image_of[b[linked]]]
            reuse = dict(zip(truth["image"], truth["reuse"], strict=True))
            document["relations"] = evaluate.relation_scores(
                true_group,
                reuse,
                dict(zip(zip(image_a, image_b, strict=True), found.tolist(), strict=True)),
            )
        log.info(
            "%s: precision %.3f recall %.3f F1 %.3f",
            name,
            *(scores[k] for k in ("precision", "recall", "f1")),
        )
    document["results"] = results
tables.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", snakemake.output[0])
