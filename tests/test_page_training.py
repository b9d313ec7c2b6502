"""/training: the form, its refusals, the live panel of a run, the result tabs; one run in a browser.

AppTest tests never start a run that saves into checkpoints/: runs they show are started
through core.jobs into a temporary folder, and the form is only submitted with bad input or
while another run is busy.
"""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, open_page, screenshot, start_streamlit, wait_idle
from core import checkpoints, jobs

PAGE = str(ROOT / "pages" / "training.py")
TINY = dict(epochs=1, limit=2000, batch_size=100)
SHIPPED = checkpoints.DEFAULT_DIR


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


@pytest.fixture
def at():
    app = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not app.exception
    return app


@pytest.fixture
def no_job_running():
    job = jobs.manager().current()
    if job is not None:
        job.stop()
        job.wait(60)
    yield
    job = jobs.manager().current()
    if job is not None and job.running:
        job.stop()
        job.wait(60)


def test_form_defaults_follow_the_chosen_recipe(at, no_job_running):
    assert [t.label for t in at.tabs] == ["Train a model", "Compare runs", "Confusion matrix", "Gallery",
                                          "Training scrubber"]
    # lenet5's fast recipe (core.recipes): AdamW lr 1e-2, batch 256, 3 epochs, all 60,000 images.
    s = at.session_state
    assert (s.tr_epochs, s.tr_batch, s.tr_optimizer, s.tr_lr, s.tr_limit, s.tr_name) == \
        (3, 256, "adamw", "0.01", 60_000, "my_lenet5")
    assert at.button(key="tr_start").label == "Start training"
    at.selectbox(key="tr_preset").set_value("cnn_avgpool").run()
    at.segmented_control(key="tr_recipe").set_value("seed").run()
    # seed 000: SGD lr 1e-3, batch 512, 50 epochs.
    s = at.session_state
    assert (s.tr_epochs, s.tr_batch, s.tr_optimizer, s.tr_lr, s.tr_name) == (50, 512, "sgd", "0.001",
                                                                             "my_cnn_avgpool_seed")
    assert "seed 000" in texts(at.caption)


BAD_INPUT = [
    ("tr_lr", "abc", "must be a number"),
    ("tr_lr", "0", "positive number"),
    ("tr_lr", "-0.01", "positive number"),
    ("tr_lr", "nan", "positive number"),
    ("tr_lr", "1e6", "absurd"),
    ("tr_epochs", 0, "at least 1"),
    ("tr_batch", 5000, "larger than the 2,000 training images"),
    ("tr_name", "../escape", "invalid checkpoint name"),
]


def test_bad_input_shows_a_message_and_starts_nothing(at, no_job_running):
    before = jobs.manager().current()
    valid = {"tr_lr": "0.01", "tr_epochs": 1, "tr_batch": 100, "tr_name": "my_lenet5"}
    for field, value, message in BAD_INPUT:
        at.number_input(key="tr_limit").set_value(2000)
        for key, good in valid.items():  # only the one field under test is bad
            (at.text_input(key=key) if key in ("tr_lr", "tr_name") else at.number_input(key=key)).set_value(good)
        widget = at.text_input(key=field) if field in ("tr_lr", "tr_name") else at.number_input(key=field)
        widget.set_value(value)
        at.button(key="tr_start").click().run()
        assert not at.exception
        assert message in texts(at.error), (field, value, texts(at.error))
        assert jobs.manager().current() is before


@pytest.mark.skipif(not (SHIPPED / "lenet5.json").exists(), reason="needs the shipped lenet5 checkpoint")
def test_a_shipped_name_asks_for_confirmation(at, no_job_running):
    at.text_input(key="tr_name").set_value("lenet5").run()
    assert "is a shipped checkpoint" in texts(at.warning)
    assert at.checkbox(key="tr_overwrite:lenet5").label == "Yes, replace lenet5"
    before = jobs.manager().current()
    at.button(key="tr_start").click().run()  # not ticked: refused
    assert "confirm to replace it" in texts(at.error) and jobs.manager().current() is before


def test_live_panel_of_a_running_then_a_finished_run(tmp_path, no_job_running):
    spec = jobs.prepare("lenet5", "fast", name="slow", overrides={**TINY, "epochs": 50, "batch_size": 10},
                        folder=tmp_path, test_limit=200)
    job = jobs.manager().start(spec)
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.run()
    assert not app.exception
    assert len(app.get("progress")) == 1 and app.button(key="tr_stop").label == "Stop"
    assert "Run " in texts(app.subheader) and "slow" in texts(app.subheader)
    app.button(key="tr_start").click().run()  # a second start while one runs
    assert "already in progress" in texts(app.warning) and jobs.manager().current() is job
    app.button(key="tr_stop").click().run()
    assert job.wait(60) and job.snapshot().status == jobs.STOPPED
    app.run()
    assert "Stopped" in texts(app.warning) and "saved as 'slow'" in texts(app.warning)
    assert len(app.get("plotly_chart")) == 1  # the curves of what ran
    assert (tmp_path / "slow.pt").exists()


def test_choices_survive_a_tab_switch(at, no_job_running):
    # Hidden tabs are not drawn; persist_state keeps their widgets' values meanwhile.
    at.number_input(key="tr_epochs").set_value(7).run()
    at.session_state["training_tab"] = "Compare runs"
    at.run()
    at.session_state["training_tab"] = "Train a model"
    at.run()
    assert not at.exception and at.number_input(key="tr_epochs").value == 7


@pytest.mark.skipif(not (SHIPPED / "lenet5.json").exists(), reason="needs the shipped lenet5 checkpoint")
def test_result_tabs_draw_for_lenet5(at):
    at.session_state["training_tab"] = "Confusion matrix"
    at.run()
    assert not at.exception
    assert "answers" in texts(at.markdown) and "Most common mistakes" in texts(at.markdown)
    true_d, pred_d = at.selectbox(key="cm_true").value, at.selectbox(key="cm_pred").value
    assert true_d != pred_d  # defaults to the largest mistake
    at.selectbox(key="cm_pred").set_value(true_d).run()
    assert "correctly recognised" in texts(at.markdown)
    at.session_state["training_tab"] = "Gallery"
    at.run()
    assert not at.exception
    colored = [m.value for m in at.markdown if m.value.startswith((":green-badge[", ":red-badge["))]
    assert len(colored) == 10  # ten test images, each green (right) or red (wrong)
    at.session_state["training_tab"] = "Training scrubber"
    at.run()
    assert not at.exception
    if "lenet5" in [s for s in at.selectbox(key="scrub_model").options]:
        assert "First-layer feature maps" in texts(at.markdown)
    at.session_state["training_tab"] = "Compare runs"
    at.run()
    assert not at.exception and len(at.dataframe) == 1


# --- in a browser --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def training_server(tmp_path_factory):
    """A server of its own whose checkpoint folder is a temporary copy (so the run saves there)."""
    folder = tmp_path_factory.mktemp("checkpoints")
    for path in SHIPPED.glob("lenet5.*"):
        shutil.copy(path, folder / path.name)
    server = start_streamlit(env={"CNN_EXPLAINER_CHECKPOINTS": str(folder)})
    server.folder = folder
    yield server
    server.stop()


def set_field(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    wait_idle(page)


@pytest.mark.browser
def test_browser_trains_for_one_epoch_and_saves(training_server, browser_page):
    browser_page.set_viewport_size({"width": 1400, "height": 1700})
    open_page(browser_page, training_server.url + "/training")
    assert browser_page.locator("[data-testid='stException']").count() == 0
    set_field(browser_page, "Epochs", "1")
    set_field(browser_page, "Training images", "2000")
    set_field(browser_page, "Batch size", "50")  # 40 steps: progress every 10 gives a 4-point curve
    set_field(browser_page, "Save as (checkpoint name)", "browser_run")
    browser_page.get_by_role("button", name="Start training").click()
    # Visible checks wait for their text: on a busy machine a rerun may start after wait_idle's pause.
    browser_page.get_by_text("saved as 'browser_run'").wait_for(timeout=90_000)
    wait_idle(browser_page)
    browser_page.locator("[data-testid='stPlotlyChart'] .scatterlayer").first.wait_for(timeout=30_000)
    screenshot(browser_page, "training")
    info = checkpoints.read_info("browser_run", training_server.folder)
    assert info.record["recipe"]["limit"] == 2000 and info.record["recipe"]["batch_size"] == 50
    assert len(info.record["history"]) == 1
    # The new checkpoint is in the other tabs' pickers without a restart (and shown first there).
    browser_page.get_by_role("tab", name="Confusion matrix").click()
    browser_page.get_by_text("browser_run answers").wait_for(timeout=60_000)
    wait_idle(browser_page)
    # A click on the cell (true 3, predicted 5) selects it: invisible markers sit over the cells.
    drag = browser_page.locator("[data-testid='stPlotlyChart'] .nsewdrag").first
    drag.wait_for(timeout=30_000)
    area = drag.bounding_box()
    browser_page.mouse.click(area["x"] + area["width"] * 5.5 / 10, area["y"] + area["height"] * 3.5 / 10)
    browser_page.get_by_text("3s misclassified as 5").wait_for(timeout=30_000)
    wait_idle(browser_page)
    browser_page.mouse.move(0, 0)  # no tooltip in the picture
    screenshot(browser_page, "training_confusion")
    assert browser_page.locator("[data-testid='stException']").count() == 0
    assert not (SHIPPED / "browser_run.json").exists()
