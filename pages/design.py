"""/design: design your own network. Start from a preset, change its layers, see the layer math
at once, train it as the server's run, and compare it with every checkpoint. While the class has
a design challenge open, submit the design to it (dashboard.design.challenge_entry).

The design lives in the link (``bind="query-params"``, the key is the parameter's name):
``/design?start=lenet5&net=conv16k5p2+bn+relu+max2+...`` (the notation, spaces as ``+``), so a
link gives the same table in another browser. A notation that cannot be built shows its sentence
(the layer and the way out) and the page goes on: the stack stays editable.
"""

import streamlit as st

from core.i18n import _
from core.models.design import DesignError, parse
from dashboard.design import challenge_entry, compare, layer_math, stack, train
from dashboard.frame import guard, presenter

st.title(_("Design your own network"))
if not presenter.is_on():  # on a projector the stack comes first; the teacher says this
    st.markdown(
        _(
            "Change a layer and see every consequence at once: shapes, parameters, multiply-adds, memory. "
            "Then train it and see where it lands among the other networks."
        )
    )

# --- the stack: where it starts, the notation, the layers -----------------------------------------
with st.container(horizontal=True, gap="medium", vertical_alignment="bottom"):
    start = stack.start_picker()
    stack.experiments()
stack.reference_note()
text = stack.notation_input(start)
start_design, start_name = parse(stack.start_notation(start)), stack.start_title(start)
started_from = None if start == stack.EMPTY else start  # the preset a checkpoint records
try:
    design, refusal = parse(text), None
except DesignError as exc:
    design, refusal = None, exc

st.space("small")  # room for the table's toolbar, which shows above its top right corner
# The table wider on a projector: its large type cut the headers at 3:2.
left, right = st.columns([2, 1] if presenter.is_on() else [3, 2], gap="medium")
with left, guard.guarded(_("The layers")):
    stack.stack_editor(text)
with right:
    if refusal is not None:
        st.error(str(refusal), icon=":material/block:")
        st.caption(_("Change the layer it names, in the table or in the line above: the math comes back at once."))
    else:
        with guard.guarded(_("The totals")):
            layer_math.totals(design, start_design, start_name)
        with guard.guarded(_("Receptive field")), presenter.secondary(_("Receptive field")):
            layer_math.receptive_field_text(design)

with guard.guarded(_("Submit to the challenge")):
    challenge_entry.panel(text, design is not None)  # only while the class has a design challenge open

if design is not None:
    st.header(_("Every layer, counted"))
    with guard.guarded(_("Every layer, counted")):
        layer_math.layer_table(design, start_design, start_name)
    st.header(_("The network, stage by stage"))
    with guard.guarded(_("The network, stage by stage")):
        layer_math.network_diagram(design)
    st.header(_("Train this design"))
    with guard.guarded(_("Train this design")):
        train.section(design, started_from)

st.header(_("Where it lands: size against accuracy"))
with guard.guarded(_("Where it lands: size against accuracy")):
    if design is None:
        st.caption(_("Shown again once the design can be built."))
    else:
        compare.section(design, started_from)
