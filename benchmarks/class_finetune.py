"""How long fine-tuning on a class's digits takes (PERFORMANCE.md, "Fine-tuning on the class's digits").

300 digits drawn by code in a hand unlike MNIST's (``tests/class_hand.py``: 30 of each label) go
into a fresh class store; then ``python -m core class finetune lenet5 --json`` runs on a copy of
the shipped lenet5 with its default steps and mix, and the figures it prints are reported with
the command's wall time. Nothing outside a temporary folder is written.

    .venv/bin/python -m benchmarks.class_finetune [--per-label 30] [--model lenet5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.classroom.store import ClassStore
from serve.streamlit_process import ROOT
from tests.class_hand import fill_store, scripted_class


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=30, help="class digits of each label (default 30: 300)")
    parser.add_argument("--model", default="lenet5", help="the shipped checkpoint to fine-tune")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images, labels = scripted_class(per_label=args.per_label, seed=0)
        fill_store(ClassStore(tmp / "class.sqlite"), images, labels)
        folder = tmp / "checkpoints"
        folder.mkdir()
        for suffix in (".pt", ".json"):
            shutil.copy(ROOT / "checkpoints" / f"{args.model}{suffix}", folder)
        env = {**os.environ, "CNN_EXPLAINER_CLASS_DB": str(tmp / "class.sqlite")}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "core", "class", "finetune", args.model, "--json", "--folder", str(folder)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stderr.strip() or done.stdout.strip(), file=sys.stderr)
        return 1
    result = json.loads(done.stdout)
    mix = result["mix"]
    print(
        f"{args.model} fine-tuned on {result['train_digits']} of {result['class_digits']} class digits "
        f"({result['held_out']} held out): {result['steps']} steps of batch {mix['batch_size']} "
        f"({mix['class_per_batch']} class + {mix['mnist_per_batch']} MNIST), lr {result['lr']:g}"
    )
    print(f"  held-out class digits: {result['class']['before']:.2%} -> {result['class']['after']:.2%}")
    print(f"  MNIST test: {result['mnist']['before']:.2%} -> {result['mnist']['after']:.2%}")
    print(f"  fine-tuning {result['seconds']:.1f} s; the whole command {wall:.1f} s (target: under 30 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
