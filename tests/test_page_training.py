"""/training: the form, its refusals, the live panel of a run, the result tabs; one run in a browser.

AppTest tests never start a run that saves into checkpoints/: runs they show are started
through core.training.jobs.runner into a temporary folder, and the form is only submitted with bad input or
while another run is busy.
"""

import dataclasses
import shutil
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.classroom import teacher
from core.models import checkpoints
from core.training import confusion
from core.training.jobs import runner
from core.training.jobs.spec import prepare
from core.training.jobs.state import RUNNING, STOPPED, JobSnapshot
from dashboard.training import figures as figs
from tests.harness import ROOT, open_page, run_page, screenshot, start_streamlit, wait_idle

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
    job = runner.manager().current()
    if job is not None:
        job.stop()
        job.wait(60)
    yield
    job = runner.manager().current()
    if job is not None and job.running:
        job.stop()
        job.wait(60)


def test_form_defaults_follow_the_chosen_recipe(at, no_job_running):
    assert [t.label for t in at.tabs] == [
        "Train a model",
        "Compare runs",
        "Confusion matrix",
        "Gallery",
        "Training scrubber",
    ]
    # lenet5's fast recipe (core.training.recipes): AdamW lr 1e-2, batch 256, 2 epochs, all 60,000 images.
    s = at.session_state
    assert (s.tr_epochs, s.tr_batch, s.tr_optimizer, s.tr_lr, s.tr_limit, s.tr_name) == (
        2,
        256,
        "adamw",
        "0.01",
        60_000,
        "my_lenet5",
    )
    assert at.button(key="tr_start").label == "Start training"
    at.selectbox(key="tr_preset").set_value("cnn_avgpool").run()
    at.segmented_control(key="tr_recipe").set_value("seed").run()
    # seed 000: SGD lr 1e-3, batch 512, 50 epochs.
    s = at.session_state
    assert (s.tr_epochs, s.tr_batch, s.tr_optimizer, s.tr_lr, s.tr_name) == (
        50,
        512,
        "sgd",
        "0.001",
        "my_cnn_avgpool_seed",
    )
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
    before = runner.manager().current()
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
        assert runner.manager().current() is before


@pytest.mark.skipif(not (SHIPPED / "lenet5.json").exists(), reason="needs the shipped lenet5 checkpoint")
def test_a_shipped_name_asks_for_confirmation(at, no_job_running):
    at.text_input(key="tr_name").set_value("lenet5").run()
    assert "is a shipped checkpoint" in texts(at.warning)
    assert at.checkbox(key="tr_overwrite:lenet5").label == "Yes, replace lenet5"
    before = runner.manager().current()
    at.button(key="tr_start").click().run()  # not ticked: refused
    assert "confirm to replace it" in texts(at.error) and runner.manager().current() is before


def test_live_panel_of_a_running_then_a_finished_run(tmp_path, no_job_running):
    spec = prepare(
        "lenet5",
        "fast",
        name="slow",
        overrides={**TINY, "epochs": 50, "batch_size": 10},
        folder=tmp_path,
        test_limit=200,
    )
    job = runner.manager().start(spec)
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.run()
    assert not app.exception
    assert len(app.get("progress")) == 1 and app.button(key="tr_stop").label == "Stop"
    assert "Run " in texts(app.subheader) and "slow" in texts(app.subheader)
    app.button(key="tr_start").click().run()  # a second start while one runs
    assert "already in progress" in texts(app.warning) and runner.manager().current() is job
    # ... and on a Chinese page, in Chinese: core's refusal is said in the reader's language
    chinese = run_page("training", {"lang": "zh"})
    chinese.button(key="tr_start").click().run()
    started = time.strftime("%H:%M:%S", time.localtime(job.started))
    assert f"已经有一次训练在进行（slow，{started} 开始）：请等它结束，或者停止它" in texts(chinese.warning)
    assert "already in progress" not in texts(chinese.warning)
    app.button(key="tr_stop").click().run()
    assert job.wait(60) and job.snapshot().status == STOPPED
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
    # The page's figures are core's: lenet5 over the 10,000 test images (core.training.confusion).
    model, _ = checkpoints.load("lenet5")
    preds = confusion.predict_test_set(model)
    matrix = confusion.confusion_matrix(preds.labels, preds.predicted)
    worst = confusion.worst_confusions(matrix, 1)[0]
    assert f"**lenet5** answers **{preds.accuracy:.2%}** of the 10,000 test images right" in texts(at.markdown)
    true_d, pred_d = at.selectbox(key="cm_true").value, at.selectbox(key="cm_pred").value
    assert (true_d, pred_d) == worst[:2]  # the largest mistake first
    assert f"**{worst[2]}** {true_d}s misclassified as {pred_d}" in texts(at.markdown)
    at.selectbox(key="cm_pred").set_value(true_d).run()
    assert f"**{matrix[true_d, true_d]}** {true_d}s correctly recognised as {true_d}" in texts(at.markdown)
    at.session_state["training_tab"] = "Gallery"
    at.run()
    assert not at.exception
    colored = [m.value for m in at.markdown if m.value.startswith((":green-badge[", ":red-badge["))]
    assert len(colored) == 10  # ten test images, each green (right) or red (wrong)
    at.session_state["training_tab"] = "Training scrubber"
    at.run()
    assert not at.exception
    assert at.selectbox(key="scrub_model").value == "lenet5"  # the shipped checkpoint with snapshots
    assert "First-layer feature maps" in texts(at.markdown)
    at.session_state["training_tab"] = "Compare runs"
    at.run()
    assert not at.exception and len(at.dataframe) == 1
    # Seed 000's one-change variants, each marked by an icon Streamlit ships (no emoji: a font may lack it)
    lines = [line for m in at.markdown if m.value.startswith("- ") for line in m.value.split("\n")]
    assert len(lines) >= 4, lines  # the shipped variants of cnn_avgpool_bn_seed (core.training.recipes.VARIANTS)
    assert all(line.startswith(("- :green[:material/check_circle:] ", "- :red[:material/cancel:] ")) for line in lines)


# --- the figures, by hand ------------------------------------------------------------------


def curve_record(test_accuracies, reported=None):
    history = [
        {"epoch": i, "test_accuracy": a, "train_accuracy": a - 0.01, "test_loss": 1 - a, "train_loss": 1 - a}
        for i, a in enumerate(test_accuracies, 1)
    ]
    return {
        "recipe": {"limit": None},
        "history": history,
        "test_accuracy": test_accuracies[-1],
        **({"reported": reported} if reported else {}),
    }


# Seed 000's two reproductions as shipped: 50 epochs climbing to 87%, 15 to 45%; the source
# reports 95.49% and 98.44%, three points apart: their labels used to be drawn over each other.
SEED_000_RUNS = {
    "cnn_avgpool_seed": curve_record(
        [0.11 + 0.0155 * i for i in range(50)], {"source": "seed 000", "test_accuracy": 0.9549, "epochs": 50}
    ),
    "cnn_avgpool_bn_seed": curve_record(
        [0.10 + 0.0246 * i for i in range(15)], {"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15}
    ),
}
# 16 px text (dashboard.figures.style.FONT_SIZE) is about 21 px tall, and the plot area of the
# 480 px compare figure is at most 400 px (its legend and x axis take the rest): a label takes at
# least 5.25% of the y range.
LABEL_SHARE = 21 / 400


def test_compare_figure_labels_of_reported_figures_do_not_overlap():
    fig = figs.compare_figure(SEED_000_RUNS, "accuracy", show_train=True)
    drawn = [y for trace in fig.data for y in trace.y] + [shape.y0 for shape in fig.layout.shapes]
    bottom, top = fig.layout.yaxis.range or (min(drawn), max(drawn))  # what plotly's autorange would span, at least
    height = LABEL_SHARE * (top - bottom)
    labels = sorted(fig.layout.annotations, key=lambda a: a.y)
    assert [a.text for a in labels] == [
        "seed 000 reports 95.49% after 50 epochs",
        "seed 000 reports 98.44% after 15 epochs",
    ]
    boxes = [(a.y, a.y + height) if a.yanchor == "bottom" else (a.y - height, a.y) for a in labels]
    assert boxes[0][1] <= boxes[1][0], boxes  # the lower label ends below where the upper one starts
    # Each label sits against its own line (drawn in its run's colour), inside the y range.
    lines = {shape.line.color: shape.y0 for shape in fig.layout.shapes}
    assert [lines[a.font.color] for a in labels] == [a.y for a in labels] == [0.9549, 0.9844]
    assert bottom <= boxes[0][0] and boxes[1][1] <= top


def test_label_positions_by_hand():
    # Lines at 0.97, 0.99, 0.98 with labels 0.05 tall: the top one rests on its line (0.99..1.04),
    # 0.98's hangs below its line (0.93..0.98), 0.97's below that one (0.88..0.93).
    assert figs.label_positions([0.97, 0.99, 0.98], 0.05) == [
        (pytest.approx(0.93), "top"),
        (0.99, "bottom"),
        (0.98, "top"),
    ]
    assert figs.label_positions([0.5, 0.9], 0.05) == [(0.5, "bottom"), (0.9, "bottom")]  # room for both


def test_a_one_epoch_run_is_a_labelled_dot():
    fig = figs.compare_figure({"one_epoch": curve_record([0.929])}, "accuracy", show_train=True)
    test, train = fig.data
    assert test.x == (1.0,) and "markers" in test.mode and test.marker.size >= 12
    assert test.text == ("92.90%",) and "text" in test.mode
    assert train.mode == "markers"  # a dashed line of one point would not be drawn at all
    many = figs.compare_figure({"two": curve_record([0.9, 0.95])}, "accuracy", show_train=True).data[0]
    assert many.mode == "lines+markers" and many.text is None


def test_live_figure_puts_a_stopped_epochs_test_where_it_stopped():
    # 2,000 images at batch 40 = 50 batches an epoch; stopped after 29 batches of epoch 2:
    # 1,160 images, so the test point is at 1 + 1,160 / 2,000 = 1.58 epochs, not at 2.
    history = [
        dict(
            epoch=1,
            train_loss=0.5,
            train_accuracy=0.85,
            test_loss=0.4,
            test_accuracy=0.88,
            images=2000,
            epoch_fraction=1.0,
        ),
        dict(
            epoch=2,
            train_loss=0.3,
            train_accuracy=0.9,
            test_loss=0.3,
            test_accuracy=0.91,
            images=1160,
            epoch_fraction=1160 / 2000,
        ),
    ]
    snap = JobSnapshot(
        id=1,
        name="stopped",
        preset="lenet5",
        recipe_name="fast",
        recipe={"limit": 2000, "batch_size": 40},
        status=STOPPED,
        message="",
        epoch=2,
        epochs=3,
        step=20,
        steps=50,
        loss=0.3,
        accuracy=0.9,
        images_per_second=1.0,
        curve=[(0.4, 0.9, 0.7), (1.0, 0.5, 0.85), (1.4, 0.3, 0.9), (1.58, 0.3, 0.9)],
        history=history,
        elapsed=1.0,
        stop_requested=True,
    )
    fig = figs.live_figure(snap)
    tests = [t for t in fig.data if t.name.startswith("test")]
    assert [t.x for t in tests] == [(1.0, pytest.approx(1.58))] * 2  # the loss and the accuracy panel
    assert [round(shape.x0, 2) for shape in fig.layout.shapes] == [1.58, 1.58]  # "stopped at 1.58"


# --- the scrubber follows its checkpoint -------------------------------------------------------


@pytest.fixture(scope="module")
def two_snapshot_runs(tmp_path_factory):
    """Two tiny lenet5 runs with per-epoch snapshots, and the "learned late" digit of each."""
    from core.training import recipes
    from core.training.snapshots import learned_late
    from core.training.train import train

    folder = tmp_path_factory.mktemp("scrub_checkpoints")
    late = {}
    for name, seed in (("scrub_a", 0), ("scrub_b", 1)):
        recipe = recipes.get_recipe("lenet5", "fast").with_overrides(epochs=2, limit=1000, batch_size=100, seed=seed)
        result = train("lenet5", recipe, keep_snapshots=True, test_limit=100)
        checkpoints.save(
            result.model, name, preset="lenet5", record=result.record("fast"), folder=folder, snapshots=result.snapshots
        )
        late[name] = learned_late("lenet5", result.snapshots)
    assert late["scrub_a"] != late["scrub_b"], late  # else following could not be told from staying
    return folder, late


def scrubber_app(folder, monkeypatch, **params):
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", folder)
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.query_params.update(training_tab="Training scrubber", **params)
    app.run()
    assert not app.exception
    return app


def test_scrubber_image_follows_the_checkpoint(two_snapshot_runs, monkeypatch, no_job_running):
    folder, late = two_snapshot_runs
    app = scrubber_app(folder, monkeypatch)
    assert app.selectbox(key="scrub_model").value == "scrub_a"
    assert app.number_input(key="scrub_index").value == late["scrub_a"]
    app.number_input(key="scrub_index").set_value(5).run()  # look at another image meanwhile
    app.select_slider(key="scrub_epoch").set_value(1).run()
    app.selectbox(key="scrub_model").set_value("scrub_b").run()
    assert not app.exception
    assert app.number_input(key="scrub_index").value == late["scrub_b"]  # its own late digit, after its end
    assert app.select_slider(key="scrub_epoch").value == 2
    app.selectbox(key="scrub_model").set_value("scrub_a").run()
    assert app.number_input(key="scrub_index").value == late["scrub_a"]


def test_scrubber_keeps_the_image_a_link_asks_for(two_snapshot_runs, monkeypatch, no_job_running):
    folder, late = two_snapshot_runs
    app = scrubber_app(folder, monkeypatch, scrub_model="scrub_b", scrub_index="7", scrub_epoch="1")
    assert app.selectbox(key="scrub_model").value == "scrub_b"
    assert app.number_input(key="scrub_index").value == 7 and app.select_slider(key="scrub_epoch").value == 1
    app.selectbox(key="scrub_model").set_value("scrub_a").run()  # the link was for the first view only
    assert app.number_input(key="scrub_index").value == late["scrub_a"]


# --- in a browser --------------------------------------------------------------------------

TOKEN = "training-test-token"


@pytest.fixture(scope="module")
def training_server(tmp_path_factory):
    """A server of its own whose checkpoint folder is a temporary copy (so the run saves there),
    where only the teacher link (``?teacher=TOKEN``) makes a teacher: a browser on localhost is a
    student, as in a classroom."""
    folder = tmp_path_factory.mktemp("checkpoints")
    for path in SHIPPED.glob("lenet5.*"):
        shutil.copy(path, folder / path.name)
    server = start_streamlit(
        env={"CNN_EXPLAINER_CHECKPOINTS": str(folder), teacher.LOCAL_ENV: "0", teacher.TOKEN_ENV: TOKEN}
    )
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
    open_page(browser_page, training_server.url + f"/training?teacher={TOKEN}")
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
    for _ in range(20):  # the matrix is drawn again once its column's width is known: wait for that one
        wait_idle(browser_page)
        area = drag.bounding_box()
        if area is not None:
            break
    browser_page.mouse.click(area["x"] + area["width"] * 5.5 / 10, area["y"] + area["height"] * 3.5 / 10)
    browser_page.get_by_text("3s misclassified as 5").wait_for(timeout=30_000)
    wait_idle(browser_page)
    browser_page.mouse.move(0, 0)  # no tooltip in the picture
    screenshot(browser_page, "training_confusion")
    assert browser_page.locator("[data-testid='stException']").count() == 0
    assert not (SHIPPED / "browser_run.json").exists()


@pytest.mark.browser
def test_a_run_the_teacher_starts_appears_on_an_open_students_page_without_a_reload(training_server, browser):
    """The student's /training is open before the teacher starts a run; the new run replaces what
    it showed (no run yet, or an earlier run when the test above ran first) within a few seconds:
    the page looks for a new run every WATCH_SECONDS (2 s), and redraws in about a second more."""
    student_context, teacher_context = browser.new_context(), browser.new_context()
    try:
        student, boss = student_context.new_page(), teacher_context.new_page()
        for page in (student, boss):
            page.set_viewport_size({"width": 1400, "height": 1000})
        open_page(student, training_server.url + "/training")
        student.evaluate("window.__not_reloaded = true")  # a reload would forget it
        assert student.locator(".st-key-tr_start").get_by_role("button").is_disabled()  # a student
        assert student.get_by_text("live_run").count() == 0
        open_page(boss, training_server.url + f"/training?teacher={TOKEN}")
        set_field(boss, "Epochs", "1")
        set_field(boss, "Training images", "1000")
        set_field(boss, "Batch size", "100")
        set_field(boss, "Save as (checkpoint name)", "live_run")
        boss.get_by_role("button", name="Start training").click()
        boss.get_by_text(": live_run").first.wait_for(timeout=30_000)  # "Run N: live_run" on the teacher's page
        started = time.monotonic()
        student.get_by_text(": live_run").first.wait_for(timeout=30_000)
        seen_after = time.monotonic() - started
        assert seen_after < 6, f"the student saw the new run {seen_after:.1f} s after the teacher"
        assert student.evaluate("window.__not_reloaded === true")
        screenshot(student, "training_student_sees_new_run")
        # ... and its end: the saved run, with its curve, on the student's page too
        student.get_by_text("saved as 'live_run'").wait_for(timeout=90_000)
        wait_idle(student)
        screenshot(student, "training_student_sees_run_saved")
        assert student.evaluate("window.__not_reloaded === true")
        assert student.locator("[data-testid='stException']").count() == 0
    finally:
        student_context.close()
        teacher_context.close()


def test_the_live_train_line_is_a_running_mean_across_epochs_and_a_line_says_why_test_sits_above():
    # Points (each the mean since the report before: core.training.jobs.runner): 0.5 then 0.9 at every later report.
    curve = [(0.25, 1.0, 0.5), (0.5, 0.5, 0.9), (0.75, 0.5, 0.9), (1.0, 0.5, 0.9), (1.25, 0.5, 0.9), (1.5, 0.5, 0.9)]
    snap = JobSnapshot(
        id=1,
        name="mean",
        preset="lenet5",
        recipe_name="fast",
        recipe={"limit": 2000, "batch_size": 40},
        status=RUNNING,
        message="",
        epoch=2,
        epochs=2,
        step=25,
        steps=50,
        loss=0.5,
        accuracy=0.9,
        images_per_second=1.0,
        curve=curve,
        history=[],
        elapsed=1.0,
        stop_requested=False,
    )
    fig = figs.live_figure(snap)
    line = next(t for t in fig.data if t.name == "train (smoothed over nearby batches)" and t.xaxis == "x2")
    # Each the mean of it and up to two either side (as many each side): 0.5 alone; (0.5 + 0.9 + 0.9) / 3;
    # (0.5 + 4 x 0.9) / 5 = 0.82; then 0.9. No gap and no restart at epoch 1.
    assert [round(y, 4) for y in line.y] == [0.5, 0.7667, 0.82, 0.9, 0.9, 0.9]
    assert None not in line.x
    assert figs.smoothed([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])  # no lag
    from dashboard.training.run import why_train_differs

    assert why_train_differs(snap) == (
        "Why train can look worse than test: the train line averages batches while the weights are still "
        "changing; each test point is measured after the epoch, on images it never trained on, with the whole "
        "network and the epoch's final weights."
    )  # lenet5 has no dropout; this recipe neither augments nor smooths
    keras = dataclasses.replace(snap, preset="keras_cnn_small", recipe={"augment": True, "label_smoothing": 0.1})
    assert (
        "dropout switches units off while it trains; the training digits are shifted and turned a little; "
        "label smoothing adds to the train loss"
    ) in why_train_differs(keras)


def count_boxes(page) -> tuple[float, list[dict]]:
    """The confusion matrix's cell width and the box of every count written in it, as drawn."""
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.wait_for(timeout=60_000)
    return chart.evaluate("""el => {
        const plot = el.querySelector('.nsewdrag').getBoundingClientRect();
        const texts = [...el.querySelectorAll('.hm text, .heatmaplayer text, g.textpoint text')]
            .filter(t => /^\\d+$/.test(t.textContent.trim()))
            .map(t => { const b = t.getBoundingClientRect();
                        return {text: t.textContent.trim(), x: b.x, width: b.width}; });
        return [plot.width / 10, texts];
    }""")


@pytest.mark.browser
@pytest.mark.parametrize(
    "profile, query",
    [
        (dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True), ""),  # a phone
        (dict(viewport={"width": 1280, "height": 720}), "&presenter=true"),  # the projector
    ],
)
def test_the_confusion_matrix_counts_fit_their_cells_on_a_phone_and_a_projector(
    training_server, browser, profile, query
):
    """lenet5 answers 1132 of the 1,135 test 1s right: the widest count must fit its cell, where it
    used to overlap its neighbour ("1132 1")."""
    context = browser.new_context(**profile)
    try:
        page = context.new_page()
        open_page(page, training_server.url + "/training?training_tab=Confusion+matrix&cm_model=lenet5" + query)
        page.get_by_text("lenet5 answers").wait_for(timeout=60_000)
        wait_idle(page)
        wait_idle(page)  # the matrix is drawn again once its column's width is known
        cell, texts = count_boxes(page)
        assert len(texts) >= 100, texts  # a count in every cell (the grey diagonal's layer writes its own)
        widest = max(texts, key=lambda t: t["width"])
        assert len(widest["text"]) == 4 and widest["width"] <= cell - 4, (cell, widest)
        page.locator("[data-testid='stPlotlyChart']").first.scroll_into_view_if_needed()
        screenshot(page, "training_confusion_" + ("phone" if profile.get("is_mobile") else "presenter"))
    finally:
        context.close()


def test_a_recipe_that_keeps_validation_images_back_offers_its_50000(at, no_job_running):
    # mlp_256_128's seed recipe selects its best epoch on 10,000 of the 60,000 training images: 50,000 are left.
    at.selectbox(key="tr_preset").set_value("mlp_256_128").run()
    at.segmented_control(key="tr_recipe").set_value("seed").run()
    assert at.session_state.tr_limit == 50_000
    assert at.number_input(key="tr_limit").help == "a seeded random subset; 50,000 = all of them"
