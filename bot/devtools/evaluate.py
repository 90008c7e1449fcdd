"""Measure the NLU on the held-out sets, next to a scikit-learn baseline.

    make eval                                   # = .venv/bin/python -m bot.devtools.evaluate
    python -m bot.devtools.evaluate --per-language   # also train one model per language
    python -m bot.devtools.evaluate --write-docs     # put the table into docs/NLU.md

What it does, in one run:

1. builds the training data the way ``bot.devtools.train`` does (every example through
   ``bot.core.normalize.normalize``) in ``var/nlu-eval/build-<hash>/``;
2. trains it with ``.venv-rasa/bin/rasa train nlu`` (or reuses the model cached under
   ``var/nlu-eval/models/`` by a hash of nlu/config.yml, the training files and the normalizer);
3. parses every held-out example of ``nlu/tests/heldout/<lang>.yml`` with that model (one
   Rasa process, ``Agent.parse_message``);
4. trains the baseline, TF-IDF on character n-grams + logistic regression, on the same
   normalized examples, with a probability threshold for "fallback";
5. prints, per language: intent accuracy, macro-F1, the share of out-of-scope messages that
   end in ``nlu_fallback`` or ``out_of_scope``, the share of in-scope messages lost to the
   fallback, entity recall, and the top confusion pairs.

Scoring: an out-of-scope message is right when it is predicted ``out_of_scope`` or
``nlu_fallback``; an in-scope message that falls back is wrong. For macro-F1 ``nlu_fallback``
counts as the label ``out_of_scope``. Held-out files are never part of the training data
(``bot.devtools.train`` excludes ``nlu/tests/``), and a unit test checks they share no example.

The parts: ``eval_data`` (the example files, the training data built for Rasa),
``eval_rasa`` (training and parsing with Rasa), ``eval_scoring`` (scores, the baseline,
tables). Their names are re-exported here for the callers of ``bot.devtools.evaluate``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bot.devtools import eval_data
from bot.devtools.eval_data import (
    BASELINE_THRESHOLD,
    DATA_DIR,
    EVAL_DIR,
    FALLBACK,
    HELDOUT_DIR,
    LANGS,
    NLU_DIR,
    OOS,
    OOS_TARGET,
    REALISTIC_DIR,
    REALISTIC_SPLITS,
    REALISTIC_TARGETS,
    ROOT,
    TARGETS,
    Example,
    build,
    data_hash,
    file_lang,
    heldout_examples,
    language_files,
    read_examples,
    realistic_examples,
    strip_annotations,
    training_examples,
    training_files,
)
from bot.devtools.eval_rasa import predict_messages, rasa_predict, retrieval_hits, train_model
from bot.devtools.eval_scoring import (
    Baseline,
    RealisticScore,
    Score,
    _cell,
    _pct,
    render_table,
    score,
    score_realistic,
)

__all__ = [
    "BASELINE_THRESHOLD", "DATA_DIR", "EVAL_DIR", "FALLBACK", "HELDOUT_DIR", "LANGS", "NLU_DIR",
    "OOS", "OOS_TARGET", "REALISTIC_DIR", "REALISTIC_SPLITS", "REALISTIC_TARGETS", "ROOT",
    "TARGETS", "Baseline", "Example", "RealisticScore", "Score", "build", "data_hash",
    "evaluate", "evaluate_realistic", "file_lang", "heldout_examples", "language_files",
    "main", "per_language", "predict_messages", "rasa_predict", "read_examples",
    "realistic_examples", "render_table", "retrieval_hits", "score", "score_realistic",
    "strip_annotations", "sweep", "train_model", "training_examples", "training_files",
    "write_docs",
]


def evaluate_realistic(model: Path, langs: tuple[str, ...],
                       heldout: dict[str, Score]) -> tuple[str, dict[str, dict]]:
    """The realistic dev and test sets next to the team-written held-out set."""
    scores: dict[str, dict] = {split: {} for split in REALISTIC_SPLITS}
    notes: set[str] = set()
    for split in REALISTIC_SPLITS:
        examples = {lang: realistic_examples(split, lang) for lang in langs}
        flat = [ex for lang in langs for ex in examples[lang]]
        if not flat:
            continue
        preds, how = predict_messages(model, flat)
        hits, rule = retrieval_hits(flat, preds)
        notes.update((how, rule))
        if split == "dev":  # dev may be read; the test split is never saved per example
            (EVAL_DIR / f"realistic-dev-{model.name.split('.')[0]}.json").write_text(
                json.dumps([{"lang": ex.lang, "gold": ex.intent, "text": ex.text,
                             "retrieval_hit": hit, **p}
                            for ex, p, hit in zip(flat, preds, hits, strict=False)],
                           ensure_ascii=False),
                encoding="utf-8")
        i = 0
        for lang in langs:
            n = len(examples[lang])
            scores[split][lang] = score_realistic(examples[lang], preds[i:i + n], hits[i:i + n])
            i += n
        scores[split]["all"] = score_realistic(flat, preds, hits)
    lines = [
        "| lang | team held-out acc (n) | realistic dev top-1 (n) | dev with retrieval | "
        "dev in-scope→fallback | realistic test top-1 (n) | test with retrieval | "
        "test in-scope→fallback | target (test, with retrieval) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for lang in (*langs, "all"):
        cells = [_cell(heldout[lang].accuracy, heldout[lang].n) if lang in heldout else "–"]
        for split in REALISTIC_SPLITS:
            r = scores[split].get(lang)
            cells += ([_cell(r.top1, r.n), _pct(r.with_retrieval), _pct(r.fallback)] if r
                      else ["–", "–", "–"])
        target = REALISTIC_TARGETS.get(lang)
        lines.append(f"| {lang} | " + " | ".join(cells)
                     + f" | {f'≥ {target:.2f}' if target else ''} |")
    lines += ["", "How the realistic sets are scored: " + "; ".join(sorted(notes)) + "."
              if notes else "", ""]
    if scores["dev"]:
        lines += ["Top confusions on the realistic DEV set (gold → predicted, count):", ""]
        for lang in (*langs, "all"):
            r = scores["dev"].get(lang)
            if r:
                pairs = ", ".join(f"{g} → {p} ({c})" for g, p, c in r.confusions) or "none"
                lines.append(f"- **{lang}**: {pairs}")
    if not scores["test"]:
        lines += ["", "The realistic TEST set is not written yet (nlu/tests/realistic/test/)."]
    return "\n".join(lines), scores


def write_docs(block: str) -> None:
    path = ROOT / "docs" / "NLU.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- eval:start -->", "<!-- eval:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{block}\n{end}{tail}"
    else:
        text += f"\n{start}\n{block}\n{end}\n"
    path.write_text(text, encoding="utf-8")


def evaluate(langs: tuple[str, ...], force: bool = False,
             model: Path | None = None) -> tuple[str, dict[str, Score]]:
    started = time.monotonic()
    train = training_examples()
    heldout = {lang: heldout_examples(lang) for lang in langs}
    if model is None:
        model, train_s = train_model(force=force)
    else:
        train_s = 0.0  # a given model (e.g. an earlier one, to measure before/after)
    print(f"evaluate: model {model.name} "
          f"({f'trained in {train_s:.0f} s' if train_s else 'cached'})", flush=True)
    all_examples = [ex for lang in langs for ex in heldout[lang]]
    diet_preds = rasa_predict(model, [ex.text for ex in all_examples])
    # Kept for threshold tuning without retraining (see sweep()).
    (EVAL_DIR / f"predictions-{model.name.split('.')[0]}.json").write_text(json.dumps(
        [{"lang": ex.lang, "gold": ex.intent, "text": ex.text, **p}
         for ex, p in zip(all_examples, diet_preds, strict=False)], ensure_ascii=False),
        encoding="utf-8")
    baseline = Baseline(train)
    base_preds = baseline.predict([ex.text for ex in all_examples])
    rows, scores, i = [], {}, 0
    for lang in langs:
        n = len(heldout[lang])
        diet = score(heldout[lang], diet_preds[i:i + n])
        base = score(heldout[lang], base_preds[i:i + n], with_entities=False)
        rows.append((lang, diet, base))
        scores[lang] = diet
        i += n
    rows.append(("all", score(all_examples, diet_preds),
                 score(all_examples, base_preds, with_entities=False)))
    table = render_table(rows)
    realistic, real_scores = evaluate_realistic(
        model, langs, {**scores, "all": rows[-1][1]})
    missed = [lang for lang, r in real_scores["test"].items()
              if lang in REALISTIC_TARGETS and r.with_retrieval < REALISTIC_TARGETS[lang]]
    if real_scores["test"]:
        realistic += ("\n\nRealistic TEST set, accuracy with retrieval against the targets: "
                      + (f"below in {', '.join(missed)}." if missed else "all met."))
    elapsed = time.monotonic() - started
    block = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
             f"`make eval` (model {model.name.split('.')[0]}; {len(train)} training examples, "
             f"{len(all_examples)} held-out; DIET training {train_s:.0f} s"
             f"{' (cached model)' if not train_s else ''}; whole run {elapsed:.0f} s; "
             f"baseline threshold {BASELINE_THRESHOLD}).\n\n"
             f"**Team-written held-out set** (`nlu/tests/heldout/`, same authors as the "
             f"training data):\n\n{table}\n\n"
             f"**Realistic sets** (`nlu/tests/realistic/{{dev,test}}/`, written without reading "
             f"the training data; top-1 = the intent the model picks; \"with retrieval\" also "
             f"counts a fallback whose offered choices include the right answer):\n\n"
             f"{realistic}")
    return block, scores


def sweep(path: Path, thresholds=(0.4, 0.5, 0.6, 0.7, 0.8), ambiguity=(0.0, 0.1)) -> str:
    """Replay the FallbackClassifier at other thresholds on saved DIET predictions."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    examples = [Example(r["text"], r["gold"], r["lang"]) for r in rows]
    lines = ["| threshold | ambiguity | " + " | ".join(f"{lang} F1" for lang in LANGS)
             + " | in-scope acc | OOS→fallback | fr OOS→fallback |",
             "|" + "---|" * (len(LANGS) + 5)]
    for t in thresholds:
        for a in ambiguity:
            preds = []
            for r in rows:
                ranking = [x for x in r["ranking"] if x[0] != FALLBACK] or [[FALLBACK, 1.0]]
                top, conf = ranking[0]
                second = ranking[1][1] if len(ranking) > 1 else 0.0
                preds.append({"intent": FALLBACK if conf < t or conf - second < a else top})
            f1 = []
            for lang in LANGS:
                idx = [i for i, ex in enumerate(examples) if ex.lang == lang]
                f1.append(score([examples[i] for i in idx], [preds[i] for i in idx]).macro_f1)
            inscope = [i for i, ex in enumerate(examples) if ex.intent != OOS]
            acc = sum(preds[i]["intent"] == examples[i].intent for i in inscope) / len(inscope)
            oos = [i for i, ex in enumerate(examples) if ex.intent == OOS]
            oos_rate = sum(preds[i]["intent"] in (OOS, FALLBACK) for i in oos) / len(oos)
            fr_oos = [i for i in oos if examples[i].lang == "fr"]
            fr_rate = (sum(preds[i]["intent"] in (OOS, FALLBACK) for i in fr_oos) / len(fr_oos)
                       if fr_oos else float("nan"))
            lines.append(f"| {t} | {a} | " + " | ".join(f"{x:.2f}" for x in f1)
                         + f" | {_pct(acc)} | {_pct(oos_rate)} | {_pct(fr_rate)} |")
    return "\n".join(lines)


def per_language(langs: tuple[str, ...], force: bool = False) -> str:
    """Train one model per language and compare macro-F1 with the multilingual model."""
    lines = ["| lang | per-language model macro-F1 | acc | OOS→fallback | train s |",
             "|---|---|---|---|---|"]
    for lang in langs:
        model, train_s = train_model((lang,), force=force)
        examples = heldout_examples(lang)
        s = score(examples, rasa_predict(model, [ex.text for ex in examples]))
        lines.append(f"| {lang} | {s.macro_f1:.2f} | {_pct(s.accuracy)} | "
                     f"{_pct(s.oos_to_fallback)} | {train_s:.0f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def _use_normalizer_from(rev: str) -> None:
    """Swap in ``normalize`` as it was at git revision ``rev`` (this module and the search
    index read messages through it)."""
    import importlib.util

    # The word tables live in bot/core/spellings.py since issue 12 (absent at older revisions).
    for name in ("spellings", "normalize"):
        shown = subprocess.run(["git", "show", f"{rev}:bot/core/{name}.py"], cwd=ROOT,
                               capture_output=True, text=True, check=name == "normalize")
        if shown.returncode:
            continue
        path = EVAL_DIR / f"{name}-{rev}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shown.stdout, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"bot.core.{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"bot.core.{name}"] = module
        spec.loader.exec_module(module)
    import bot.core

    bot.core.normalize = module
    eval_data.normalize = module.normalize  # what read_examples and build read through


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", action="append", choices=LANGS,
                        help="only these languages (repeatable)")
    parser.add_argument("--force", action="store_true", help="retrain even if cached")
    parser.add_argument("--per-language", action="store_true",
                        help="also train and score one model per language")
    parser.add_argument("--sweep", action="store_true",
                        help="replay the fallback threshold on this run's predictions")
    parser.add_argument("--write-docs", action="store_true",
                        help="replace the eval block of docs/NLU.md with this run's table")
    parser.add_argument("--model", type=Path,
                        help="score this model (.tar.gz) instead of training the current data")
    parser.add_argument("--disclosure-only", action="store_true",
                        help="only the disclosure detector's table (no Rasa, seconds)")
    parser.add_argument("--normalizer-from", metavar="GIT_REV",
                        help="with --model: read messages with bot/core/normalize.py as it was "
                             "at this commit (to measure an earlier state: before/after)")
    args = parser.parse_args(argv)
    langs = tuple(args.lang or LANGS)
    if args.normalizer_from:
        _use_normalizer_from(args.normalizer_from)
    if args.disclosure_only:
        from bot.devtools import eval_disclosure

        print(eval_disclosure.render(eval_disclosure.evaluate(langs=langs)))
        return 0
    block, scores = evaluate(langs, force=args.force, model=args.model)
    print(block)
    if args.sweep:
        saved = sorted(EVAL_DIR.glob("predictions-*.json"), key=lambda p: p.stat().st_mtime)
        table = sweep(saved[-1])
        print(table)
        block += "\n\nFallback threshold replayed on the same predictions:\n\n" + table
    if args.per_language:
        comparison = per_language(langs, force=args.force)
        block += ("\n\nOne model per language, same held-out sets:\n\n" + comparison)
        print(comparison)
    from bot.devtools import eval_disclosure  # the safety net, next to the NLU's figures

    disclosure = eval_disclosure.render(eval_disclosure.evaluate(langs=langs))
    print("\n" + disclosure)
    if args.write_docs:
        write_docs(block + "\n\n" + disclosure)
        print("evaluate: table written to docs/NLU.md")
    missed = [lang for lang, s in scores.items() if s.macro_f1 < TARGETS[lang]]
    if missed:
        print(f"evaluate: below the macro-F1 target: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
