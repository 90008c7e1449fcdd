"""The baseline tree of a comparison: a git worktree of a commit under var/bench/trees/, with
Python environments and a model of its own.

Its venvs are the current tree's (symlinks) when the requirement files hash the same in both
trees; otherwise that tree's own `scripts/setup.sh app|rasa` builds them there."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

# What each environment is installed from (as scripts/setup.sh, less pyproject.toml: the
# editable install of the project never matters here, each tree runs with PYTHONPATH=tree).
VENVS = {
    ".venv": ("app", ("requirements/app.txt", "requirements/app.lock", "requirements/dev.in",
                      "requirements/dev.lock")),
    ".venv-rasa": ("rasa", ("requirements/rasa.txt", "requirements/rasa-constraints.txt")),
}

Runner = Callable[..., subprocess.CompletedProcess]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def resolve(repo: Path, ref: str) -> str:
    """The full commit id of `ref` (a branch, tag, or commit)."""
    try:
        return git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"bench: {ref!r} is not a commit of {repo}") from None


def prepare_worktree(repo: Path, ref: str, under: Path | None = None) -> Path:
    """A detached worktree of `ref` at `under`/<commit[:12]>, reused when it is already
    there at that commit."""
    commit = resolve(repo, ref)
    under = under or repo / "var" / "bench" / "trees"
    tree = under / commit[:12]
    if (tree / ".git").exists():
        try:
            if git(tree, "rev-parse", "HEAD") == commit:
                return tree
        except subprocess.CalledProcessError:
            pass
        git(tree, "checkout", "--quiet", "--detach", commit)
        return tree
    under.mkdir(parents=True, exist_ok=True)
    try:
        git(repo, "worktree", "add", "--quiet", "--detach", str(tree), commit)
    except subprocess.CalledProcessError:  # registered, but its folder was removed
        git(repo, "worktree", "prune")
        git(repo, "worktree", "add", "--quiet", "--detach", str(tree), commit)
    return tree


def requirements_hash(tree: Path, files: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in files:
        path = tree / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(missing)")
    return digest.hexdigest()


def prepare_venvs(tree: Path, current: Path, run: Runner = subprocess.run) -> dict[str, str]:
    """Give `tree` its two venvs: a symlink to the current tree's (resolved) when the
    requirement files are the same, else built by that tree's scripts/setup.sh. Returns what
    was done for each: "linked", "kept" (its own, already there) or "built"."""
    done = {}
    for venv, (part, files) in VENVS.items():
        mine, theirs = current / venv, tree / venv
        same = requirements_hash(tree, files) == requirements_hash(current, files)
        if same and mine.exists():
            target = Path(os.path.realpath(mine))
            if theirs.is_symlink() and Path(os.path.realpath(theirs)) == target:
                done[venv] = "linked"
                continue
            if theirs.is_symlink():
                theirs.unlink()
            if not theirs.exists():
                theirs.symlink_to(target)
                done[venv] = "linked"
                continue
        if theirs.is_symlink():  # a link to an environment of other requirements
            theirs.unlink()
        if (theirs / "bin" / "python").exists() and same:
            done[venv] = "kept"
            continue
        # Idempotent: setup.sh reinstalls only when its stamp (a hash of the inputs) differs.
        run(["bash", "scripts/setup.sh", part], cwd=tree, check=True)
        done[venv] = "built"
    return done


def tree_env(tree: Path) -> dict[str, str]:
    """The environment to run a tree's code with: its own modules first (the shared venv's
    editable install may point at another checkout)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


def prepare_model(tree: Path, run: Runner = subprocess.run) -> None:
    """That tree's compiled catalogues and its model (its own `train`, which copies a cached
    model when its NLU inputs were trained before)."""
    python = str(tree / ".venv" / "bin" / "python")
    for module in (["bot.i18n", "compile"], ["bot.devtools.train"]):
        run([python, "-m", *module], cwd=tree, env=tree_env(tree), check=True)
