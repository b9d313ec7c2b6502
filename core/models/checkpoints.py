"""Checkpoints: ``checkpoints/<name>.pt`` (a state_dict) beside ``<name>.json`` (its record).

The record names the preset and the configuration the model was built from, the recipe, the
per-epoch history, the final test accuracy, the torch version and the SHA-256 of the .pt file,
which is checked on load. Writes are atomic (temporary file, then rename), so an interrupted run
never leaves half a checkpoint.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from core import models
from core.files import REPO_ROOT, atomic_write_bytes, file_digest
from core.i18n import _

DEFAULT_DIR = Path(os.environ.get("CNN_EXPLAINER_CHECKPOINTS", REPO_ROOT / "checkpoints"))
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# 2: every record holds ``config``, what the model is rebuilt from; one without it cannot be loaded.
FORMAT_VERSION = 2
# Each shipped checkpoint's run by name: (preset, recipe, variant), to say how to make it again when
# its record cannot be read. The trainer fills it (core.training.recipes.shipped_runs), as this
# package may not import the trainer.
SHIPPED_RUNS: dict[str, tuple[str, str, str | None]] = {}


def folder_or_default(folder: Path | str | None) -> Path:
    """``folder``, or ``DEFAULT_DIR`` as it is now (read at call time, so tests can swap it)."""
    return Path(DEFAULT_DIR if folder is None else folder)


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint's .json says, without loading its weights."""

    name: str
    folder: Path
    record: dict

    @property
    def preset(self) -> str:
        return self.record.get("preset", "?")

    @property
    def test_accuracy(self) -> float | None:
        return self.record.get("test_accuracy")

    @property
    def epochs(self) -> int:
        return len(self.record.get("history", []))

    @property
    def pt_path(self) -> Path:
        return self.folder / f"{self.name}.pt"

    @property
    def json_path(self) -> Path:
        return self.folder / f"{self.name}.json"


def validate_name(name: str) -> str:
    """A checkpoint name is a plain file stem: letters, digits, ``_ . -``, no paths."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise CheckpointError(
            _(
                "invalid checkpoint name {name}: use 1-64 letters, digits, '_', '-' or '.', "
                "starting with a letter or digit, and no folders"
            ).format(name=repr(name))
        )
    return name


def _state_bytes(state: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def train_command(name: str, preset: str, recipe: str = "fast", variant: str | None = None) -> str:
    """The command line that trains ``preset`` with ``recipe`` (and ``variant``) into ``name``."""
    if preset == models.DESIGN:
        return f"python -m core train --design NOTATION --name {name}"
    options = ([f"--recipe {recipe}"] if recipe != "fast" else []) + ([f"--variant {variant}"] if variant else [])
    return " ".join(["python -m core train", preset, *options, f"--name {name}"])


def regenerate_hint(name: str, record: dict | None = None) -> str:
    """What to run to make checkpoint ``name`` again: the run its record describes (its preset,
    recipe and variant; a class's fine-tune is made again from the class's digits); for a record
    that cannot be read, the shipped run of that name, else a training run to choose."""
    record = record or {}
    preset, recipe = record.get("preset"), record.get("recipe_name")
    if "finetune" in record:
        session = record["finetune"].get("session")
        command = "python -m core class finetune MODEL" + (f" --session {session}" if session is not None else "")
    elif preset == models.DESIGN and isinstance((record.get("config") or {}).get("notation"), str):
        command = f"python -m core train --design {json.dumps(record['config']['notation'])} --name {name}"
    elif isinstance(preset, str) and isinstance(recipe, str):
        command = train_command(name, preset, recipe, record.get("variant"))
    elif name in SHIPPED_RUNS:
        command = train_command(name, *SHIPPED_RUNS[name])
    else:
        command = train_command(name, preset if isinstance(preset, str) else "MODEL")
    return _("regenerate it with {command}").format(command=f"`{command}`")


def save(
    model: torch.nn.Module,
    name: str,
    *,
    preset: str,
    record: dict,
    folder: Path | str | None = None,
    snapshots: dict[str, dict] | None = None,
) -> CheckpointInfo:
    """Write ``<name>.pt`` (state_dict on the CPU) then ``<name>.json`` (record + SHA-256).

    ``snapshots`` (optional, e.g. one small state_dict per epoch) go to ``<name>.snapshots.pt``.
    The .json is written last, so a reader never sees a record whose weights are missing.
    """
    validate_name(name)
    folder = folder_or_default(folder)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    pt_path = folder / f"{name}.pt"
    payload = _state_bytes(state)
    full = dict(
        record,
        preset=preset,
        name=name,
        format=FORMAT_VERSION,
        torch_version=torch.__version__,
        sha256=hashlib.sha256(payload).hexdigest(),
        params=sum(p.numel() for p in model.parameters()),
    )
    config = getattr(model, "config", None)
    if dataclasses.is_dataclass(config):  # what the model was built from, so it is rebuilt as trained
        full["config"] = dataclasses.asdict(config)
    if snapshots:
        snap_payload = _state_bytes(snapshots)
        atomic_write_bytes(folder / f"{name}.snapshots.pt", snap_payload)
        full["snapshots_sha256"] = hashlib.sha256(snap_payload).hexdigest()
    atomic_write_bytes(pt_path, payload)
    atomic_write_bytes(folder / f"{name}.json", (json.dumps(full, indent=1) + "\n").encode())
    return CheckpointInfo(name, folder, full)


def read_info(name: str, folder: Path | str | None = None) -> CheckpointInfo:
    """Read ``<name>.json``; raises CheckpointError if it is missing or unreadable."""
    folder = folder_or_default(folder)
    json_path = folder / f"{validate_name(name)}.json"
    try:
        record = json.loads(json_path.read_text())
        if not isinstance(record, dict) or "preset" not in record or "sha256" not in record:
            raise ValueError("missing the 'preset' or 'sha256' field")
    except FileNotFoundError:
        raise CheckpointError(
            _("no checkpoint {path}: train one with {command}").format(
                path=json_path, command=f"`python -m core train MODEL --name {name}`"
            )
        ) from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(
            _("{path} is not a valid checkpoint record ({reason}); {hint}").format(
                path=json_path, reason=exc, hint=regenerate_hint(name)
            )
        ) from None
    return CheckpointInfo(name, folder, record)


def list_checkpoints(folder: Path | str | None = None) -> list[CheckpointInfo]:
    """Every checkpoint whose .json is readable, sorted by name (weights are not loaded)."""
    found = []
    folder = folder_or_default(folder)
    for json_path in sorted(folder.glob("*.json")):
        try:
            found.append(read_info(json_path.stem, folder))
        except CheckpointError:
            continue
    return found


def names(folder: Path | str | None = None) -> list[str]:
    """The names :func:`list_checkpoints` gives, sorted, without parsing again a record that has
    not changed since it was last read (the model pickers ask on every run of a page)."""
    folder = folder_or_default(folder)
    found = []
    for json_path in sorted(folder.glob("*.json")):
        try:
            stat = json_path.stat()
        except OSError:  # removed since the listing
            continue
        if _readable(str(folder), json_path.stem, stat.st_mtime_ns, stat.st_size):
            found.append(json_path.stem)
    return found


@functools.lru_cache(maxsize=512)
def _readable(folder: str, name: str, mtime_ns: int, size: int) -> bool:
    try:
        read_info(name, folder)
    except CheckpointError:
        return False
    return True


def best_first(preset: str, folder: Path | str | None = None) -> list[CheckpointInfo]:
    """The checkpoints of ``preset``, the highest recorded test accuracy first (one without it
    last, as if 0); equal ones in name order. A page loads the first that loads."""
    found = [info for info in list_checkpoints(folder) if info.preset == preset]
    return sorted(found, key=lambda info: info.test_accuracy or 0.0, reverse=True)


def _verified_state(path: Path, expected_sha: str, name: str, record: dict) -> dict:
    if not path.is_file():
        raise CheckpointError(
            _("weights file {path} is missing; {hint}").format(path=path, hint=regenerate_hint(name, record))
        )
    actual = file_digest(path, "sha256")
    if actual != expected_sha:
        raise CheckpointError(
            _("{path} is corrupted: its SHA-256 {actual}... does not match the record's {expected}...; {hint}").format(
                path=path, actual=actual[:12], expected=expected_sha[:12], hint=regenerate_hint(name, record)
            )
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a file with the right hash but unreadable: still say which
        raise CheckpointError(
            _("{path} cannot be read ({reason}); {hint}").format(
                path=path, reason=type(exc).__name__, hint=regenerate_hint(name, record)
            )
        ) from None


def _as_tuples(value):
    """JSON's lists back to the tuples a frozen config holds (nested: C3's table)."""
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    return value


def _config(info: CheckpointInfo) -> dict:
    """The configuration a record says its model was built from; CheckpointError naming the file
    and the command that makes it again when the record is of another format or does not say."""
    found, config = info.record.get("format"), info.record.get("config")
    if found != FORMAT_VERSION:
        raise CheckpointError(
            _(
                "{path} is a checkpoint record of format {found}; this version reads format {version} only; {hint}"
            ).format(
                path=info.json_path, found=found, version=FORMAT_VERSION, hint=regenerate_hint(info.name, info.record)
            )
        )
    if not isinstance(config, dict):
        raise CheckpointError(
            _("{path} does not say which configuration its model was built from (its 'config'); {hint}").format(
                path=info.json_path, hint=regenerate_hint(info.name, info.record)
            )
        )
    return config


def load(
    name: str, *, folder: Path | str | None = None, device: torch.device | str = "cpu"
) -> tuple[torch.nn.Module, CheckpointInfo]:
    """Rebuild the preset named in the record, load verified weights, return (model in eval, info)."""
    info = read_info(name, folder)
    config = _config(info)
    try:
        # Rebuilt from the configuration it was trained with (nanoGPT's model_args): a preset whose
        # definition changed since still loads as it was.
        model = models.build(info.preset, **_as_tuples(config))
    except models.UnknownModelError as exc:
        raise CheckpointError(
            _("{path} names an unknown model: {reason}").format(path=info.json_path, reason=exc)
        ) from None
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            _("{path} describes another architecture than {preset} ({reason}); {hint}").format(
                path=info.json_path, preset=info.preset, reason=exc, hint=regenerate_hint(name, info.record)
            )
        ) from None
    state = _verified_state(info.pt_path, info.record["sha256"], name, info.record)
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(
            _("{path} holds weights of another architecture than {preset} ({reason}); {hint}").format(
                path=info.pt_path, preset=info.preset, reason=first, hint=regenerate_hint(name, info.record)
            )
        ) from None

    return model.to(device).eval(), info


def parameter_count(info: CheckpointInfo) -> int | None:
    """How many parameters the checkpoint's model has (``sum(p.numel())``), from its record: the
    count it recorded, else its model rebuilt from its configuration (remembered per record); None
    when the record names no model this version can build."""
    recorded = info.record.get("params")
    if isinstance(recorded, int):
        return recorded
    try:
        return _parameters_of(info.preset, json.dumps(info.record.get("config") or {}, sort_keys=True))
    except (models.UnknownModelError, ValueError, TypeError):
        return None


@functools.lru_cache(maxsize=256)
def _parameters_of(preset: str, config: str) -> int:
    model = models.build(preset, **_as_tuples(json.loads(config)))
    return sum(p.numel() for p in model.parameters())


def load_snapshots(name: str, folder: Path | str | None = None) -> dict[str, dict]:
    """The per-epoch snapshots saved with a checkpoint (``{"epoch_1": state_dict, ...}``)."""
    info = read_info(name, folder)
    expected = info.record.get("snapshots_sha256")
    if not expected:
        return {}
    return _verified_state(info.folder / f"{name}.snapshots.pt", expected, name, info.record)


def resolve(name_or_path: str, folder: Path | str | None = None) -> tuple[str, Path]:
    """Accept a checkpoint name, a preset name or a path to a .pt/.json; return (name, folder)."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".pt", ".json") or candidate.parent != Path("."):
        return candidate.name.removesuffix(".json").removesuffix(".pt"), candidate.parent
    return name_or_path, folder_or_default(folder)


def load_from(name_or_path: str, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, CheckpointInfo]:
    """:func:`load` of a checkpoint given by name (``lenet5``) or by path (``checkpoints/lenet5.pt``)."""
    name, folder = resolve(name_or_path)
    return load(name, folder=folder, device=device)
