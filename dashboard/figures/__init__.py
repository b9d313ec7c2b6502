"""The figures every page shares, drawn one way: every colour (``palettes``), one style
(``style``), a figure as a page shows it (``charts``: its colours in the mode, enlarged for a
projector, described for a screen reader), square-cell grids and maps (``grids``), one digit's
figures (``one_digit``) and the same pictures as HTML (``html_pictures``).

May import: core, dashboard.frame.
"""
