"""Train the Rasa NLU model (`rasa train nlu`) only when its inputs changed.

    python -m bot.devtools.train                  # build, validate if new, train if new
    python -m bot.devtools.train --validate-only  # `rasa data validate --fail-on-warnings`

The training data is first copied to `var/nlu-build/` with every example passed through
`bot.core.normalize.normalize`, the same function the gateway applies to user messages. The
model is cached by a hash of everything that shapes it (nlu/, the content fingerprint, the
normalizer, the Rasa requirements) in `MODEL_CACHE_DIR` (default ~/.cache/orpaillage-assistant/
models), which outlives clones, and is copied to `models/current.tar.gz` for `make run`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.config import ROOT, VAR_DIR
from bot.core.normalize import normalize

NLU_DIR = ROOT / "nlu"
BUILD_DIR = VAR_DIR / "nlu-build"
MODELS_DIR = ROOT / "models"
CURRENT = MODELS_DIR / "current.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
CACHE_DIR = Path(os.environ.get("MODEL_CACHE_DIR",
                                Path.home() / ".cache" / "orpaillage-assistant" / "models"))
# Held-out evaluation data is never trained on, and does not change the model.
EXCLUDED = ("tests",)


def training_inputs() -> list[Path]:
    files = [p for p in sorted(NLU_DIR.rglob("*"))
             if p.is_file() and p.relative_to(NLU_DIR).parts[0] not in EXCLUDED
             and ".rasa" not in p.parts and p.suffix in (".yml", ".yaml", ".txt")]
    return files


def model_hash() -> str:
    from bot.content import get_content

    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for extra in (ROOT / "bot" / "core" / "normalize.py", ROOT / "bot" / "core" / "spellings.py",
                  ROOT / "requirements" / "rasa.txt",
                  ROOT / "requirements" / "rasa-constraints.txt"):
        digest.update(extra.read_bytes())
    digest.update(get_content().fingerprint().encode())
    return digest.hexdigest()[:20]


_EXAMPLE_LINE = re.compile(r"^(\s*-\s)(.*)$")


def _normalize_examples(block: str) -> str:
    lines = []
    for line in block.splitlines():
        match = _EXAMPLE_LINE.match(line)
        lines.append(match.group(1) + normalize(match.group(2)) if match else line)
    return "\n".join(lines) + "\n"


def build(dest: Path | None = None) -> Path:
    """Copy nlu/ to a build folder with normalized examples and lookup entries."""
    dest = dest or BUILD_DIR / f"{os.getpid()}"
    if dest.exists():
        shutil.rmtree(dest)
    for path in training_inputs():
        target = dest / path.relative_to(NLU_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix not in (".yml", ".yaml"):
            shutil.copy2(path, target)
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("nlu"), list):
            for item in data["nlu"]:
                if isinstance(item.get("examples"), str):
                    item["examples"] = _LiteralStr(_normalize_examples(item["examples"]))
            target.write_text(yaml.dump(data, Dumper=_Dumper, allow_unicode=True,
                                        sort_keys=False), encoding="utf-8")
        else:
            shutil.copy2(path, target)
    return dest


class _LiteralStr(str):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _LiteralStr, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data,
                                                              style="|"))


LOG = VAR_DIR / "logs" / "train.log"


def rasa(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a Rasa command; its (very noisy) output goes to var/logs/train.log and is shown
    only when the command fails."""
    if not RASA.exists():
        sys.exit("train: the Rasa venv is missing; run `make setup` first")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
           "PYTHONWARNINGS": "ignore"}
    LOG.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([str(RASA), *args], cwd=cwd, env=env, capture_output=True,
                            text=True)
    with LOG.open("a") as log:
        log.write(f"$ rasa {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        noise = ("Warning", "warn(", "declare_namespace", "import pkg_resources", "  ")
        lines = [line for line in (result.stdout + result.stderr).splitlines()
                 if line.strip() and not any(n in line for n in noise)]
        print("\n".join(lines[-40:]), file=sys.stderr)
    return result


def validate(build_dir: Path) -> None:
    result = rasa("data", "validate", "--fail-on-warnings", "--data", "data",
                  "--domain", "domain.yml", "--config", "config.yml", cwd=build_dir)
    if result.returncode != 0:
        sys.exit("train: `rasa data validate --fail-on-warnings` failed (see above)")


def train(force: bool = False) -> Path:
    digest = model_hash()
    cached = CACHE_DIR / f"{digest}.tar.gz"
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    if cached.exists() and not force:
        if not CURRENT.exists() or CURRENT.read_bytes() != cached.read_bytes():
            shutil.copy2(cached, CURRENT)
        print(f"train: model {digest} is up to date")
        return CURRENT
    build_dir = build()
    try:
        return _train_in(build_dir, digest, cached)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def _train_in(build_dir: Path, digest: str, cached: Path) -> Path:
    validate(build_dir)
    print(f"train: training model {digest} (inputs changed)...", flush=True)
    started = time.monotonic()
    out = build_dir / "out"
    result = rasa("train", "nlu", "--nlu", "data", "--domain", "domain.yml",
                  "--config", "config.yml", "--out", str(out), "--fixed-model-name", digest,
                  "--quiet", cwd=build_dir)
    if result.returncode != 0:
        sys.exit("train: rasa train nlu failed")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / f"{digest}.tar.gz", cached)
    shutil.copy2(cached, CURRENT)
    print(f"train: trained in {time.monotonic() - started:.0f} s -> {CURRENT}")
    return CURRENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validate-only", action="store_true")
    parser.add_argument("--force", action="store_true", help="train even if the cache is fresh")
    args = parser.parse_args()
    if args.validate_only:
        build_dir = build()
        try:
            validate(build_dir)
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        print("train: training data is valid")
        return
    train(force=args.force)


if __name__ == "__main__":
    main()
