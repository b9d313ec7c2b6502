"""Training a designed network: ``python -m core train --design`` (in-process) and a run of the
server's job manager, into temporary folders, on 1,000-2,000 images; the checkpoint records the
notation, is rebuilt from it, and is named in every picker."""

from __future__ import annotations

import json

import pytest
import torch

from core import models
from core.__main__ import main
from core.models import checkpoints
from core.models.design import checkpoint_name, parse
from core.training import names, recipes
from core.training.jobs import group as run_group
from core.training.jobs import runner
from core.training.jobs.spec import JobInputError, prepare
from core.training.jobs.state import FINISHED

SMALL = "conv8k5 relu max2 conv16k3 relu max2 dense32 relu"  # written without its flattening


@pytest.fixture(autouse=True)
def own_jobs_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(run_group, "JOBS_DIR", tmp_path / "jobs")


def _n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_the_command_trains_a_design_and_its_checkpoint_rebuilds_from_the_notation(tmp_path, capsys):
    code = main(["train", "--design", SMALL, "--epochs", "1", "--limit", "1000", "--folder", str(tmp_path), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    canonical = parse(SMALL).notation  # the flattening written in: a CNN's notation shows it
    assert canonical == "conv8k5 relu max2 conv16k3 relu max2 flat dense32 relu"
    name = checkpoint_name(parse(SMALL))
    assert out["name"] == name and out["notation"] == canonical and out["model"] == models.DESIGN
    # by hand: conv1 (5x5x1+1)x8 = 208, conv2 (3x3x8+1)x16 = 1,168, 28-4=24 -> 12 -> 10 -> 5:
    # dense1 (16x5x5+1)x32 = 12,832, output (32+1)x10 = 330
    assert out["params"] == 208 + 1168 + 12832 + 330 == 14538
    model, info = checkpoints.load(name, folder=tmp_path)
    assert info.preset == models.DESIGN and info.record["config"] == {"notation": canonical}
    assert info.record["params"] == _n_params(model) == 14538
    assert info.record["recipe"]["limit"] == 1000 and len(info.record["history"]) == 1
    assert checkpoints.parameter_count(info) == 14538
    # the same weights as trained: its predictions are the model's own
    x = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert model(x).shape == (3, 10)


def test_the_command_refuses_an_impossible_design_in_one_line_and_writes_nothing(tmp_path, capsys):
    code = main(["train", "--design", "conv6k5 max2 conv16k5 max2 conv32k5", "--folder", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("conv3: a 5x5 kernel does not fit the 4x4 map: pad by 1 or use a 3x3 kernel")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    assert main(["train", "lenet5", "--design", SMALL, "--folder", str(tmp_path)]) == 2


def test_the_design_recipe_is_fast_only_and_a_run_of_seconds():
    recipe = recipes.get_recipe(models.DESIGN)
    assert (recipe.epochs, recipe.limit, recipe.optimizer) == (1, 12000, "adamw")
    with pytest.raises(recipes.RecipeError):
        recipes.get_recipe(models.DESIGN, "seed")


def test_a_server_run_of_a_design_saves_its_notation_nickname_and_start(tmp_path):
    design = parse("conv6k5p2 relu max2 dense64 relu")
    spec = prepare(
        models.DESIGN,
        "fast",
        name=checkpoint_name(design),
        overrides={"epochs": 1, "limit": 2000},
        config={"notation": "conv6k5p2  RELU max2 dense64 relu"},  # recorded canonical
        record={"nickname": "Ada\n**bold** [x](http://y)", "started_from": "lenet5"},
        folder=tmp_path,
        test_limit=500,
    )
    job = runner.JobManager().start(spec)
    assert job.wait(120)
    assert job.snapshot().status == FINISHED, job.snapshot().message
    info = checkpoints.read_info(checkpoint_name(design), tmp_path)
    assert info.record["config"] == {"notation": design.notation}
    assert info.record["nickname"] == "Ada **bold** [x](http://y)"  # one line, kept as typed: shown as plain text
    assert info.record["started_from"] == "lenet5"
    # (5x5x1+1)x6 = 156; 28 -> pool 14: (6x14x14+1)x64 = 75,328; (64+1)x10 = 650
    assert info.record["params"] == 156 + 75328 + 650
    named = names.name_of(info)
    assert named.title == "Ada **bold** [x](http://y)'s design"
    assert named.line.startswith("flat dense64 relu".join(["conv6k5p2 relu max2 ", ""]))
    assert named.group == "trained here"


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"notation": "conv6k5 max2 conv16k5 max2 conv32k5"}, "conv3: a 5x5 kernel does not fit the 4x4 map"),
        ({"notation": "conv64k3p1 dense1024"}, "over this machine's cap of 5,000,000"),
        ({"layers": 3}, "design has no setting layers"),
    ],
)
def test_a_design_that_cannot_be_built_is_refused_before_anything_starts(tmp_path, config, said):
    with pytest.raises(JobInputError, match=said):
        prepare(models.DESIGN, "fast", name="d", config=config, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_refusal_to_start_is_said_in_chinese(tmp_path, in_chinese):
    with pytest.raises(JobInputError) as caught:
        prepare(
            models.DESIGN, "fast", name="d", config={"notation": "conv6k5 max2 conv16k5 max2 conv32k5"}, folder=tmp_path
        )
    said = str(caught.value)  # the design's own sentence, kept as its template: said in the reader's language
    assert said.startswith("conv3") and "卷积核" in said and "4x4" in said


def test_a_damaged_design_checkpoint_says_how_to_make_it_again(tmp_path):
    design = parse(SMALL)
    model = models.build(models.DESIGN, notation=design.notation)
    checkpoints.save(model, "mine", preset=models.DESIGN, record={}, folder=tmp_path)
    (tmp_path / "mine.pt").write_bytes(b"not torch")
    with pytest.raises(checkpoints.CheckpointError, match="python -m core train --design") as caught:
        checkpoints.load("mine", folder=tmp_path)
    assert json.dumps(design.notation) in str(caught.value)
    record = json.loads((tmp_path / "mine.json").read_text())
    record["config"] = {"notation": "conv6k5 max2 conv16k5 max2 conv32k5"}
    (tmp_path / "mine.json").write_text(json.dumps(record))
    with pytest.raises(checkpoints.CheckpointError, match="conv3: a 5x5 kernel"):
        checkpoints.load("mine", folder=tmp_path)
