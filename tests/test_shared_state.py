"""A server process shares its models and torch's random state between threads (every student's
session and a training run): nothing under a page may change them.

- No code outside the trainer reseeds or rewinds torch's global generator (read from the source).
- A model every session shares is byte-for-byte and mode-for-mode the checkpoint it was loaded
  from after every page has run on it, with every option that computes something.
- A seeded training run gives the same weights, to the bit, alone and while other threads open
  /architecture and the sanity check many times.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.data.mnist import load_test
from core.models import checkpoints, inference
from core.training.jobs import runner
from core.training.jobs.spec import prepare
from core.training.jobs.state import FINISHED
from tests.harness import ROOT, needs_lenet5, run_page

# core/training/bench.py runs seed 004's DataLoader loop as written, in the command line's own process.
OWN_PROCESS = {"core/training/bench.py"}
GLOBAL_RNG = re.compile(r"torch\.(manual_seed|seed|set_rng_state)\(|fork_rng|torch\.random\.(manual_seed|seed)\(")


def fingerprint(model: torch.nn.Module) -> str:
    """A digest of everything a page could change on a shared model: every tensor of its
    state_dict, every module's training flag and hooks, every parameter's requires_grad."""
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    for name, module in model.named_modules():
        hooks = (
            len(module._forward_hooks),
            len(module._forward_pre_hooks),
            len(module._backward_hooks),
            len(module._backward_pre_hooks),
        )
        digest.update(f"{name}:{module.training}:{hooks}".encode())
    for name, parameter in model.named_parameters():
        digest.update(f"{name}:{parameter.requires_grad}".encode())
    return digest.hexdigest()


def test_no_code_outside_the_trainer_touches_torchs_global_generator():
    offenders = []
    for folder in ("core", "dashboard", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if str(path.relative_to(ROOT)) in OWN_PROCESS:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if GLOBAL_RNG.search(line.split("#")[0]):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_predict_batch_reads_a_model_in_training_mode_without_switching_it():
    model = checkpoints.load("lenet5")[0] if (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file() else None
    if model is None:
        pytest.skip("no checkpoints/lenet5.pt")
    images = load_test().images[:64]
    expected = inference.predict_batch(model.eval(), images)  # the reference: eval mode
    model.train()
    before = fingerprint(model)
    got = inference.predict_batch(model, images)
    assert fingerprint(model) == before and model.training
    assert torch.allclose(got, expected)


def every_page_with_everything_on() -> list[str]:
    """Run every page through dashboard/app.py with the options that compute on a shared model;
    returns the checkpoint names the pages loaded."""
    seven = np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))
    runs = [
        (
            "draw",
            {
                "draw_compare": True,
                "draw_sanity": True,
                "draw_rf": True,
                "draw_lab": True,
                "draw_methods": [
                    "saliency",
                    "integrated_gradients",
                    "input_x_gradient",
                    "guided_backprop",
                    "deeplift",
                    "grad_cam",
                    "occlusion",
                ],
            },
        ),
        ("draw", {"draw_lab": True, "lab_tab": "Adversarial nudge (FGSM)"}),
        ("draw", {"draw_lab": True, "lab_tab": "Shift, rotate, thicken"}),
        ("draw", {"draw_model": "lenet5_1998", "draw_sanity": True, "draw_rf": True}),
        ("architecture", {"arch_model": "lenet5"}),
        ("architecture", {"arch_model": "lenet5_1998"}),
        ("training", {"training_tab": "Confusion matrix", "cm_model": "lenet5"}),
        ("training", {"training_tab": "Gallery", "gal_model": "lenet5"}),
        ("training", {"training_tab": "Training scrubber"}),
        ("convolution", {"conv_kernel": "LeNet-5 C1 kernel 1"}),
        ("dataset", {}),
        ("home", {}),
    ]
    for page, state in runs:
        at = run_page(page, timeout=300, draw_image_override=seven, **state)
        assert not at.exception, (page, at.exception)
        assert not [e.value for e in at.error if "could not be shown" in e.value], page
    return ["lenet5", "lenet5_1998"]


@needs_lenet5
def test_every_page_leaves_the_shared_models_as_they_were_loaded():
    from dashboard.frame import shared_models  # the cache every session shares: st.cache_resource, process-wide

    names = every_page_with_everything_on()
    for name in names:
        shared, _ = shared_models.load_model(name)  # the very object the pages used
        fresh, _ = checkpoints.load(name)
        for parameter in fresh.parameters():
            parameter.requires_grad_(False)  # as shared_models.load_model leaves it
        assert fingerprint(shared) == fingerprint(fresh), name


def seeded_run(folder: Path, name: str) -> dict[str, torch.Tensor]:
    """A seeded training job through core.training.jobs.runner (keras_cnn_small: it has dropout too), its weights."""
    spec = prepare(
        "keras_cnn_small",
        "fast",
        name=name,
        folder=folder,
        test_limit=200,
        overrides=dict(epochs=1, limit=1500, batch_size=100, seed=11),
    )
    job = runner.JobManager().start(spec)
    assert job.wait(300), "the training job did not finish in 5 minutes"
    assert job.snapshot().status == FINISHED, job.snapshot().message
    return checkpoints.load(name, folder=folder)[0].state_dict()


@needs_lenet5
def test_a_seeded_run_is_the_same_to_the_bit_while_pages_draw_random_numbers(tmp_path):
    from core import models
    from core.data.preprocess import from_array
    from core.explain import attributions

    alone = seeded_run(tmp_path, "alone")
    model, _ = checkpoints.load("lenet5")
    x = from_array(np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))).tensor
    done = threading.Event()
    failures: list[BaseException] = []

    def busy(work) -> None:
        try:
            while not done.is_set():
                work()
        except BaseException as exc:  # reported below: a failing thread must fail the test
            failures.append(exc)
            done.set()

    def open_architecture() -> None:
        at = AppTest.from_file(str(ROOT / "pages" / "architecture.py"), default_timeout=120).run()
        assert not at.exception, at.exception

    workers = [
        threading.Thread(target=busy, args=(open_architecture,)),
        threading.Thread(
            target=busy,
            args=(lambda: attributions.attribute_many(model, x, ["saliency", "grad_cam"], 7, sanity_random=True),),
        ),
        threading.Thread(target=busy, args=(lambda: (models.build("keras_cnn_small"), torch.rand(500)),)),
    ]
    for worker in workers:
        worker.start()
    try:
        beside = seeded_run(tmp_path, "beside")
    finally:
        done.set()
        for worker in workers:
            worker.join(120)
    assert not failures, failures
    for key, value in alone.items():
        assert torch.equal(value, beside[key]), key
