"""The realistic evaluation sets (nlu/tests/realistic/) and the disclosure sets
(nlu/tests/disclosure/): sizes, coverage, uniqueness, kinds, draft marks, and no sentence shared
between DEV and TEST. See nlu/tests/README.md for who wrote them and how."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
REALISTIC = ROOT / "nlu" / "tests" / "realistic"
DISCLOSURE = ROOT / "nlu" / "tests" / "disclosure"
LOCAL = ("bm", "emk", "ff", "snk", "wo")
LANGS = ("fr", *LOCAL)

# The labels of the assistant (the brief the sets were written from).
LABELS = {
    "greet", "menu", "more", "go_back", "thanks", "help", "affirm", "deny", "change_language",
    "change_country", "inform", "talk_to_person", "report_problem", "check_status",
    "delete_data", "out_of_scope", "why_formalise", "form_cooperative", "form_gie",
    "get_authorisation", "couloirs", "seasonal_closure", "foreigners_rules", "sell_gold",
    "banned_practices", "gravity_concentration", "borax_smelting", "retort", "mercury_health",
    "cyanide", "pit_safety", "accident", "protective_equipment", "child_labour",
    "grievance_channels", "violence_help", "more_mercury",
}
DISCLOSURE_KINDS = {"sexual_coercion", "rape", "sexual_harassment", "domestic_violence",
                    "child_abuse", "threat", "physical_assault"}
NON_DISCLOSURE_KINDS = {"near_miss", "ordinary"}

# (split, lang) -> minimum number of clean (not noise-generated) examples, minimum labels.
REALISTIC_MIN = {("test", "fr"): (170, len(LABELS)), ("dev", "fr"): (90, 30),
                 **{("test", lang): (24, 12) for lang in LOCAL},
                 **{("dev", lang): (12, 8) for lang in LOCAL}}
# (split, lang) -> minimum disclosures, non-disclosures, near misses.
DISCLOSURE_MIN = {("test", "fr"): (70, 70, 35), ("dev", "fr"): (40, 40, 15),
                  **{("test", lang): (16, 16, 6) for lang in LOCAL},
                  **{("dev", lang): (10, 10, 4) for lang in LOCAL}}


def key(text: str) -> str:
    """Lowercase, no accents, single spaces: how two sentences are compared."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip()


def realistic_blocks(split: str, lang: str) -> list[dict]:
    data = yaml.safe_load((REALISTIC / split / f"{lang}.yml").read_text(encoding="utf-8"))
    return data["nlu"]


def realistic_examples(split: str, lang: str, noisy: bool | None = False):
    """(intent, text, is_noise) for every example; noisy=None gives both kinds."""
    out = []
    for block in realistic_blocks(split, lang):
        is_noise = bool((block.get("metadata") or {}).get("noise"))
        if noisy is not None and is_noise != noisy:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line:
                assert line.startswith("- "), f"{split}/{lang}: bad example line {line!r}"
                out.append((block["intent"], line[2:].strip(), is_noise))
    return out


def disclosure_data(split: str, lang: str) -> dict:
    return yaml.safe_load((DISCLOSURE / split / f"{lang}.yml").read_text(encoding="utf-8"))


def disclosure_entries(split: str, lang: str, noisy: bool | None = False):
    data = disclosure_data(split, lang)
    out = []
    for group in ("disclosures", "non_disclosures"):
        for entry in data[group]:
            if noisy is not None and bool(entry.get("noise")) != noisy:
                continue
            out.append((group, entry))
    return out


@pytest.mark.parametrize("split,lang", sorted(REALISTIC_MIN))
def test_realistic_sizes_labels_and_uniqueness(split, lang):
    clean = realistic_examples(split, lang)
    min_count, min_labels = REALISTIC_MIN[(split, lang)]
    assert len(clean) >= min_count, (split, lang, len(clean))
    labels = {intent for intent, _, _ in clean}
    assert labels <= LABELS, labels - LABELS
    assert len(labels) >= min_labels, (split, lang, len(labels))
    everything = [text for _, text, _ in realistic_examples(split, lang, noisy=None)]
    dupes = [t for t, n in Counter(everything).items() if n > 1]
    assert not dupes, dupes
    assert all(text for text in everything)


def test_french_test_set_covers_every_label_at_least_three_times():
    per_label = Counter(intent for intent, _, _ in realistic_examples("test", "fr"))
    thin = {label: per_label[label] for label in LABELS if per_label[label] < 3}
    assert not thin, thin
    assert per_label["out_of_scope"] >= 12
    for common in ("get_authorisation", "form_cooperative", "sell_gold", "mercury_health",
                   "pit_safety", "accident", "violence_help", "check_status", "report_problem"):
        assert per_label[common] >= 5, (common, per_label[common])


def test_french_test_set_has_long_messages():
    long = [text for _, text, _ in realistic_examples("test", "fr") if len(text.split()) >= 25]
    assert len(long) >= 18, len(long)


@pytest.mark.parametrize("split", ["dev", "test"])
@pytest.mark.parametrize("lang", LOCAL)
def test_local_language_sets_are_marked_draft(split, lang):
    for path in (REALISTIC / split / f"{lang}.yml", DISCLOSURE / split / f"{lang}.yml"):
        assert "# DRAFT: written without a native speaker" in path.read_text(encoding="utf-8")
    for block in realistic_blocks(split, lang):
        assert block.get("metadata") == {"status": "draft", "lang": lang}, block
    assert disclosure_data(split, lang)["status"] == "draft"


@pytest.mark.parametrize("split,lang", sorted(DISCLOSURE_MIN))
def test_disclosure_sizes_kinds_and_uniqueness(split, lang):
    data = disclosure_data(split, lang)
    assert data["lang"] == lang
    entries = disclosure_entries(split, lang)
    disclosures = [e for g, e in entries if g == "disclosures"]
    others = [e for g, e in entries if g == "non_disclosures"]
    min_dis, min_non, min_near = DISCLOSURE_MIN[(split, lang)]
    assert len(disclosures) >= min_dis and len(others) >= min_non, (len(disclosures), len(others))
    assert sum(e["kind"] == "near_miss" for e in others) >= min_near
    assert {e["kind"] for e in disclosures} <= DISCLOSURE_KINDS
    assert {e["kind"] for e in others} <= NON_DISCLOSURE_KINDS
    if lang == "fr":  # every kind of disclosure is represented in French
        assert {e["kind"] for e in disclosures} == DISCLOSURE_KINDS
    everything = [e["text"] for _, e in disclosure_entries(split, lang, noisy=None)]
    assert all(isinstance(t, str) and t.strip() for t in everything)
    dupes = [t for t, n in Counter(everything).items() if n > 1]
    assert not dupes, dupes
    groups = {}
    for group, entry in disclosure_entries(split, lang, noisy=None):
        assert set(entry) <= {"text", "kind", "noise"}, entry
        groups.setdefault(key(entry["text"]), set()).add(group)
    assert all(len(g) == 1 for g in groups.values()), "a sentence is both a disclosure and not"


@pytest.mark.parametrize("lang", LANGS)
def test_dev_and_test_share_no_sentence(lang):
    def keys(split):
        texts = [text for _, text, _ in realistic_examples(split, lang, noisy=None)]
        texts += [e["text"] for _, e in disclosure_entries(split, lang, noisy=None)]
        return {key(t) for t in texts}

    shared = keys("dev") & keys("test")
    assert not shared, sorted(shared)


def test_noise_variants_only_in_french_and_keep_their_source_label():
    for split in ("dev", "test"):
        for lang in LOCAL:
            assert not realistic_examples(split, lang, noisy=True)
            assert not disclosure_entries(split, lang, noisy=True)
        noisy = realistic_examples(split, "fr", noisy=True)
        clean = realistic_examples(split, "fr")
        assert len(noisy) >= len(clean) // 4, (split, len(noisy), len(clean))
        clean_labels = {intent for intent, _, _ in clean}
        assert {intent for intent, _, _ in noisy} <= clean_labels
        noisy_dis = disclosure_entries(split, "fr", noisy=True)
        assert len(noisy_dis) >= len(disclosure_entries(split, "fr")) // 4
