"""core.training.snapshots: torch as the reference for the first convolution's maps, hand-set weights for
the probability trail, every image by hand for the digit learned late."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core import models
from core.data import mnist
from core.training import recipes
from core.training import snapshots as sn
from core.training.train import train


@pytest.mark.parametrize(
    "preset, shape",
    [
        ("lenet5", (6, 28, 28)),
        ("keras_cnn_small", (32, 28, 28)),
        ("cnn_avgpool", (6, 24, 24)),
        ("lenet5_1998", (6, 28, 28)),
    ],
)
def test_first_conv_maps_equal_torch_conv2d(preset, shape):
    torch.manual_seed(1)
    model = models.build(preset).eval()
    image = mnist.load_test().images[0]  # a 7
    first = sn.first_conv_maps(model, image.numpy())
    conv = model.get_submodule(first.name)
    x = mnist.normalize(image[None])
    if preset == "lenet5_1998":  # the paper's 32x32 input: the 28x28 digit padded by 2 (of black)
        x = F.pad(x, (2, 2, 2, 2), value=float(x.min()))
    with torch.no_grad():
        reference = F.conv2d(x, conv.weight, conv.bias, padding=conv.padding)[0]
        probs = torch.softmax(model(mnist.normalize(image[None])), 1)[0]
    assert first.maps.shape == shape and isinstance(conv, torch.nn.Conv2d)
    np.testing.assert_allclose(first.maps, reference.numpy(), atol=1e-5)
    np.testing.assert_allclose(first.probabilities, probs.numpy(), atol=1e-6)
    assert not conv._forward_hooks  # the model itself was never hooked


def test_mlp_has_no_first_conv_maps():
    with pytest.raises(ValueError, match="no convolution"):
        sn.first_conv_maps(models.build("mlp_128"), np.zeros((28, 28), np.uint8))


def test_snapshots_by_epoch_number():
    torch.manual_seed(2)
    a, b = models.build("lenet5").state_dict(), models.build("lenet5").state_dict()
    snaps = {"epoch_10": b, "epoch_2": a, "other": {}}
    assert sn.snapshot_epochs(snaps) == [2, 10]  # numeric, not "10" < "2"
    model = sn.model_at_epoch("lenet5", snaps, 10)
    assert torch.equal(model.state_dict()["features.conv1.weight"], b["features.conv1.weight"])
    assert not model.training
    with pytest.raises(KeyError, match="epoch 3"):
        sn.model_at_epoch("lenet5", snaps, 3)


def test_learned_late_picks_the_largest_gain_among_right_answers():
    torch.manual_seed(3)
    untrained = models.build("lenet5").state_dict()
    recipe = recipes.get_recipe("lenet5", "fast").with_overrides(epochs=1, limit=1000, batch_size=100)
    trained = train("lenet5", recipe, test_limit=100).model.state_dict()
    snaps = {"epoch_1": untrained, "epoch_2": trained}
    index = sn.learned_late("lenet5", snaps, limit=200)
    # Reference: every one of the 200 images by hand, with the two models run directly.
    test = mnist.load_test()
    x, y = mnist.normalize(test.images[:200]), test.labels[:200]
    with torch.no_grad():
        p1, p2 = (torch.softmax(sn.model_at_epoch("lenet5", snaps, e)(x), 1) for e in (1, 2))
    gains = [(float(p2[i, y[i]] - p1[i, y[i]]), i) for i in range(200) if int(p2[i].argmax()) == int(y[i])]
    assert index == max(gains)[1]
    assert int(p2[index].argmax()) == int(y[index])  # right at the end


def snapshot_answering(probability_of_7: float) -> dict:
    """lenet5 weights whose answer ignores the image: fc3's weights zero, so its logits are its bias;
    a bias of ln(9p / (1 - p)) for 7 and 0 for the nine others gives 7 the probability p."""
    torch.manual_seed(4)
    state = models.build("lenet5").state_dict()
    state["classifier.fc3.weight"] = torch.zeros_like(state["classifier.fc3.weight"])
    bias = torch.zeros(10)
    bias[7] = float(np.log(9 * probability_of_7 / (1 - probability_of_7)))
    state["classifier.fc3.bias"] = bias
    return state


def test_probability_trail_by_hand():
    # Saved out of order (and with a key that is no epoch): the trail follows epochs 1, 2, 10.
    # Epoch 1: bias 0 everywhere, an even guess: 1/10. Epoch 2: ln 9 for 7: 9 / (9 + 9) = 0.5.
    # Epoch 10: ln 81: 81 / (81 + 9) = 0.9. The image does not matter to these weights.
    snaps = {
        "epoch_10": snapshot_answering(0.9),
        "epoch_1": snapshot_answering(0.1),
        "epoch_2": snapshot_answering(0.5),
        "other": {},
    }
    image = mnist.load_test().images[0]
    assert sn.probability_trail("lenet5", snaps, image, 7) == pytest.approx([0.1, 0.5, 0.9], abs=1e-6)
    # Any other digit shares what is left evenly: (1 - p) / 9.
    assert sn.probability_trail("lenet5", snaps, image, 3) == pytest.approx([0.1, 0.5 / 9, 0.1 / 9], abs=1e-6)


def test_probability_trail_is_what_the_scrubber_shows_after_each_epoch():
    torch.manual_seed(5)
    snaps = {f"epoch_{e}": models.build("lenet5").state_dict() for e in (1, 2, 3)}
    image = mnist.load_test().images[1]  # a 2
    shown = [sn.first_conv_maps(sn.model_at_epoch("lenet5", snaps, e), image).probabilities[2] for e in (1, 2, 3)]
    assert sn.probability_trail("lenet5", snaps, image, 2) == pytest.approx(shown, abs=1e-6)
