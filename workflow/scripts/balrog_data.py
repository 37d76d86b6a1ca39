"""Stage 5b adapter: data BALROG's worlds need. TextWorld games made with tw-make and
BALROG's generation parameters (where the user gives no tw_games folder); synthetic Boxoban
levels for smoke tests (`boxoban_levels: fixture`)."""

from vldac.report.provenance import write_manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
with open(sm.log[0], "w") as log:
    if sm.rule == "textworld_games":
        from vldac.eval.balrog.envs.tw_games import generate

        made = generate(sm.output.games, games=int(sm.params.games), tasks=list(sm.params.tasks))
        for task, games in made.items():
            print(f"{task}: {len(games)} games", file=log)
        extra = {"tasks": list(sm.params.tasks), "games_per_task": int(sm.params.games)}
    else:
        from vldac.eval.balrog.envs.minihack import write_fixture_levels

        write_fixture_levels(sm.output.levels)
        print(f"synthetic Boxoban levels in {sm.output.levels}", file=log)
        extra = {"fixture": True}
write_manifest(sm.output.provenance, job=sm.rule, extra=extra)
