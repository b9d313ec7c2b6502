"""The design challenge as everyone reads it, on /class and on /design: its rules in plain words,
the queue's state, and the leaderboard (every scored entry's parameters on a log axis against its
accuracy, the Pareto front drawn, the rank table beside it), live; a chosen entry's design (its
layer table and the diagram, as /design draws them) and its curve (as /training draws one).

A nickname is what a student typed: plain text everywhere (escaped in the figure, a table's
cell, ``links.markdown_text`` in a line of markdown).
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import i18n
from core.classroom.design_challenge import queue as challenge_queue
from core.classroom.design_challenge.scoring import (
    QUEUED,
    REPLACED,
    STATUS_WORDS,
    TRAINING,
    Challenge,
    Entry,
    Rules,
    pareto_front,
)
from core.classroom.design_challenge.submissions import Challenges
from core.i18n import _, ngettext
from core.models.design import DesignError, parse
from core.training.jobs import runner
from dashboard.design import layer_math
from dashboard.figures import charts, palettes, style
from dashboard.frame import accessibility, links
from dashboard.training import figures as training_figs

POLL_SECONDS = 2.0
OTHERS = "#5f6368"  # the entries off the Pareto front: dark grey, readable on white


def rules_text(rules: Rules) -> str:
    """The rules in plain words, one short paragraph (markdown)."""
    if rules.cap_macs is None:
        caps = _("**At most {cap:,} parameters.**").format(cap=rules.cap_params)
    else:
        caps = _("**At most {cap:,} parameters and {macs:,} multiply-adds per image.**").format(
            cap=rules.cap_params, macs=rules.cap_macs
        )
    budget = ngettext(
        "Every design trains the same way: the fast recipe, {epochs} epoch on {images:,} training images, random "
        "seed {seed}, at most {seconds:g} s (then it stops and is scored on what it reached).",
        "Every design trains the same way: the fast recipe, {epochs} epochs on {images:,} training images, random "
        "seed {seed}, at most {seconds:g} s (then it stops and is scored on what it reached).",
        rules.epochs,
    ).format(epochs=rules.epochs, images=rules.images, seed=rules.seed, seconds=rules.seconds)
    score = _("The score: accuracy on the first {test:,} test images; a tie goes to fewer parameters.").format(
        test=rules.test_images
    )
    return i18n.sentences(caps, budget, score)


def status_word(entry: Entry) -> str:
    said = _(STATUS_WORDS.get(entry.status, entry.status))
    return _("{status}, hidden").format(status=said) if entry.hidden else said


def shown_entries(entries: list[Entry], teacher: bool) -> list[Entry]:
    """What the board lists: never a replaced entry; a hidden one for the teacher only."""
    return [e for e in entries if e.status != REPLACED and (teacher or not e.hidden)]


def queue_line(challenge: Challenge, entries: list[Entry]) -> str:
    """The queue's state in one line: which entry trains now (how far), how many wait."""
    if not challenge.is_open:
        return _("Closed: no more designs. The results stay here.")
    training = next((e for e in entries if e.status == TRAINING), None)
    waiting = sum(e.status == QUEUED for e in entries)
    parts = []
    if training is not None:
        job = runner.manager().current()
        snap = job.snapshot() if job is not None else None
        if snap is not None and snap.running and snap.kind == challenge_queue.KIND:
            parts.append(
                _("Training now: **{nickname}** ({share:.0%}).").format(
                    nickname=links.markdown_text(training.nickname), share=snap.fraction
                )
            )
        else:
            parts.append(_("Training now: **{nickname}**.").format(nickname=links.markdown_text(training.nickname)))
    parts.append(
        ngettext("{n} design waiting.", "{n} designs waiting.", waiting).format(n=waiting)
        if waiting
        else _("No design waiting.")
    )
    if challenge.stopped:
        parts.append(_("The teacher has stopped the queue: it waits."))
    return i18n.sentences(*parts)


def figure(entries: list[Entry], chosen: int | None = None, height: int = 380) -> go.Figure:
    """Parameters (log) against accuracy: a point per ranked entry, named by its nickname; the
    Pareto front a line; the chosen entry ringed."""
    ranked = [e for e in entries if e.rank is not None]
    front = pareto_front(ranked)
    on_front = {e.id for e in front}
    colours = palettes.figure_colors(charts.palette("answer"))  # colour-blind-safe in presenter mode
    fig = go.Figure()
    if front:
        fig.add_trace(
            go.Scatter(
                x=[e.params for e in front],
                y=[100 * e.accuracy for e in front],
                mode="lines",
                line=dict(color=colours.highlight, width=2, dash="dot"),
                name=_("Pareto front"),
                hoverinfo="skip",
            )
        )
    by_size = {e.id: k for k, e in enumerate(sorted(ranked, key=lambda e: (e.params, e.id)))}
    for group, name, colour in ((True, _("on the front"), colours.highlight), (False, _("others"), OTHERS)):
        shown = [e for e in ranked if (e.id in on_front) == group]
        if not shown:
            continue
        fig.add_trace(
            go.Scatter(
                x=[e.params for e in shown],
                y=[100 * e.accuracy for e in shown],
                customdata=[e.id for e in shown],
                mode="markers+text",
                text=[html.escape(e.nickname) for e in shown],  # plotly reads tags: a nickname stays text
                # neighbours by size take turns above and below, so close points keep their names apart
                textposition=["top center" if by_size[e.id] % 2 == 0 else "bottom center" for e in shown],
                cliponaxis=False,  # a label above the highest point stays whole
                name=name,
                marker=dict(
                    color=colour,
                    size=[18 if e.id == chosen else 12 for e in shown],
                    line=dict(width=[3 if e.id == chosen else 1 for e in shown], color="#111"),
                ),
                hovertemplate="%{text}<br>%{x:,} " + _("parameters") + "<br>%{y:.2f}%<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis=dict(type="log", title=_("parameters (log scale)")),
        yaxis=dict(title=_("accuracy (%)")),
        clickmode="event+select",
        showlegend=False,  # the caption under the figure says what the line and the colours are
    )
    return style.styled(fig, height, top=40)


def figure_text(entries: list[Entry]) -> str:
    ranked = [e for e in entries if e.rank is not None]
    if not ranked:
        return _("No design has been scored yet.")
    front = _(", ").join(
        _("{nickname} ({params:,} parameters, {accuracy:.2%})").format(
            nickname=e.nickname, params=e.params, accuracy=e.accuracy
        )
        for e in pareto_front(ranked)
    )
    return _(
        "{count} scored designs by their parameters (log scale) and accuracy. On the Pareto front: {front}."
    ).format(count=len(ranked), front=front)


def rank_table(entries: list[Entry], seconds: bool = True) -> pd.DataFrame:
    """The rank table's rows: rank, nickname, parameters, accuracy, training seconds (unless
    ``seconds`` is False: the projector's narrower table), status."""
    rows = [
        {
            _("rank"): str(e.rank) if e.rank else "",
            _("nickname"): e.nickname,
            _("parameters"): f"{e.params:,}",
            _("accuracy"): f"{e.accuracy:.2%}" if e.accuracy is not None else "",
            _("seconds"): f"{e.seconds:.2f}" if e.seconds is not None else "",
            _("status"): status_word(e),
        }
        for e in entries
    ]
    columns = [_("rank"), _("nickname"), _("parameters"), _("accuracy"), _("seconds"), _("status")]
    return pd.DataFrame(rows, columns=columns if seconds else [c for c in columns if c != _("seconds")])


def picked(event) -> int | None:
    """The entry id a click on the scatter chose (its point's customdata), or None."""
    points = (event.selection or {}).get("points") or [] if event else []
    chosen = points[0].get("customdata") if points else None
    if isinstance(chosen, list):
        chosen = chosen[0]
    return None if chosen is None else int(chosen)


def board(entries: list[Entry], *, chosen_key: str, key: str, compact: bool = False, height: int = 380) -> None:
    """The scatter and the rank table side by side (``compact``: the projector's, without the
    seconds and the caption); a click on a point chooses that entry (``st.session_state[chosen_key]``)
    and reruns the page, where its design is."""
    chosen = st.session_state.get(chosen_key)
    left, right = st.columns(2, gap="medium")
    with left:
        event = charts.plotly_chart(
            figure(entries, chosen, height),
            key=f"{key}_chart",
            on_select="rerun",
            selection_mode="points",
            description=figure_text(entries),
        )
        if not compact:
            st.caption(
                _(
                    "The dotted line joins the Pareto front, in colour: for each of those designs, no other is as accurate "
                    "with fewer parameters. A grey design has one that is. Click a point to open its design."
                )
            )
    with right, st.container(key=f"{key}_table"):
        st.table(
            rank_table(entries, seconds=not compact).style.hide(axis="index")
        )  # text as typed, readable on a projector
    clicked, seen = picked(event), f"_{key}_clicked"
    if clicked is not None and clicked != st.session_state.get(seen):  # a new click, not the chart's old selection
        st.session_state[seen] = st.session_state[chosen_key] = clicked
        st.rerun()  # the whole page: the chosen entry's design sits outside the polled board


def live(challenges: Challenges, challenge_id: int, teacher: bool, *, chosen_key: str, key: str, **options) -> None:
    """The queue's line and the board, polled every two seconds (a fragment: the rest of the page
    stays as it is). A poll that finds nothing changed sends the same figure and table, which the
    browser keeps as they are drawn."""

    @st.fragment(run_every=POLL_SECONDS)
    def polled() -> None:
        challenge = challenges.challenge(challenge_id)
        entries = shown_entries(challenges.entries(challenge_id), teacher)
        st.markdown(queue_line(challenge, entries))
        if not entries:
            st.info(
                _("No design yet: students submit theirs from **Design a network**, under the layer table."),
                icon=":material/hourglass_empty:",
            )
            return
        board(entries, chosen_key=chosen_key, key=key, **options)

    polled()


def entry_detail(entry: Entry) -> None:
    """One entry: its notation, its result, its layer table and diagram, and its curve."""
    st.markdown(
        _("**{nickname}**: {params:,} parameters, {status}").format(
            nickname=links.markdown_text(entry.nickname), params=entry.params, status=status_word(entry)
        )
        + (_(", {accuracy:.2%}").format(accuracy=entry.accuracy) if entry.accuracy is not None else "")
    )
    st.code(entry.notation, language=None, wrap_lines=True)
    if entry.message:
        st.caption(entry.message)
    try:
        design = parse(entry.notation)
    except DesignError as exc:  # stored before a change of the notation's rules: said, not drawn
        st.warning(str(exc), icon=":material/block:")
        return
    if entry.history:
        runs = {html.escape(entry.nickname): {"history": entry.history}}
        charts.plotly_chart(
            training_figs.compare_figure(runs, "accuracy", True),
            key=f"challenge_curve_{entry.id}",
            description=training_figs.curves_text(runs, "accuracy"),
        )
    layer_math.network_diagram(design)
    layer_math.layer_table(design, None, "")
    accessibility.describe(_("The layers of {nickname}'s design.").format(nickname=entry.nickname))
