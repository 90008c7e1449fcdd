"""Measure the disclosure detector (``bot.core.disclosure``) on the disclosure sets.

    .venv/bin/python -m bot.devtools.eval_disclosure            # dev and test, every language
    .venv/bin/python -m bot.devtools.eval_disclosure --set dev --show-misses

The sets are ``nlu/tests/disclosure/<dev|test>/<lang>.yml`` (``disclosures: [{text, kind}]``
and ``non_disclosures: [{text, kind}]``), written by someone who had not read the training
data. The DEV set may be tuned against; the TEST set is held out: this module prints only its
figures (``--show-misses`` refuses it). A message counts as flagged when the detector says
``sure`` or ``unsure`` (an ``unsure`` message is offered help before anything else):

* recall: share of the disclosures flagged;
* precision: share of the flagged messages that are disclosures;
* sure: share of the disclosures flagged ``sure`` (routed straight to the protection flow).

Targets (issue 11): recall ≥ 0.98 and precision ≥ 0.80 in every language.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.disclosure import detect
from bot.facts import LANGUAGE_CODES

ROOT = Path(__file__).resolve().parents[2]
SETS_DIR = ROOT / "nlu" / "tests" / "disclosure"
SETS = ("dev", "test")
LANGS = LANGUAGE_CODES
RECALL_TARGET = 0.98
PRECISION_TARGET = 0.80


@dataclass
class Row:
    set: str
    lang: str
    disclosures: int = 0
    non_disclosures: int = 0
    flagged: int = 0  # disclosures flagged sure or unsure
    sure: int = 0
    false_alarms: int = 0  # non-disclosures flagged

    @property
    def recall(self) -> float | None:
        return self.flagged / self.disclosures if self.disclosures else None

    @property
    def precision(self) -> float | None:
        positives = self.flagged + self.false_alarms
        return self.flagged / positives if positives else None

    @property
    def sure_share(self) -> float | None:
        return self.sure / self.disclosures if self.disclosures else None

    @property
    def meets_targets(self) -> bool:
        return ((self.recall or 0.0) >= RECALL_TARGET
                and (self.precision or 0.0) >= PRECISION_TARGET)


def load_set(name: str, lang: str, root: Path = SETS_DIR) -> tuple[list[dict], list[dict]]:
    """(disclosures, non_disclosures) of one set and language; empty when the file is absent."""
    path = root / name / f"{lang}.yml"
    if not path.exists():
        return [], []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("disclosures") or []), list(data.get("non_disclosures") or [])


def score_set(name: str, lang: str, root: Path = SETS_DIR) -> tuple[Row, list[tuple]]:
    """The row of one set and language, and its errors as (what, level, kind, text)."""
    disclosures, others = load_set(name, lang, root)
    row = Row(name, lang, len(disclosures), len(others))
    errors = []
    for item in disclosures:
        found = detect(str(item.get("text", "")))
        row.flagged += found.positive
        row.sure += found.sure
        if not found.positive:
            errors.append(("missed", found.level, item.get("kind"), item.get("text")))
    for item in others:
        found = detect(str(item.get("text", "")))
        if found.positive:
            row.false_alarms += 1
            errors.append(("false alarm", found.level, found.kind, item.get("text")))
    return row, errors


def evaluate(sets: tuple[str, ...] = SETS, langs: tuple[str, ...] = LANGS,
             root: Path = SETS_DIR) -> list[Row]:
    """One row per set and language (sets whose files are absent give empty rows)."""
    return [score_set(name, lang, root)[0] for name in sets for lang in langs]


def _pct(x: float | None) -> str:
    return "   —" if x is None else f"{x:.2f}"


def render(rows: list[Row]) -> str:
    lines = ["Disclosure detector (flagged = sure or unsure; targets: recall ≥ "
             f"{RECALL_TARGET:.2f}, precision ≥ {PRECISION_TARGET:.2f})",
             "",
             "| set | lang | disclosures | non-disclosures | recall | precision | sure | targets |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        if not row.disclosures and not row.non_disclosures:
            continue
        lines.append(f"| {row.set} | {row.lang} | {row.disclosures} | {row.non_disclosures} | "
                     f"{_pct(row.recall)} | {_pct(row.precision)} | {_pct(row.sure_share)} | "
                     f"{'met' if row.meets_targets else 'MISSED'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", choices=SETS, help="only this set")
    parser.add_argument("--lang", action="append", choices=LANGS, help="only this language")
    parser.add_argument("--show-misses", action="store_true",
                        help="print the DEV set's missed disclosures and false alarms")
    args = parser.parse_args(argv)
    sets, langs = tuple(args.set or SETS), tuple(args.lang or LANGS)
    if args.show_misses and "test" in sets:
        parser.error("--show-misses is for the dev set only: the test set stays unread "
                     "(use --set dev)")
    print(render(evaluate(sets, langs)))
    if args.show_misses:
        for lang in langs:
            for what, level, kind, text in score_set("dev", lang)[1]:
                print(f"{lang}\t{what}\t{level}\t{kind}\t{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
