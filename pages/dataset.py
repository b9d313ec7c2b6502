"""/dataset: what the network is given. Sample grids, class counts, mean images, one image's numbers.

The main settings live in the URL (``bind="query-params"``, the key is the parameter's name):
``/dataset?split=test&n=50&digit=3&shuffle=true&seed=8&index=12&mean_split=test``.
"""

import streamlit as st

from core.data import views as dv
from core.i18n import N_, _
from dashboard.convolution.grid_widgets import labels
from dashboard.dataset import figures as figs
from dashboard.dataset import one_image
from dashboard.dataset.figures import digit_alt, split_name
from dashboard.figures import charts, palettes
from dashboard.frame import guard, presenter
from dashboard.frame.links import BOUND

GRID_ZOOM = 3  # 28 px -> 84 px per sample, pixel-exact
MEAN_ZOOM = 3  # ten means in one row
ALL = "all"  # the class filter's value for every class (?digit=all), shown as ALL_LABEL
ALL_LABEL = N_("all")


def split_labels():
    """The split options' ``format_func`` (in the language of the run drawing them)."""
    label = labels()
    return lambda split: label(dv.SPLIT_LABELS[split])


def class_labels():
    """The class filter's ``format_func``: every class, or the digit."""
    label = labels()
    return lambda choice: label(ALL_LABEL) if choice == ALL else str(choice)


@st.cache_data(show_spinner=False)
def cached_samples(split: str, n: int, digit: int | None, seed: int | None) -> dv.Samples:
    return dv.select_samples(split, n, digit=digit, seed=seed)


@st.cache_data(show_spinner=False)
def cached_counts() -> dict[str, list[int]]:
    return {split: dv.class_counts(split) for split in dv.SPLITS}


@st.cache_data(show_spinner=False)
def cached_means(split: str):
    return dv.mean_images(split)


def samples_section() -> tuple[str, int]:
    """A grid of samples; returns the split shown and the index of its first image."""
    st.header(_("Samples"))
    c_split, c_n, c_digit, c_seed = st.columns([1, 2, 1, 1])
    split = c_split.segmented_control(
        _("Split"), dv.SPLITS, format_func=split_labels(), default="train", required=True, key="split", bind=BOUND
    )
    n = c_n.slider(_("How many"), 1, dv.MAX_SAMPLES, 25, key="n", bind=BOUND)
    digit_choice = c_digit.selectbox(_("Class"), [ALL, *range(10)], format_func=class_labels(), key="digit", bind=BOUND)
    with c_seed, presenter.secondary(_("Random draw")):
        shuffle = st.toggle(
            _("Random draw"),
            value=False,
            key="shuffle",
            bind=BOUND,
            help=_("Off: the first images of the file, as the write-ups preview them."),
        )
        seed = st.number_input(_("Seed"), 0, 10_000, 7, key="seed", disabled=not shuffle, bind=BOUND)
    digit = None if digit_choice == ALL else int(digit_choice)
    samples = cached_samples(split, n, digit, int(seed) if shuffle else None)
    st.image(
        [dv.upscale_nearest(img, GRID_ZOOM) for img in samples.images],
        caption=[f"{label}  (#{idx})" for label, idx in zip(samples.labels, samples.indices)],
        alt=[digit_alt(int(label), split, int(idx)) for label, idx in zip(samples.labels, samples.indices)],
        width=28 * GRID_ZOOM,
        output_format="PNG",
    )
    st.caption(
        _(
            "{n} {split} images; the caption is the label, then the image's index in the {split} set. Each "
            "pixel is drawn as a {zoom}x{zoom} block: no smoothing."
        ).format(n=len(samples), split=split_name(split), zoom=GRID_ZOOM)
    )
    return split, int(samples.indices[0])


def balance_section(counts: dict[str, list[int]], colors) -> None:
    st.header(_("How many of each digit"))
    charts.plotly_chart(figs.class_counts_bar(counts, colors), key="counts", description=figs.class_counts_text(counts))
    low, high = min(counts["train"]), max(counts["train"])
    st.caption(
        _(
            "The classes are roughly balanced: from {low:,} to {high:,} training images per digit, so a network "
            "cannot score well by always answering the most common digit."
        ).format(low=low, high=high)
    )


def means_section(counts: dict[str, list[int]]) -> None:
    st.header(_("The average image of each class"))
    mean_split = st.segmented_control(
        _("Averaged over"),
        dv.SPLITS,
        format_func=split_labels(),
        default="train",
        required=True,
        key="mean_split",
        bind=BOUND,
    )
    means = cached_means(mean_split)
    st.image(
        [dv.upscale_nearest(m.round().astype("uint8"), MEAN_ZOOM) for m in means],
        caption=[f"{d} ({counts[mean_split][d]:,})" for d in range(10)],
        alt=[
            _(
                "the average {digit}: all {count:,} {split} images of {digit} laid over each other, a blurred {digit}"
            ).format(digit=d, count=counts[mean_split][d], split=split_name(mean_split))
            for d in range(10)
        ],
        width=28 * MEAN_ZOOM,
        output_format="PNG",
    )
    st.caption(
        _(
            "Pixel by pixel average of every image of the class (how many in brackets). Bright where most "
            "writers put ink; the blur shows how much handwriting varies."
        )
    )


st.title(_("Dataset: what the network is given"))
counts = cached_counts()
st.markdown(
    _(
        "MNIST: **{train:,}** training and **{test:,}** test images of handwritten digits, each **28 x 28** grey pixels "
        "stored as whole numbers from 0 (black) to 255 (white), each with the digit it shows as its label."
    ).format(train=sum(counts["train"]), test=sum(counts["test"]))
)
colors = palettes.figure_colors(charts.palette("answer"))  # colour-blind-safe in presenter mode
split, first_index = "train", 0
with guard.guarded(_("The samples")):
    split, first_index = samples_section()
with guard.guarded(_("The class counts")):
    balance_section(counts, colors)
with guard.guarded(_("The average digits")):
    means_section(counts)
with guard.guarded(_("The image's pixels")):
    one_image.section(split, counts, first_index, colors)
