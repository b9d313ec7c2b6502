"""/architecture: what the network is made of. Layers, shapes, parameter counts, LeNet-5 of 1998.

The main settings live in the URL (``bind="query-params"``, the key is the parameter's name):
``/architecture?arch_model=lenet5&anatomy_layer=features.conv2&anatomy_filter=3&c3_map=15``.
"""

import streamlit as st
import torch

from core import models
from core.architecture import diagram, layers
from core.architecture.views import PAPER
from core.i18n import _, current_language, sentences
from core.models import checkpoints, onnx_export
from core.training import names as model_names
from core.training import recipes
from dashboard.architecture import figures as figs
from dashboard.architecture import kernel_anatomy, lenet1998_panel
from dashboard.figures import charts, palettes
from dashboard.frame import guard, presenter, shared_models
from dashboard.frame.links import BOUND

DEFAULT_MODEL = "lenet5_1998"


def model_for(name: str) -> tuple[torch.nn.Module, str | None]:
    """The preset with the weights of its best checkpoint (and that checkpoint's name), or fresh
    weights and None; a network designed here, its checkpoint's. Either way shared: layer
    accounting and export work on copies."""
    if name in designs:
        return shared_models.load_model(name)[0], name
    for info in checkpoints.best_first(name):
        try:
            return shared_models.load_model(info.name)[0], info.name
        except checkpoints.CheckpointError:
            continue
    return shared_models.fresh_model(name), None


# Cached per language too: their texts (a formula's words, the diagram's operations, the
# comparison's sentences) are in the language of the session that made them.
# A design is keyed by its notation (a checkpoint's name may be given to another design later).
@st.cache_data(show_spinner=False)
def cached_table(name: str, language: str, notation: str | None = None) -> list[layers.LayerRow]:
    return layers.layer_table(models.build(models.DESIGN, notation=notation) if notation is not None else name)


@st.cache_data(show_spinner=False)
def cached_stages(name: str, language: str, notation: str | None = None) -> list[diagram.Stage]:
    return diagram.stages(models.build(models.DESIGN, notation=notation) if notation is not None else name)


language = current_language()
st.title(_("Architecture: what the network is made of"))
# The presets, then the networks designed and trained here (by their checkpoints' names).
designed = {m.name: m for m in model_names.for_names(checkpoints.names()) if m.preset == models.DESIGN}
designs = list(designed)
names = models.names() + designs
wanted = st.session_state.get("model")
# Shown by its short name; the preset's own name is the value and what the URL holds, ?arch_model=lenet5.
name = shared_models.named_selectbox(
    _("Model"),
    names,
    key="arch_model",
    bind=BOUND,
    shown=lambda n: (
        designed[n].label if n in designed else _("{title} ({name})").format(title=model_names.model_title(n), name=n)
    ),
    index=names.index(wanted if wanted in names else DEFAULT_MODEL),
)
model, checkpoint = model_for(name)
notation = model.notation if name in designs else None
if notation is None:
    preset = models.PRESETS[name]
    st.markdown(
        _("**{title}.** {description}").format(title=_(preset.title), description=_(preset.description))
        + "  \n*"
        + _("From {source}.").format(source=recipes.source_name(preset.source))
        + "*"
    )
else:  # typed by a student: plain text
    st.text(_("Designed here: {notation}").format(notation=notation or _("the output layer alone")))

COLORS = palettes.figure_colors(charts.palette("answer"))  # colour-blind-safe in presenter mode

# --- the diagram ---------------------------------------------------------------------------
st.header(_("The network, stage by stage"))
stages = cached_stages(name, language, notation)
st.html(figs.network_html(stages, COLORS, presenter.figure_scale(), label=figs.diagram_text(name, stages)))
caption = _(
    "Drawn like Fig. 2 of LeCun et al. 1998: stacks are feature maps (maps@height x width; at most {most} "
    "drawn), bars are layers of units; under each arrow, how the next stage is computed; under each box, "
    "what is applied to it value by value."
).format(most=figs.MAX_STACK)
st.caption(caption)

# --- the per-layer table --------------------------------------------------------------------
st.header(_("Every layer, counted"))
rows = cached_table(name, language, notation)
total = layers.totals(rows)
has_fixed = total["fixed"] > 0
# st.table: every row visible and long formulas wrap, where a data grid would scroll sideways.
st.table(
    [
        {
            _("layer"): r.name,
            _("kind"): layers.kind_label(r.kind),
            _("output"): diagram.shape_text(r.output_shape),
            _("parameters"): f"{r.trainable_params:,}",
            _("parameters as"): r.formula,
            **({_("fixed"): f"{r.fixed:,}"} if has_fixed else {}),
            _("connections"): f"{r.connections:,}",
            _("connections as"): r.connections_formula,
            _("multiply-adds"): f"{r.macs:,}",
        }
        for r in rows
    ],
    hide_index=True,
)
# Each total as wide as its number, onto a new line where the row is full: four equal columns cut
# "340,908" to "340,…" in presenter mode's large type.
with st.container(horizontal=True, gap="medium", key="arch_totals"):
    for label, value in (
        (_("Trainable parameters"), total["trainable_params"]),
        (_("Fixed values"), total["fixed"]),
        (_("Connections"), total["connections"]),
        (_("Multiply-adds per image"), total["macs"]),
    ):
        st.metric(label, f"{value:,}", width="content")
if total["batchnorm_params"]:
    st.caption(
        _(
            "Of the trainable parameters, {batchnorm:,} are BatchNorm scales and shifts; the convolutions and "
            "dense layers alone have {weighted:,}."
        ).format(batchnorm=total["batchnorm_params"], weighted=total["weighted_layer_params"])
    )
st.caption(
    _(
        "A connection is one input value read by one unit (its bias counts as one); a multiply-add is one "
        "weight times one input. Convolutions have many connections but few parameters: the same kernel is "
        "reused at every position."
    )
)

# --- kernel, filter, channel ------------------------------------------------------------------
with guard.guarded(_("Kernel, filter, channel")):
    kernel_anatomy.section(model, name, rows, checkpoint)

# --- ONNX export (not in presenter mode: a download is for a student's own machine) ------------
if not presenter.is_on():
    st.header(_("Open it in Netron"))
    st.download_button(
        _("Download {model} as ONNX").format(model=name),
        data=lambda: onnx_export.export_onnx(model),
        file_name=onnx_export.file_name(name, checkpoint),
        mime="application/octet-stream",
        icon=":material/download:",
        key="onnx",
    )
    st.markdown(
        sentences(
            _(
                "Drop the file on **https://netron.app** (or run `pip install netron` then `netron FILE.onnx` offline) to "
                "browse the graph: click a node to see its weights' shapes."
            ),
            _("The weights are the checkpoint's.")
            if checkpoint
            else _("No checkpoint yet: the weights are untrained, the graph and shapes are the same."),
        )
    )

# --- LeNet-5 of 1998 -----------------------------------------------------------------------------
with guard.guarded(_("LeNet-5 of 1998 and the modern LeNet")):
    lenet1998_panel.section(language, COLORS, cached_table(PAPER, language))
