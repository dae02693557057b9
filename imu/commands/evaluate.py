"""``imu evaluate RECORDINGS…`` — score the analysis against truth or label files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from imu.commands.analyze import add_settings_arguments, settings_from_args
from imu.errors import ConfigError, ImuError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score the analysis of recordings against their truth/label files",
        description=(
            "Analyse each recording (without corrections) and score it against its truth file "
            "(FILE.truth.json beside it, else FILE.labels.json when that holds a full labelling "
            "under 'sets': imu simulate's truth, the independent simulator's, PTE labels, or "
            "your own labels): sets counted exactly, rep recall, phantom reps, phase MAE, "
            "peak-angle MAE, flag precision/recall/F1. Folders give their *.csv files."
        ),
    )
    p.add_argument("recordings", nargs="+", metavar="RECORDING", help="CSV files or folders")
    p.add_argument("--truth", metavar="FILE.json", help="truth file (only with one recording)")
    p.add_argument("--per-file", action="store_true", help="also one line of figures per file")
    add_settings_arguments(p)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from imu.batch import collect_recordings
    from imu.evaluation import Tally, load_truth, score, truth_file_for
    from imu.pipeline import analyze

    paths = collect_recordings(args.recordings)
    if args.truth and len(paths) != 1:
        raise ConfigError("--truth names the truth of one recording; give one recording")
    settings = settings_from_args(args)
    tallies: list[Tally] = []
    failed = 0
    for path in paths:
        truth_file = Path(args.truth) if args.truth else truth_file_for(path)
        try:
            truth = load_truth(truth_file)
            hint = {k: v for k, v in truth.settings_hint.items() if hasattr(settings, k)}
            mine = dataclasses.replace(settings, **hint) if hint else settings
            tally = score(analyze(path, settings=mine), truth, label=path.name)
        except ImuError as exc:
            failed += 1
            print(f"imu evaluate: error: {exc}", file=sys.stderr)
            continue
        tallies.append(tally)
        if args.per_file:
            figures = tally.figures()
            print(
                f"{path.name}: sets exact {figures['sets_exact_pct']:.0f} %, rep recall "
                f"{figures['rep_recall_pct']:.1f} %, phantom reps {figures['phantom_reps']:.0f}"
            )
    if not tallies:
        raise ImuError("no recording could be scored")
    total = Tally.total(tallies)
    print(f"{len(tallies)} recording(s) scored" + (f", {failed} failed" if failed else ""))
    for line in total.lines():
        print(line)
    return 1 if failed else 0
