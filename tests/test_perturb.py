"""core.explain.perturb: occlusion, FGSM, shifts, rotations and thickening.

Pictures are 28x28 in pixel units (0-255). Expected values: hand computations on tiny pictures,
``captum.robust.FGSM`` as the reference for FGSM, and the shipped ``checkpoints/lenet5``
for the flip test (test digit #0 is a 7).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core import models
from core.data.mnist import NORM_MEAN, NORM_STD, load_test, normalize
from core.explain import perturb
from core.models import checkpoints


@pytest.fixture(scope="module")
def lenet():
    try:
        model, _ = checkpoints.load("lenet5")
    except checkpoints.CheckpointError as exc:
        pytest.skip(f"no usable checkpoints/lenet5 ({exc}); train it with `python -m core train lenet5`")
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # as the dashboard's cached models are
    return model


@pytest.fixture(scope="module")
def digits():
    test = load_test()
    return test.images[:3].numpy(), test.labels[:3].numpy()


def dot(row: int, col: int) -> np.ndarray:
    picture = np.zeros((28, 28), dtype=np.uint8)
    picture[row, col] = 255
    return picture


# --- pictures, by hand ------------------------------------------------------------------------


def test_zero_shift_and_zero_rotation_return_the_input_unchanged(digits):
    digit = digits[0][0]
    assert np.array_equal(perturb.shifted(digit, 0, 0), digit.astype(np.float32))
    assert np.array_equal(perturb.rotated(digit, 0), digit.astype(np.float32))
    assert np.array_equal(perturb.rotated(digit, 360), digit.astype(np.float32))


def test_shift_moves_ink_right_and_down_and_drops_what_leaves():
    moved = perturb.shifted(dot(5, 5), dx=2, dy=-1)  # 2 right, 1 up: (5, 5) -> (4, 7)
    assert np.argwhere(moved).tolist() == [[4, 7]] and moved[4, 7] == 255
    assert not perturb.shifted(dot(5, 27), dx=1, dy=0).any()  # pushed out of the frame


def test_quarter_turn_is_numpys_anticlockwise_rot90():
    picture = dot(2, 20).astype(np.float32) + np.float32(7) * (np.arange(784).reshape(28, 28) % 3 == 0)
    assert np.array_equal(perturb.rotated(picture, 90), np.rot90(picture))
    # A small turn keeps the brightness roughly (bilinear), black comes in at the corners.
    digit = load_test().images[0].numpy()
    turned = perturb.rotated(digit, 15)
    assert turned.min() >= 0 and turned.max() <= 255
    assert abs(turned.sum() - digit.sum()) / digit.sum() < 0.05


def test_thickening_is_a_3x3_grey_dilation_and_grows_the_ink(digits):
    assert perturb.ink_count(perturb.thickened(dot(10, 10))) == 9  # one pixel -> a 3x3 block
    assert perturb.ink_count(perturb.thickened(dot(10, 10), 2)) == 25  # two steps -> 5x5
    assert perturb.ink_count(perturb.thickened(dot(0, 0))) == 4  # a corner: 2x2 inside the frame
    assert perturb.ink_count(perturb.thickened(dot(10, 10), -1)) == 0  # thinning erases a lone pixel
    digit = digits[0][0]
    before = perturb.ink_count(digit)
    assert perturb.ink_count(perturb.thickened(digit, 1)) > before > perturb.ink_count(perturb.thickened(digit, -1))
    # Grey dilation is a 3x3 max-pool at stride 1 (torch as the reference).
    reference = F.max_pool2d(torch.tensor(digit, dtype=torch.float32)[None, None], 3, stride=1, padding=1)[0, 0]
    assert np.array_equal(perturb.thickened(digit), reference.numpy())


def test_occluded_patch_is_cut_at_the_edge():
    white = np.full((28, 28), 255, dtype=np.uint8)
    patch = perturb.occluded(white, 26, 26, 5)  # rows/cols 26..27 only: 2 x 2 = 4 pixels
    assert (patch == 0).sum() == 4 and (patch[26:, 26:] == 0).all()
    assert (perturb.occluded(white, 3, 4, 2, fill=100) == 100).sum() == 4
    with pytest.raises(ValueError, match="0..255"):
        perturb.occluded(white, 0, 0, 3, fill=-0.42)  # a normalised value is not a brightness


def test_a_normalised_tensor_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="0..255"):
        perturb.as_picture(normalize(torch.zeros(1, 28, 28, dtype=torch.uint8)))
    assert perturb.as_picture(torch.zeros(1, 1, 28, 28)).shape == (28, 28)


# --- what the network says ------------------------------------------------------------------


def test_covering_the_whole_digit_with_black_equals_an_all_black_input(lenet, digits):
    covered = perturb.occlude(lenet, digits[0][0], 0, 0, 28)
    black = perturb.probabilities(lenet, np.zeros((28, 28), dtype=np.uint8))
    assert np.array_equal(covered.probabilities, black)
    # ... and the same as the model run directly on normalised black.
    with torch.inference_mode():
        direct = torch.softmax(lenet(normalize(torch.zeros(1, 28, 28, dtype=torch.uint8))).double(), 1)[0]
    np.testing.assert_allclose(black, direct.numpy(), atol=1e-12)
    assert covered.probabilities.sum() == pytest.approx(1.0)


def test_small_transformations_report_their_effect(lenet, digits):
    digit, label = digits[0][0], int(digits[1][0])
    effects = perturb.transformations(lenet, digit, shifts=((0, 0), (-2, 0)), angles=(0.0, 10.0), thicken_steps=(0, 1))
    assert [e.label for e in effects] == [
        "shift 0 px",
        "shift left 2 px",
        "rotate 0°",
        "rotate +10° (anticlockwise)",
        "thicken by 0 px",
        "thicken by 1 px",
    ]
    clean = perturb.outcome(lenet, digit)
    assert clean.prediction == label == 7
    for effect in (effects[0], effects[2], effects[4]):  # the identity transformations
        np.testing.assert_allclose(effect.outcome.probabilities, clean.probabilities, atol=1e-6)


# --- FGSM -------------------------------------------------------------------------------------


def test_fgsm_equals_captum_fgsm_on_the_normalised_input(lenet, digits):
    from captum.robust import FGSM

    mean, std = NORM_MEAN, NORM_STD
    digit = digits[0][0]
    label, epsilon = perturb.outcome(lenet, digit).prediction, 0.1
    ours = perturb.fgsm(lenet, digit, epsilon).outcome.picture
    # Captum ignores gradient entries below 1e-6: a positive factor on the loss keeps the signs
    # and lifts them all above it.
    attack = FGSM(
        lenet,
        loss_func=lambda out, t: 1e12 * F.cross_entropy(out.double(), t, reduction="none"),
        lower_bound=(0 - mean) / std,
        upper_bound=(1 - mean) / std,
    )
    x = normalize(torch.from_numpy(digit)[None]).requires_grad_(True)
    theirs = ((attack.perturb(x, epsilon / std, torch.tensor([label])) * std + mean) * 255)[0, 0].detach().numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-3)
    assert np.abs(ours - digit).max() == pytest.approx(25.5, abs=1e-3)  # 0.1 x 255 levels


def test_fgsm_flips_a_test_digit_within_the_epsilon_it_reports(lenet, digits):
    digit = digits[0][0]
    search = perturb.smallest_flip(lenet, digit, max_epsilon=0.3, grid=30, tolerance=0.002)
    assert search.epsilon is not None, f"no flip up to 0.3: tried {search.tried}"
    assert search.label == 7 and 0 < search.epsilon <= 0.3
    again = perturb.fgsm(lenet, digit, search.epsilon)
    assert again.flipped and again.outcome.prediction != 7
    assert again.outcome.prediction == search.adversarial.outcome.prediction
    assert np.abs(again.change).max() <= 255 * search.epsilon + 1e-3
    # Smallest: every epsilon tried below the reported one kept the 7.
    below = [prediction for epsilon, prediction in search.tried if epsilon < search.epsilon]
    assert below and all(p == 7 for p in below)
    print(f"test digit #0: FGSM flips 7 -> {again.outcome.prediction} at epsilon {search.epsilon:.4f}")


def test_no_flip_within_a_tiny_budget_is_reported_as_none(lenet, digits):
    search = perturb.smallest_flip(lenet, digits[0][0], max_epsilon=0.002, grid=2)
    assert search.epsilon is None and search.adversarial is None and len(search.tried) == 2


def test_nothing_is_changed_in_the_model():
    torch.manual_seed(0)
    model = models.build("lenet5")  # training mode, parameters requiring grad: the worst case
    before = {k: v.clone() for k, v in model.state_dict().items()}
    digit = load_test().images[1].numpy()
    perturb.fgsm(model, digit, 0.05)
    perturb.smallest_flip(model, digit, max_epsilon=0.05, grid=3)
    perturb.occlude(model, digit, 10, 10, 6)
    perturb.transformations(model, digit)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BatchNorm statistics included
    assert model.training and all(p.grad is None and p.requires_grad for p in model.parameters())


# --- patch_box: the pixels an occlusion patch covers, the box the lab draws around it, and the
# very pixels ``occluded`` blackens; by hand ----------------------------------------------------


@pytest.mark.parametrize(
    "row, col, size, box",
    [
        (11, 11, 6, (11, 11, 16, 16)),  # the lab's default: rows and columns 11..16, all inside
        (26, 20, 5, (26, 20, 27, 24)),  # rows 26..30 cut at the last row, 27
        (0, 0, 28, (0, 0, 27, 27)),  # the whole picture
        (-2, 3, 4, (0, 3, 1, 6)),  # rows -2..1: only 0 and 1 are on the picture
        (27, 27, 14, (27, 27, 27, 27)),  # the lab's largest patch in its corner: one pixel
    ],
)
def test_patch_box_by_hand(row, col, size, box):
    assert perturb.patch_box(row, col, size) == box


def test_a_patch_off_the_picture_covers_nothing():
    assert perturb.patch_box(28, 5, 3) is None and perturb.patch_box(-5, 5, 3) is None  # rows 28..30, -5..-3


@pytest.mark.parametrize("row, col, size", [(11, 11, 6), (26, 20, 5), (-2, 3, 4), (28, 5, 3)])
def test_occluded_blackens_exactly_the_box(row, col, size):
    white = np.full((28, 28), 255, dtype=np.uint8)
    black = perturb.occluded(white, row, col, size) == 0
    expected = np.zeros((28, 28), dtype=bool)
    box = perturb.patch_box(row, col, size)
    if box is not None:
        top, left, bottom, right = box
        expected[top : bottom + 1, left : right + 1] = True
    assert np.array_equal(black, expected)
