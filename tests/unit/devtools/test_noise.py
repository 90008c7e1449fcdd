"""The SMS noise model (bot/devtools/noise.py) and the noisy variants it writes."""

from __future__ import annotations

import random

import pytest

from bot.devtools import noise

SENTENCES = [
    "Où est-ce que je peux vendre l'or à Kéniéba ?",
    "Comment créer une coopérative avec trois personnes ?",
    "Mon mari me frappe quand je rentre du site",
    "Je veux l'autorisation pour creuser à Siguiri, c'est combien ?",
    "la pluie nous a forcés à partir",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_same_seed_same_noise(text):
    assert noise.sms_noise(text, random.Random(7)) == noise.sms_noise(text, random.Random(7))


def test_noise_changes_text_and_differs_between_seeds():
    for text in SENTENCES:
        outputs = {noise.sms_noise(text, random.Random(seed)) for seed in range(20)}
        assert len(outputs - {text}) >= 10, (text, outputs)
        assert all(out.strip() for out in outputs)


def test_noise_does_what_texters_do():
    outputs = [noise.sms_noise(text, random.Random(seed))
               for text in SENTENCES for seed in range(40)]
    joined = "\n".join(outputs)
    assert sum("é" not in o and "à" not in o for o in outputs) > len(outputs) / 2  # accents
    assert sum("'" not in o for o in outputs) > len(outputs) / 2                 # apostrophes
    for abbreviation in ("koman", "pr", "ke", "c", "esk", "3", "jveu"):
        assert any(abbreviation in o.split() for o in outputs), abbreviation
    assert any(o.isupper() for o in outputs)                                   # ALL CAPS
    assert any(o == o.lower() for o in outputs)                                # lowercase
    assert any(ch * 3 in joined for ch in "aeioulmnrst")                       # aaa


def test_variant_keeps_away_from_source_and_taken():
    text = "ou vendre lor"
    first = noise.variant(text, set())
    assert noise.compare_key(first) != noise.compare_key(text)
    second = noise.variant(text, {noise.compare_key(first)})
    assert noise.compare_key(second) not in {noise.compare_key(first), noise.compare_key(text)}


def test_generated_files_are_up_to_date():
    for path, content in noise.render_all().items():
        assert path.read_text(encoding="utf-8") == content, (
            f"{path} is stale: run `python -m bot.devtools.noise --write`")
        assert noise.strip_generated(content).count(noise.BEGIN) == 0


SYNTHETIC = [f"comment on fait pour la chose numero {word} a keniéba"
             for word in ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
                          "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho",
                          "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")]


def test_realistic_variants_keep_the_label_of_their_source():
    import yaml

    source = 'version: "3.1"\nnlu:\n' + "".join(
        f"- intent: label_{i}\n  examples: |\n    - {text}\n" for i, text in enumerate(SYNTHETIC))
    rendered = noise.render_realistic(source, set())
    assert noise.render_realistic(rendered, set()) == rendered  # idempotent
    picked = {f"label_{i}": text for i, text in enumerate(SYNTHETIC) if noise.picked(text)}
    assert 0 < len(picked) < len(SYNTHETIC)
    blocks = [b for b in yaml.safe_load(rendered)["nlu"] if b.get("metadata") == {"noise": "sms"}]
    assert {b["intent"] for b in blocks} == set(picked)
    for block in blocks:
        (example,) = [line[2:] for line in block["examples"].splitlines()]
        assert noise.compare_key(example) != noise.compare_key(picked[block["intent"]])


def test_disclosure_variants_keep_the_kind_of_their_source():
    import yaml

    kinds = ["rape", "threat", "near_miss", "ordinary"]
    lines = ['version: "1"', "lang: fr", "disclosures:"]
    lines += [f'  - {{text: "{t}", kind: {kinds[i % 2]}}}' for i, t in enumerate(SYNTHETIC[:12])]
    lines += ["non_disclosures:"]
    lines += [f'  - {{text: "{t}", kind: {kinds[2 + i % 2]}}}'
              for i, t in enumerate(SYNTHETIC[12:])]
    source = "\n".join(lines) + "\n"
    rendered = noise.render_disclosure(source, set())
    assert noise.render_disclosure(rendered, set()) == rendered
    data = yaml.safe_load(rendered)
    for group in ("disclosures", "non_disclosures"):
        clean = [e for e in data[group] if "noise" not in e]
        noisy = [e for e in data[group] if e.get("noise") == "sms"]
        assert [e["text"] for e in clean] == [e["text"] for e in yaml.safe_load(source)[group]]
        assert sorted(e["kind"] for e in noisy) == sorted(
            e["kind"] for e in clean if noise.picked(e["text"]))
