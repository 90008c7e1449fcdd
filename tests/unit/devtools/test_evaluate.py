"""bot.devtools.evaluate without Rasa: data preparation and scoring."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.devtools import evaluate
from bot.devtools.evaluate import Baseline, Example, score, strip_annotations


def test_strip_annotations_keeps_text_and_entities() -> None:
    text, entities = strip_annotations(
        'je suis en [guinee]{"entity": "country", "value": "GN"} a [siguiri](place)')
    assert text == "je suis en guinee a siguiri"
    assert entities == [("country", "guinee"), ("place", "siguiri")]


def test_build_normalizes_examples_and_skips_other_languages(tmp_path: Path) -> None:
    out = evaluate.build(tmp_path / "b", langs=("bm",))
    files = {p.relative_to(out / "data").as_posix() for p in (out / "data").rglob("*.yml")}
    assert "nlu/bm.yml" in files and "nlu/fr.yml" not in files
    assert "lookups/places.yml" in files and "rules.yml" not in files
    data = yaml.safe_load((out / "data" / "nlu" / "bm.yml").read_text(encoding="utf-8"))
    examples = data["nlu"][0]["examples"]
    assert "ɛ" not in examples and "ɔ" not in examples
    assert (out / "config.yml").exists()


def test_score_counts_fallback_as_right_only_for_out_of_scope() -> None:
    examples = [Example("a", "greet", "fr"), Example("b", "out_of_scope", "fr"),
                Example("c", "thanks", "fr"), Example("d", "out_of_scope", "fr")]
    predictions = [{"intent": "greet"}, {"intent": "nlu_fallback"},
                   {"intent": "nlu_fallback"}, {"intent": "greet"}]
    result = score(examples, predictions)
    assert result.accuracy == 0.5
    assert result.oos_to_fallback == 0.5
    assert result.inscope_fallback == 0.5
    assert ("thanks", "nlu_fallback", 1) in result.confusions


def test_baseline_learns_and_falls_back() -> None:
    train = [Example(t, "greet", "fr") for t in ("bonjour", "salut", "bonsoir", "bjr")] + \
            [Example(t, "thanks", "fr") for t in ("merci", "merci bien", "je remercie")]
    model = Baseline(train, threshold=0.99)
    assert model.predict(["bonjour bonjour"])[0]["intent"] == "nlu_fallback"
    model = Baseline(train, threshold=0.0)
    assert model.predict(["merci beaucoup"])[0]["intent"] == "thanks"


def test_data_hash_changes_with_languages() -> None:
    assert evaluate.data_hash(("fr",)) != evaluate.data_hash(("bm",))


def test_realistic_score_counts_a_fallback_only_when_retrieval_offers_the_answer() -> None:
    from bot.devtools.evaluate import score_realistic

    examples = [Example("a", "sell_gold", "fr"), Example("b", "sell_gold", "fr"),
                Example("c", "out_of_scope", "fr"), Example("d", "accident", "fr")]
    predictions = [{"intent": "nlu_fallback"}, {"intent": "nlu_fallback"},
                   {"intent": "nlu_fallback"}, {"intent": "accident"}]
    hits = [True, False, False, False]  # the first fallback offered the sell_gold answer
    result = score_realistic(examples, predictions, hits)
    assert result.n == 4
    assert result.top1 == 0.5  # out of scope → fallback, and the accident
    assert result.with_retrieval == 0.75
    assert abs(result.fallback - 2 / 3) < 1e-9


def test_file_lang_reads_topic_files() -> None:
    root = evaluate.DATA_DIR / "nlu"
    assert evaluate.file_lang(root / "fr.yml") == "fr"
    assert evaluate.file_lang(root / "sms_wo.yml") == "wo"
    assert evaluate.file_lang(root / "topics_snk.yml") == "snk"
    assert evaluate.file_lang(root / "location.yml") is None
    assert evaluate.file_lang(evaluate.DATA_DIR / "lookups" / "fr.yml") is None

