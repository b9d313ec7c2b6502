"""/convolution: one filter sliding over a small grid, step by step; then pooling.

Thin: the mode picked here is drawn by its own module (dashboard.convolution.one_channel,
three_channels, pooling), from the controls of dashboard.convolution.grid_widgets, the numbers of
core.grids.gridmath / core.grids.presets and the step player (play, pause, step, predict-then-reveal)
of dashboard.stepping.stepper.

The settings live in the URL (``bind="query-params"``, the key is the parameter's name), e.g.
``/convolution?conv_input=Random+whole+numbers&conv_size=5&conv_kernel=Sharpen&conv_stride=2&conv_padding=1``
(mode ``conv_mode``; one channel ``conv_input conv_size conv_digit conv_seed conv_kernel conv_ksize
conv_stride conv_padding conv_dilation real_digit``; three channels ``three_source three_stride
three_padding three_dilation``; pooling ``pool_source pool_size pool_kernel pool_stride``).
"""

import streamlit as st

from core.i18n import N_, _
from dashboard.convolution.grid_widgets import labels, test_digits
from dashboard.convolution.one_channel import one_channel
from dashboard.convolution.pooling import pooling
from dashboard.convolution.three_channels import three_channels
from dashboard.frame import guard
from dashboard.frame.links import BOUND
from dashboard.stepping import stepper

# The modes: English names are the values (and the link's labels in English), shown translated.
ONE, THREE, POOLING = N_("One channel"), N_("Three channels"), N_("Pooling")

st.title(_("Convolution, step by step"))
st.markdown(
    _(
        "A convolution layer slides a small grid of weights, the **kernel**, over its input. At each position "
        "it multiplies the cells under it by the weights, adds the products and a bias, and writes one number "
        "of the output, the **feature map**. Predict each number before it appears."
    )
)
mode = st.segmented_control(
    _("What to watch"),
    [ONE, THREE, POOLING],
    format_func=labels(),
    default=ONE,
    required=True,
    key="conv_mode",
    on_change=stepper.pause_all,
    bind=BOUND,
)
st.html(stepper.GRID_CSS)
digits = test_digits()
with guard.guarded(_(mode)):
    if mode == THREE:
        three_channels()
    elif mode == POOLING:
        pooling()
    else:
        one_channel(digits)
