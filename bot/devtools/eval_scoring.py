"""Scores: accuracy, macro-F1, fallback shares, entity recall and confusions of a set of
predictions; the scikit-learn baseline; the markdown tables."""

from __future__ import annotations

import collections
from dataclasses import dataclass

from bot.devtools.eval_data import BASELINE_THRESHOLD, FALLBACK, OOS, TARGETS, Example


class Baseline:
    """TF-IDF over character n-grams + logistic regression, thresholded for fallback."""

    def __init__(self, examples: list[Example], threshold: float = BASELINE_THRESHOLD):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.threshold = threshold
        self.model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            LogisticRegression(max_iter=2000, C=10.0))
        self.model.fit([e.text for e in examples], [e.intent for e in examples])

    def predict(self, texts: list[str]) -> list[dict]:
        probs = self.model.predict_proba(texts)
        classes = self.model.classes_
        out = []
        for row in probs:
            best = int(row.argmax())
            intent = classes[best] if row[best] >= self.threshold else FALLBACK
            out.append({"intent": intent, "confidence": float(row[best]), "entities": []})
        return out


@dataclass
class Score:
    n: int
    accuracy: float
    macro_f1: float
    oos_n: int
    oos_to_fallback: float
    inscope_fallback: float
    entity_recall: float | None
    confusions: list[tuple[str, str, int]]


def score(examples: list[Example], predictions: list[dict], with_entities: bool = True) -> Score:
    from sklearn.metrics import f1_score

    gold, pred, correct = [], [], 0
    oos_total = oos_ok = inscope_total = inscope_fb = 0
    ent_total = ent_found = 0
    confusions: collections.Counter[tuple[str, str]] = collections.Counter()
    for ex, p in zip(examples, predictions, strict=False):
        predicted = p["intent"]
        as_label = OOS if predicted == FALLBACK else predicted
        gold.append(ex.intent)
        pred.append(as_label)
        if ex.intent == OOS:
            oos_total += 1
            ok = predicted in (OOS, FALLBACK)
            oos_ok += ok
        else:
            inscope_total += 1
            inscope_fb += predicted == FALLBACK
            ok = predicted == ex.intent
        correct += ok
        if not ok:
            confusions[(ex.intent, str(predicted))] += 1
        found = {(e[0], e[1]) for e in p.get("entities", [])}
        for entity in ex.entities:
            ent_total += 1
            ent_found += entity in found
    labels = sorted(set(gold))
    return Score(
        n=len(examples),
        accuracy=correct / len(examples) if examples else 0.0,
        macro_f1=f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
        if examples else 0.0,
        oos_n=oos_total,
        oos_to_fallback=oos_ok / oos_total if oos_total else float("nan"),
        inscope_fallback=inscope_fb / inscope_total if inscope_total else 0.0,
        entity_recall=ent_found / ent_total if ent_total and with_entities else None,
        confusions=[(g, p, c) for (g, p), c in confusions.most_common(3)],
    )


def _pct(x: float | None) -> str:
    return "–" if x is None or x != x else f"{100 * x:.0f}%"


def render_table(rows: list[tuple[str, Score, Score]]) -> str:
    lines = [
        "| lang | n | DIET acc | DIET macro-F1 | DIET OOS→fallback | DIET in-scope→fallback "
        "| entity recall | baseline acc | baseline macro-F1 | baseline OOS→fallback | target F1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, diet, base in rows:
        target = TARGETS.get(lang)
        lines.append(
            f"| {lang} | {diet.n} | {_pct(diet.accuracy)} | {diet.macro_f1:.2f} | "
            f"{_pct(diet.oos_to_fallback)} ({diet.oos_n}) | {_pct(diet.inscope_fallback)} | "
            f"{_pct(diet.entity_recall)} | {_pct(base.accuracy)} | {base.macro_f1:.2f} | "
            f"{_pct(base.oos_to_fallback)} | {f'≥ {target:.2f}' if target else ''} |")
    lines.append("")
    lines.append("Top confusions (gold → predicted, count), DIET:")
    lines.append("")
    for lang, diet, _ in rows:
        pairs = ", ".join(f"{g} → {p} ({c})" for g, p, c in diet.confusions) or "none"
        lines.append(f"- **{lang}**: {pairs}")
    return "\n".join(lines)


@dataclass
class RealisticScore:
    n: int
    top1: float
    with_retrieval: float
    fallback: float  # share of in-scope messages that fell back
    confusions: list[tuple[str, str, int]]


def score_realistic(examples: list[Example], predictions: list[dict],
                    hits: list[bool]) -> RealisticScore:
    top1 = rescued = inscope = fell = 0
    confusions: collections.Counter[tuple[str, str]] = collections.Counter()
    for ex, p, hit in zip(examples, predictions, hits, strict=False):
        predicted = p["intent"]
        if ex.intent == OOS:
            ok = predicted in (OOS, FALLBACK)
        else:
            inscope += 1
            fell += predicted == FALLBACK
            ok = predicted == ex.intent
            rescued += (not ok) and predicted == FALLBACK and hit
        top1 += ok
        if not ok:
            confusions[(ex.intent, str(predicted))] += 1
    n = len(examples)
    return RealisticScore(n=n, top1=top1 / n if n else float("nan"),
                          with_retrieval=(top1 + rescued) / n if n else float("nan"),
                          fallback=fell / inscope if inscope else float("nan"),
                          confusions=[(g, p, c) for (g, p), c in confusions.most_common(3)])


def _cell(x: float, n: int) -> str:
    return "–" if not n else f"{_pct(x)} ({n})"
