"""/class: the class wall. Every digit the class sent, live, for the projector; and what the class's
handwriting teaches about the network.

A table of contents. Above the tabs, the class sessions (dashboard.classroom.sessions: the session
every tab shows). Each tab is drawn by a module of its own, only the open one:

- The wall: the "fool the network" challenge and its board (dashboard.classroom.challenge), the
  filters and the live grid of digits (dashboard.classroom.wall), the chosen digit large
  (dashboard.classroom.chosen_digit).
- Our class vs MNIST: dashboard.classroom.vs_mnist (core.classroom.lessons).
- Learning our handwriting: the fine-tune, as the server's background run
  (dashboard.classroom.finetune: core.classroom.finetune, core.training.jobs.runner).
- Take the class home: the dataset, MNIST's IDX files and the printable wall (dashboard.classroom.home).
- Digits from paper: dashboard.classroom.paper_upload (core.classroom.paper).
- The design challenge: the teacher's rules and controls, the live leaderboard, an entry's design
  (dashboard.classroom.design_challenge, dashboard.design.challenge_board); a tab of its own, as
  the wall's digits and the class's designs are two activities, and on the projector's wall above
  the digits while one is open.
- Lessons: the lesson being built from the pages' views, the saved lessons, their files
  (dashboard.lesson.building; lesson mode itself is above every page: dashboard.lesson.follow).

Only the teacher (dashboard.frame.roles) may hide digits, start or delete a class session, export, turn
the challenge on, mark a digit not fair, fine-tune, add digits from paper or open, stop, close and
export a design challenge and hide its entries; students see those
controls disabled, and every action checks the role again where it acts
(``class_common.teacher_action``).

The settings a teacher would share live in the URL (``bind="query-params"``), e.g.
``/class?class_tab=vs-mnist&vs_model=lenet5&vs_true=4&vs_pred=9``: ``class_tab`` (a tab's short
key: ``wall vs-mnist finetune home paper designs lessons``, or its title in either language), ``wall_session`` (a
class session's number), ``view`` (``wall``: the projector's wall alone; ``full``: the whole page),
``wall_mistakes wall_digit wall_model vs_model vs_true vs_pred vs_all ft_model ft_steps ft_mix``, and
the digit panels' (``wall_*`` and ``fool_*``: dashboard.draw.digit_panel).
"""

import streamlit as st

from core.i18n import N_, _
from dashboard.classroom import challenge, common, design_challenge, sessions, wall
from dashboard.classroom.finetune import finetune_tab
from dashboard.classroom.home import home_tab
from dashboard.classroom.paper_upload import paper_tab
from dashboard.classroom.vs_mnist import lessons_tab
from dashboard.frame import guard, language, links, presenter, roles
from dashboard.lesson import building


def wall_tab(store, session: int | None, teacher: bool) -> None:
    challenge.challenge_section(store, session, teacher)
    wall.wall_section(store, session, teacher)


# Each tab under a short key a link may name in any language (?class_tab=vs-mnist), or by its title.
TABS = {
    "wall": (N_("The wall"), wall_tab),
    "vs-mnist": (N_("Our class vs MNIST"), lessons_tab),
    "finetune": (N_("Learning our handwriting"), finetune_tab),
    "home": (N_("Take the class home"), home_tab),
    "paper": (N_("Digits from paper"), paper_tab),
    "designs": (N_("The design challenge"), design_challenge.designs_tab),
    "lessons": (N_("Lessons"), building.lessons_tab),
}
VIEW_KEY, WALL_VIEW, WHOLE_PAGE = "view", "wall", "full"


def tab_from_link() -> None:
    """A tab's short key in the link, read as that tab's title (what the tabs keep in the URL)."""
    asked = st.query_params.get("class_tab")
    if asked in TABS:
        links.rewrite("class_tab", [_(TABS[asked][0])])


def chosen_view() -> str:
    """``?view=wall`` (the projector's wall alone) or ``?view=full``; without it, presenter mode
    opens on the wall alone unless the link names a tab."""
    asked = st.query_params.get_all(VIEW_KEY)
    if asked and asked[-1] in (WALL_VIEW, WHOLE_PAGE):
        return asked[-1]
    if asked:
        links.refuse(VIEW_KEY, asked, _("the whole page"))
        return WHOLE_PAGE
    return WALL_VIEW if presenter.is_on() and "class_tab" not in st.query_params else WHOLE_PAGE


def show_view(view: str) -> None:
    st.query_params[VIEW_KEY] = view


teacher = roles.is_teacher()
view = chosen_view()
if view == WHOLE_PAGE:
    st.title(_("The class wall"))
    st.markdown(
        _(
            "Every digit the class sends from **Draw a digit** appears here within a second or two: what "
            "the student meant, and what the network made of it."
        )
    )
    st.button(
        _("The wall alone, for the projector"),
        key="wall_view_open",
        icon=":material/fullscreen:",
        type="tertiary",
        on_click=show_view,
        args=(WALL_VIEW,),
    )
common.show_denied()
store = common.open_store()
if store is not None and view == WALL_VIEW:
    linked = sessions.linked_session(store)
    with guard.guarded(_("The design challenge")):
        design_challenge.projector(store, linked)
    with guard.guarded(_("The wall")):
        wall.wall_view(store, linked, lambda: show_view(WHOLE_PAGE))
elif store is not None:
    session = None  # the current one, also when the sessions panel cannot be shown
    with guard.guarded(_("The class sessions")):
        session = sessions.sessions_panel(store, teacher)
    tab_from_link()
    tabs = language.tabs([title for title, _draw in TABS.values()], key="class_tab", on_change="rerun")
    for tab, (title, draw) in zip(tabs, TABS.values()):
        if tab.open is not False:  # None when tabs do not track state: draw them all
            with tab, guard.guarded(_(title)):
                draw(store, session, teacher)
