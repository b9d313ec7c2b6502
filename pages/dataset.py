"""/dataset: what the network is given. Sample grids, class counts, mean images, one image's numbers.

The main settings live in the URL (``bind="query-params"``, the key is the parameter's name):
``/dataset?split=test&n=50&digit=3&shuffle=true&seed=8&index=12&mean_split=test``.
"""

import streamlit as st

from core.data import views as dv
from core.explain.pictures import describe_map
from core.grids.arithmetic import format_number
from core.i18n import N_, _
from dashboard.convolution.grid_widgets import labels
from dashboard.dataset import figures as figs
from dashboard.figures import charts, html_pictures, palettes
from dashboard.frame import guard, presenter
from dashboard.frame.links import BOUND

GRID_ZOOM = 3  # 28 px -> 84 px per sample, pixel-exact
MEAN_ZOOM = 3  # ten means in one row
PIXEL_CELL_PX = 34  # 28 cells fit a 1,000 px column, three digits still readable
PIXEL_MIN_CELL_PX = 22  # a phone scrolls the grid rather than shrink "253" below reading
ALL = "all"  # the class filter's value for every class (?digit=all), shown as ALL_LABEL
ALL_LABEL = N_("all")


def split_name(split: str) -> str:
    """``train`` / ``test`` as the page names it, in the session's language."""
    return _(dv.SPLIT_LABELS[split])


def split_labels():
    """The split options' ``format_func`` (in the language of the run drawing them)."""
    label = labels()
    return lambda split: label(dv.SPLIT_LABELS[split])


def digit_alt(label: int, split: str, index: int) -> str:
    """An MNIST image's text alternative: the digit it shows, and which image it is."""
    return _("the digit {label}: {split} image #{index}, 28 × 28 pixels").format(
        label=label, split=split_name(split), index=index
    )


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


@st.cache_data(show_spinner=False)
def cached_image(split: str, index: int):
    mnist = dv.load_split(split)
    return mnist.images[index].numpy(), int(mnist.labels[index])


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


def pixels_text(values, decimals: int, where: str) -> str:
    """What a grid of the image's pixel values shows, for a screen reader."""
    return _("The image's 28 × 28 pixel values written in grey cells, from {low} to {high}: {where}.").format(
        low=format_number(float(values.min()), decimals), high=format_number(float(values.max()), decimals), where=where
    )


def one_image_section(split: str, counts: dict[str, list[int]], first_index: int, colors) -> None:
    st.header(_("One image, every pixel"))
    n_split = sum(counts[split])
    index = st.number_input(
        _("Image index in the {split} set (0 to {last:,})").format(split=split_name(split), last=n_split - 1),
        0,
        n_split - 1,
        first_index,
        key="index",
        bind=BOUND,
    )
    image, label = cached_image(split, int(index))
    normalized = dv.normalized_image(image)
    facts = dv.normalization_facts()

    c_img, c_label, c_hot = st.columns([1, 1, 3], gap="large", vertical_alignment="center")
    c_img.image(
        dv.upscale_nearest(image, 5),
        caption=_("#{index} of the {split} set").format(index=index, split=split_name(split)),
        alt=digit_alt(label, split, int(index)),
        width=140,
        output_format="PNG",
    )
    c_label.metric(_("Label"), label)
    with c_hot:
        st.markdown(
            _(
                "**The label as a one-hot vector**: the network is trained to output ten numbers, 1 at position "
                "{label} and 0 elsewhere."
            ).format(label=label)
        )
        charts.plotly_chart(
            figs.one_hot_bar(dv.one_hot(label), colors),
            key="one_hot",
            description=_("The one-hot vector as ten cells: 1 at position {label}, 0 at the other nine.").format(
                label=label
            ),
        )

    raw_tab, norm_tab = st.tabs([_("Raw pixels 0-255"), _("After normalisation")])
    grey = charts.palette("image").scale
    where = describe_map(image)  # the same picture, whichever numbers are written in it
    # HTML grids as wide as the column allows: exactly as tall as they are drawn, whole on a projector,
    # scrolled sideways in their own box on a phone.
    cell = {
        "max_cell_px": round(PIXEL_CELL_PX * presenter.figure_scale()),
        "min_cell_px": PIXEL_MIN_CELL_PX,
        "colorscale": grey,
    }
    raw_tab.html(
        html_pictures.fitted_grid_html(image, decimals=0, zmin=0, zmax=255, label=pixels_text(image, 0, where), **cell)
    )
    norm_tab.html(
        html_pictures.fitted_grid_html(
            normalized, decimals=1, zmin=facts.black, zmax=facts.white, label=pixels_text(normalized, 4, where), **cell
        )
    )

    y, x = divmod(int(image.argmax()), 28)
    v = int(image[y, x])
    st.markdown(
        "\n"
        + _(
            """**Normalisation.** Before the network sees it, every pixel is scaled to 0-1 and standardised:
`x' = (x / 255 - mean) / std` with **mean = {mean}** and **std = {std}**, the mean and
standard deviation of all {n_pixels:,} pixel values of the {n_images:,} training images
({n_images:,} x 784), computed from the data. So black (0) becomes
(0 - {mean}) / {std} = **{black:.4f}** and white (255) becomes
(1 - {mean}) / {std} = **{white:.4f}**; the training set as a whole then has mean 0
and standard deviation 1, which keeps the first layer's sums in a range where training is stable.
For this image, the pixel at row {y}, column {x} holds {v}: ({v} / 255 - {mean}) / {std}
= **{value:.4f}**."""
        ).format(
            mean=facts.mean,
            std=facts.std,
            n_pixels=facts.n_pixels,
            n_images=facts.n_images,
            black=facts.black,
            white=facts.white,
            y=y,
            x=x,
            v=v,
            value=normalized[y, x],
        )
        + "\n"
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
    one_image_section(split, counts, first_index, colors)
