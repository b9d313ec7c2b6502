"""What the pages draw (Streamlit, plotly and HTML): all computation is in core, and a page
(pages/*.py) reads its widgets, calls core and hands the result to a module here. ``app.py`` is the
entry point. The packages, each importing only the ones before it (its docstring's "May import:"
line; tests/test_dashboard_imports.py checks every one):

- ``frame``: what every page shares around it: the sidebar, the language, the link, the role,
  presenter mode, accessibility, the error guard, the shared models and the checkpoint picker;
- ``figures``: the figures and colours every page shares, drawn one way;
- ``stepping``: the step player, over /convolution's grids and /draw's journey;
- ``dataset``, ``convolution``, ``architecture``, ``draw``, ``training``: one page each;
- ``classroom``: the /class page, which also shows a digit as /draw does and a run as /training does;
- ``design``: the /design page, which draws a network as /architecture does and a run as /training does;
- ``lesson``: lesson mode, above every page (``app.py``) and in /class's Lessons tab.
"""
