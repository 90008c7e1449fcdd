"""Training and running the Rasa NLU model for the evaluation, in .venv-rasa (one process
parses every message), and reading long messages the way the app does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.devtools.eval_data import (
    EVAL_DIR,
    FALLBACK,
    LANGS,
    OOS,
    RASA_PY,
    Example,
    build,
    data_hash,
)


def _rasa_env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONWARNINGS": "ignore", "LOG_LEVEL": "WARNING"}


def train_model(langs: tuple[str, ...] = LANGS, force: bool = False) -> tuple[Path, float]:
    """Return (model path, seconds spent training; 0 when the cached model was reused)."""
    if not RASA_PY.exists():
        sys.exit("evaluate: .venv-rasa is missing; run `scripts/setup.sh rasa` first")
    digest = data_hash(langs)
    models = EVAL_DIR / "models"
    model = models / f"{digest}.tar.gz"
    if model.exists() and not force:
        return model, 0.0
    build_dir = build(EVAL_DIR / f"build-{digest}", langs)
    models.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(
        [str(RASA_PY), "-m", "rasa", "train", "nlu", "--nlu", "data", "--config", "config.yml",
         "--out", str(models), "--fixed-model-name", digest, "--quiet"],
        cwd=build_dir, env=_rasa_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    if result.returncode != 0 or not model.exists():
        sys.stderr.write(result.stderr[-4000:])
        sys.exit("evaluate: rasa train nlu failed")
    shutil.rmtree(build_dir, ignore_errors=True)
    return model, time.monotonic() - started


_PARSE_SCRIPT = r"""
import asyncio, json, logging, sys, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
from rasa.core.agent import Agent
model, inp, out = sys.argv[1:4]
texts = json.load(open(inp, encoding="utf-8"))
agent = Agent.load(model)
async def run():
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        results.append({
            "intent": parsed["intent"]["name"],
            "confidence": parsed["intent"].get("confidence", 0.0),
            "ranking": [[r["name"], r["confidence"]] for r in parsed.get("intent_ranking", [])[:3]],
            "entities": [[e["entity"], text[e["start"]:e["end"]], e.get("value")]
                         for e in parsed.get("entities", [])],
        })
    return results
json.dump(asyncio.run(run()), open(out, "w", encoding="utf-8"), ensure_ascii=False)
"""


def rasa_predict(model: Path, texts: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        result = subprocess.run([str(RASA_PY), "-c", _PARSE_SCRIPT, str(model), str(inp),
                                 str(out)], env=_rasa_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr[-4000:])
            sys.exit("evaluate: parsing with the Rasa model failed")
        return json.loads(out.read_text(encoding="utf-8"))


def _optional(module: str, *names: str):
    """``names`` of ``module`` when it is importable (parts written alongside), else None."""
    import importlib

    try:
        mod = importlib.import_module(module)
        return tuple(getattr(mod, name) for name in names)
    except (ImportError, AttributeError):
        return None


def _as_parse(text: str, p: dict) -> dict:
    """A prediction of ``rasa_predict`` in the shape of Rasa's parse result."""
    return {"text": text,
            "intent": {"name": p["intent"], "confidence": p.get("confidence", 0.0)},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in p.get("ranking", [])],
            "entities": [{"entity": e[0], "value": e[2]} for e in p.get("entities", [])]}


def predict_messages(model: Path, examples: list[Example]) -> tuple[list[dict], str]:
    """One prediction per message, by the runtime's rule (``Gateway._strongest_question``):
    a long message (``bot.core.segments.split_sentences`` of the normalized text) that is not
    a possible disclosure (``keep_whole``) is parsed part by part, and the strongest part
    (``strongest``) is what the model answers, unless it is no question at all (then the
    whole message). Returns (predictions, how long messages were read)."""
    segments = _optional("bot.core.segments", "split_sentences", "strongest", "keep_whole",
                         "is_content")
    texts: list[str] = []
    plan: list[list[int]] = []
    for ex in examples:
        parts = segments[0](ex.text) if segments else []
        plan.append([len(texts)])
        texts.append(ex.text)
        if len(parts) > 1 and not segments[2](ex.text):
            plan[-1].extend(range(len(texts), len(texts) + len(parts)))
            texts.extend(parts)
    parsed = rasa_predict(model, texts)
    out = []
    for indexes in plan:
        whole, parts = parsed[indexes[0]], indexes[1:]
        if not parts:
            out.append(whole)
            continue
        parses = [_as_parse(texts[i], parsed[i]) for i in parts]
        chosen = segments[1](parses)
        out.append(parsed[parts[chosen]] if segments[3](parses[chosen]) else whole)
    how = ("long messages split as the gateway does (bot.core.segments), strongest part kept"
           if segments else "long messages parsed whole (bot.core.segments not importable)")
    return out, how


def retrieval_hits(examples: list[Example], predictions: list[dict]) -> tuple[list[bool], str]:
    """For each message that fell back: is the gold intent's answer among the choices that
    ``bot.content.search.suggest`` offers (what the user sees instead of a dead end)?"""
    found = _optional("bot.content.search", "suggest")
    hits = [False] * len(examples)
    if found is None:
        return hits, "fallback counted as wrong (bot.content.search not importable)"
    suggest = found[0]
    from bot.content import get_content

    content = get_content()
    for i, (ex, p) in enumerate(zip(examples, predictions, strict=False)):
        if p["intent"] != FALLBACK or ex.intent == OOS:
            continue
        answers = {a.id for a in content.answers_for_intent(ex.intent)}
        offered = suggest(ex.text, ex.lang)
        hits[i] = any(s.intent == ex.intent or s.answer_id in answers for s in offered)
    return hits, ("a fallback counted right only when the gold intent's answer is among "
                  "the choices bot.content.search.suggest offers")
