"""The /convolution lesson: one kernel over one channel (``one_channel``), one filter over three
channels (``three_channels``), pooling (``pooling``), each step by step with the step player
(``dashboard.stepping``); their grids (``step_grids``), their controls
(``grid_widgets``) and the numbered draw of random inputs (``numbered_draw``).

May import: core, dashboard.figures, dashboard.frame, dashboard.stepping.
"""
