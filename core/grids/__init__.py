"""The convolution lesson's arithmetic: convolution and pooling on small grids, one output cell at
a time (``gridmath``), the ready-made inputs and kernels (``presets``), the printable worksheet
(``worksheet``).

May import: core.models, core.data, core.i18n.
"""
