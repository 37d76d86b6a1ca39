"""Stage 2 adapter: `vldac env check` of one world; the job fails when the expert never wins."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from vldac.envs.check import check_env, format_table
from vldac.report.provenance import write_manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
env_config = sm.params.env_config
kwargs = dict(env_config.get("kwargs", {}))
if env_config.get("max_episode_steps") is not None:
    kwargs["max_episode_steps"] = env_config["max_episode_steps"]
container = json.loads(Path(sm.input.container).read_text())

with open(sm.log[0], "w") as log, tempfile.TemporaryDirectory() as tmp:
    result = check_env(sm.params.name, out=tmp, **kwargs)
    print(format_table(result), file=log)
    if not result.passed:
        print(f"check failed: {result.reason()}", file=log)
        sys.exit(f"{sm.params.name}: the health check failed: {result.reason()}")
    if result.image is None:  # a text-only world: the report still gets a picture
        from PIL import Image

        Image.new("RGB", (64, 64), "white").save(sm.output.frame)
    else:
        shutil.move(result.image, sm.output.frame)
    data = result.to_json()
    data["image"] = sm.output.frame
    Path(sm.output.result).write_text(json.dumps(data, indent=2) + "\n")
write_manifest(sm.output.provenance, job=sm.rule, wildcards=dict(sm.wildcards),
               container=container, extra={"env": sm.params.name})
