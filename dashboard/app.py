"""Entry point: ``streamlit run dashboard/app.py``.

Page config, the shared sidebar (compute device), and navigation over the nine pages.
``core``, ``dashboard`` and ``serve`` are importable because the project is installed
(``pip install -e .``, done by ``make setup``).
"""

# Plotly reads pandas from the loaded modules: imported here, at the first run, so that no session
# finds it half-imported by another one ("partially initialized module 'pandas'").
import pandas  # noqa: F401 (imported for that, not used here)
import streamlit as st

from core import device
from core.i18n import _
from dashboard.frame import guard, language, links, roles, sidebar
from dashboard.lesson import building, follow

# A page run happens in a script thread, most often a new one, which would take whatever thread count
# another thread set last: every run starts on the class's share of the cores (core.device's policy).
device.use_threads(device.shared_threads())
language.connect()  # every _() below is in this session's language
st.set_page_config(page_title=_("CNN explainer"), page_icon=":material/neurology:", layout="wide")

PAGES = [
    st.Page("../pages/home.py", title=_("Home"), icon=":material/home:", url_path="home", default=True),
    st.Page("../pages/dataset.py", title=_("Dataset"), icon=":material/grid_view:", url_path="dataset"),
    st.Page("../pages/convolution.py", title=_("Convolution"), icon=":material/blur_on:", url_path="convolution"),
    st.Page(
        "../pages/architecture.py", title=_("Architecture"), icon=":material/account_tree:", url_path="architecture"
    ),
    st.Page("../pages/design.py", title=_("Design a network"), icon=":material/construction:", url_path="design"),
    st.Page("../pages/draw.py", title=_("Draw a digit"), icon=":material/draw:", url_path="draw"),
    st.Page("../pages/training.py", title=_("Training"), icon=":material/monitoring:", url_path="training"),
    st.Page("../pages/class.py", title=_("Class wall"), icon=":material/groups:", url_path="class"),
    st.Page("../pages/models.py", title=_("Models"), icon=":material/table_view:", url_path="models"),
]

page = st.navigation(PAGES)
language.carry_over()  # a link's labels in this session's language, before any widget reads them
asked = links.requested()  # before any widget takes (or drops) a value of the link
roles.establish()  # the role and key this browser keeps; ?teacher=TOKEN checked once, then out of the URL
sidebar.draw()
with st.sidebar:
    roles.sidebar()  # under the role: leaving it; the browser's cookies kept as this session has them
    with guard.guarded(_("Lesson mode")):
        building.sidebar(page.url_path, page.title)  # the teacher's: start a lesson, add this view as a step
with guard.guarded(_("Lesson mode")):
    follow.area(page.url_path)  # above the page: the lesson's step, followed by the class, led by the teacher
notices = st.container()  # above the page: what the link asked for that the page cannot show
roles.show_refusal(notices)
try:
    with guard.guarded(_("This page")):  # the last net: a section's own guard normally says it first
        page.run()
finally:  # also when the page reruns itself: the check is for the link as it was opened
    links.check(page.url_path, asked)
links.show(notices, page.url_path)
