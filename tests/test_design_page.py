"""/design under AppTest: the layer math follows an edit, an impossible design is a sentence, the
design's link, the Chinese page, and the teacher's right to train. Each test is one or two runs of
the page (seconds each); nothing is trained."""

import pytest

from core.classroom import teacher
from core.models.design import parse
from tests.harness import run_page, speak_chinese

LENET5 = "conv6k5p2 bn relu max2 conv16k5 bn relu max2 flat dense120 relu dense84 relu"  # from_preset("lenet5")


def table(at):
    """The layer table, indexed by layer name."""
    return at.table[0].value.set_index(at.table[0].value.columns[0])


def texts(at) -> str:
    return " ".join(str(e.value) for e in [*at.error, *at.caption, *at.markdown, *at.warning])


def test_sixteen_filters_in_c1_show_416_parameters_and_the_change():
    at = run_page("design")
    assert not at.exception
    assert at.selectbox(key="start").value == "lenet5"
    assert at.text_input(key="net").value == LENET5
    rows = table(at)
    # C1: (5x5x1 + 1) x 6 = 156 parameters.
    assert (rows.loc["conv1", "parameters"], rows.loc["conv1", "parameters as"]) == ("156", "(5x5x1 + 1) x 6 = 156")
    assert rows.loc["conv1", "activation memory"] == "6x28x28 x 4 B = 18,816 B"  # 4,704 values x 4 bytes

    # The chosen layer's form (the first layer is chosen): 16 filters instead of 6.
    assert at.selectbox(key="design_pick").value == 0
    at.number_input(key="design_field_size").set_value(16).run()
    assert not at.exception and not at.error
    assert at.text_input(key="net").value == LENET5.replace("conv6k5p2", "conv16k5p2")
    rows = table(at)
    # (5x5x1 + 1) x 16 = 416, 260 more; conv2 then reads 16 maps: (5x5x16 + 1) x 16 = 6,416, 4,000 more.
    assert (rows.loc["conv1", "parameters"], rows.loc["conv1", "parameter change"]) == ("416", "+260")
    assert (rows.loc["conv2", "parameters"], rows.loc["conv2", "parameter change"]) == ("6,416", "+4,000")
    assert rows.loc["dense1", "parameter change"] == ""  # 400 inputs as before: unchanged
    # The total: lenet5's 61,750 + 260 + 20 (bn1: 2 x 10 more) + 4,000 = 66,030.
    metric = next(m for m in at.metric if m.label == "Trainable parameters")
    assert (metric.value, metric.delta) == ("66,030", "+4,280")


def test_an_impossible_design_is_its_sentence_and_the_page_goes_on():
    at = run_page("design")
    # Three poolings take 28 to 3: conv2's 5x5 kernel does not fit.
    at.text_input(key="net").set_value("conv6k5 max2 max2 max2 conv8k5").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["conv2: a 5x5 kernel does not fit the 3x3 map: pad by 1 or use a 3x3 kernel"]
    assert not at.table  # no layer math for a design that cannot be built
    # The stack stays editable: its layers as rows, the last one chosen in the form.
    assert at.selectbox(key="design_pick").options[-1] == "5. conv8k5"
    at.text_input(key="net").set_value("conv6k5 max2 max2 max2 conv8k3").run()
    assert not at.error and table(at).loc["conv2", "output"] == "8@1×1"  # (3 - 3) + 1 = 1


@pytest.mark.parametrize(
    ("net", "expected"),
    [
        # A good link: conv1 (5x5x1 + 1) x 16 = 416; 16x12x12 = 2,304 values into dense1: (2,304 + 1) x 64 = 147,520.
        ("conv16k5 relu max2 dense64 relu", {"conv1": "416", "dense1": "147,520"}),
        ("conv16k5 relu max2 conv8k13", "conv2: kernel size must be 1 to 9, not 13"),
    ],
    ids=["good", "bad"],
)
def test_a_designs_link(net, expected):
    at = run_page("design", {"net": net})
    assert not at.exception
    assert at.text_input(key="net").value == net
    if isinstance(expected, dict):
        assert not at.error
        rows = table(at)
        assert {name: rows.loc[name, "parameters"] for name in expected} == expected
        # conv1 is the last convolution: a unit sees its own 5x5 kernel's pixels, neighbours 1 pixel apart.
        assert "each of its units sees a 5x5 patch of the 28x28 input; neighbouring units look 1 pixel(s)" in texts(at)
    else:
        assert [e.value for e in at.error] == [expected]


def test_an_experiment_is_one_click_and_a_new_start_replaces_the_line():
    at = run_page("design")
    at.button(key="design_try_cnn_avgpool_bn").click().run()
    assert at.selectbox(key="start").value == "cnn_avgpool_bn"
    assert (
        at.text_input(key="net").value
        == parse("conv6k5 bn relu avg2 conv16k5 bn relu avg2 dense120 relu dense84 relu").notation
    )
    assert set(table(at)["parameter change"]) == {""}  # the design is its start
    # Another start in the picker replaces the line: the empty network is the output layer alone,
    # (784 + 1) x 10 = 7,850 parameters after the implied flattening.
    at.selectbox(key="start_shown").set_value("empty").run()
    assert at.text_input(key="net").value == ""
    assert table(at)["parameters"].tolist() == ["0", "7,850"]


def test_the_chinese_page(monkeypatch):
    speak_chinese(monkeypatch)
    at = run_page("design", {"lang": "zh"})
    assert not at.exception
    assert at.title[0].value == "设计你自己的网络"
    assert "参数" in at.table[0].value.columns  # parameters
    assert at.button(key="design_train").label == "训练这个设计"


def test_a_student_sees_the_train_button_disabled(monkeypatch):
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")  # the server's own machine is no teacher: a student
    at = run_page("design")
    assert not at.exception
    assert at.button(key="design_train").disabled
    assert "Only the teacher can start or stop the server's training run" in texts(at)
