"""/dataset's last section, one image, every pixel: the picture and its label, the label as the
one-hot vector the network is trained towards, the 28 x 28 values raw and normalised (HTML grids
as wide as the column allows), and the normalisation worked through on one of its pixels."""

import streamlit as st

from core.data import views as dv
from core.explain.pictures import describe_map
from core.grids.arithmetic import format_number
from core.i18n import _
from dashboard.dataset import figures as figs
from dashboard.dataset.figures import digit_alt, split_name
from dashboard.figures import charts, html_pictures
from dashboard.frame import presenter
from dashboard.frame.links import BOUND

PIXEL_CELL_PX = 34  # 28 cells fit a 1,000 px column, three digits still readable
PIXEL_MIN_CELL_PX = 22  # a phone scrolls the grid rather than shrink "253" below reading


@st.cache_data(show_spinner=False)
def cached_image(split: str, index: int):
    mnist = dv.load_split(split)
    return mnist.images[index].numpy(), int(mnist.labels[index])


def pixels_text(values, decimals: int, where: str) -> str:
    """What a grid of the image's pixel values shows, for a screen reader."""
    return _("The image's 28 × 28 pixel values written in grey cells, from {low} to {high}: {where}.").format(
        low=format_number(float(values.min()), decimals), high=format_number(float(values.max()), decimals), where=where
    )


def section(split: str, counts: dict[str, list[int]], first_index: int, colors) -> None:
    """The section for an image of ``split`` the student picks by its index (``first_index`` until
    then: the first sample shown above); ``colors`` as the page's other figures have them."""
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
