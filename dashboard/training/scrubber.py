"""The /training page's "Training scrubber" tab: a test image through the per-epoch snapshots of
a run, its first convolution's maps and the probability of its right answer, epoch by epoch."""

from __future__ import annotations

import streamlit as st

from core import models
from core.data.mnist import load_test
from core.data.views import SPLIT_LABELS
from core.i18n import _
from core.models import checkpoints
from core.training import snapshots as sn
from dashboard.figures import charts, html_pictures
from dashboard.frame import presenter
from dashboard.frame.links import BOUND
from dashboard.training import figures as figs
from dashboard.training.mistakes import answer_text
from dashboard.training.shared import last_run_name, zoomed


# Cached by the snapshots' hash, so a retrained name is recomputed.
@st.cache_resource(max_entries=4, show_spinner=False)  # the spinner's text is the session's: scrubber_tab
def cached_snapshots(name: str, sha256: str) -> dict[str, dict]:
    return checkpoints.load_snapshots(name)  # read-only: model_at_epoch copies the weights


@st.cache_data(max_entries=256, show_spinner=False)
def cached_scrub(name: str, sha256: str, preset: str, epoch: int, index: int) -> sn.FirstConvMaps:
    model = sn.model_at_epoch(preset, cached_snapshots(name, sha256), epoch)
    return sn.first_conv_maps(model, load_test().images[index])


@st.cache_data(max_entries=64, show_spinner=False)
def cached_trail(name: str, sha256: str, preset: str, index: int, label: int) -> list[float]:
    return sn.probability_trail(preset, cached_snapshots(name, sha256), load_test().images[index], label)


@st.cache_data(max_entries=16, show_spinner=False)  # the spinner's text is the session's: scrubber_tab
def cached_learned_late(name: str, sha256: str, preset: str) -> int:
    return sn.learned_late(preset, cached_snapshots(name, sha256))


def follow_checkpoint(name: str, late: int, last_epoch: int) -> None:
    """Point the scrubber at ``name``'s own "learned late" digit after its last epoch, once each
    time the checkpoint changes; on the scrubber's first draw keep what the link (or the session)
    already asked for."""
    s = st.session_state
    followed = s.get("_scrub_followed")
    if followed == name:
        return
    for key, value in (("scrub_index", late), ("scrub_epoch", last_epoch)):
        if followed is not None or (key not in s and key not in st.query_params):
            s[key] = value
    s._scrub_followed = name


def scrubber_tab() -> None:
    with_snaps = [i for i in checkpoints.list_checkpoints() if i.record.get("snapshots_sha256")]
    if not with_snaps:
        st.info(
            _(
                "No checkpoint has per-epoch snapshots yet: `make checkpoints` ships lenet5's, or tick "
                "'Keep a snapshot after every epoch' when training."
            )
        )
        return
    names = [i.name for i in with_snaps]
    c1, c2, c3 = st.columns([3, 2, 3], vertical_alignment="bottom")  # the button's label whole at 1280x720
    default = next((n for n in (last_run_name(), "lenet5") if n in names), names[0])
    name = c1.selectbox(
        _("Checkpoint with snapshots"),
        names,
        key="scrub_model",
        index=names.index(default),
        persist_state="page",
        bind=BOUND,
    )
    record = next(i.record for i in with_snaps if i.name == name)
    if not models.get(record["preset"]).is_cnn:
        st.info(_("{name} is an MLP: it has no feature maps to show.").format(name=name))
        return
    with st.spinner(_("Finding a digit the network learned late...")):
        late = cached_learned_late(name, record["snapshots_sha256"], record["preset"])
    with st.spinner(_("Loading the per-epoch snapshots...")):
        snaps = cached_snapshots(name, record["snapshots_sha256"])
    epochs = sn.snapshot_epochs(snaps)
    follow_checkpoint(name, late, epochs[-1])
    c3.button(
        _("A digit it learned late"),
        key="scrub_late",
        icon=":material/school:",
        on_click=lambda: st.session_state.update(scrub_index=late),
        help=_(
            "of the first 1,000 test images, the one whose right answer gained most from the first epoch to the last"
        ),
    )
    index = c2.number_input(_("Test image #"), 0, 9_999, key="scrub_index", persist_state="page", bind=BOUND)
    if st.session_state.get("scrub_epoch", epochs[-1]) not in epochs:  # retrained with fewer epochs: its end
        st.session_state.scrub_epoch = epochs[-1]
    epoch = (
        st.select_slider(_("After epoch"), epochs, key="scrub_epoch", persist_state="page", bind=BOUND)
        if len(epochs) > 1
        else epochs[0]
    )
    label = int(load_test().labels[index])
    first = cached_scrub(name, record["snapshots_sha256"], record["preset"], epoch, int(index))
    history = {h["epoch"]: h for h in record.get("history", [])}
    c1, c2, c3 = st.columns([1, 3, 3])
    c1.image(
        zoomed(int(index), 4),
        caption=_("label {label}").format(label=label),
        output_format="PNG",
        alt=_("the digit {label}: {split} image #{index}, 28 × 28 pixels").format(
            label=label, split=_(SPLIT_LABELS["test"]), index=int(index)
        ),
    )
    with c2:
        entry = history.get(epoch, {})
        acc, fraction = entry.get("test_accuracy"), entry.get("epoch_fraction", 1.0)
        if fraction < 1:
            text = (
                _("After epoch **{epoch}**, stopped {fraction:.0%} of the way through, (test accuracy {accuracy:.2%})")
                if acc is not None
                else _("After epoch **{epoch}**, stopped {fraction:.0%} of the way through,")
            )
        else:
            text = (
                _("After epoch **{epoch}** (test accuracy {accuracy:.2%})")
                if acc is not None
                else _("After epoch **{epoch}**")
            )
        st.markdown(text.format(epoch=epoch, fraction=fraction, accuracy=acc))
        charts.plotly_chart(
            figs.answer_bars(first.probabilities, label, charts.palette("answer").colors),
            key="scrub_probs",
            description=answer_text(first.probabilities, label),
        )
    with c3:
        trail = cached_trail(name, record["snapshots_sha256"], record["preset"], int(index), label)
        st.markdown(_("Probability of the right answer, epoch by epoch"))
        charts.plotly_chart(
            figs.trail_figure(epochs, trail, epoch, label),
            key="scrub_trail",
            description=figs.trail_text(epochs, trail, label),
        )
    channels = first.maps.shape[0]
    st.markdown(
        _(
            "**First-layer feature maps** (`{layer}`, {channels} maps) after epoch {epoch}: "
            "each map scaled to its own range, black low, white high"
        ).format(layer=first.name, channels=channels, epoch=epoch)
    )

    st.html(html_pictures.channels_html(first.maps, first.name, tile_px=round(112 * presenter.figure_scale())))
