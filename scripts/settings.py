"""Rule settings: the run's feature and matching settings, for `panelmatch query`.

Inputs: none (the configuration's sections, as params).
Output: results/settings.json (panelmatch.settings.RunSettings, as plain JSON).
"""

import json

from panelmatch import logs, tables
from panelmatch.settings import RunSettings

snakemake = snakemake  # noqa: F821 - injected by Snakemake
log = logs.to_file(snakemake.log[0])
params = snakemake.params
settings = RunSettings.of(dict(params.items()))
tables.write_text(json.dumps(settings.plain(), indent=2) + "\n", snakemake.output[0])
log.info("settings of %d metrics written", len(settings.metrics))
