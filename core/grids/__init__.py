"""The convolution lesson's arithmetic: convolution on small grids, one output cell at a time, and
the steps every grid operation shares (``gridmath``), pooling (``pooling``), a step's arithmetic
written out (``arithmetic``), the ready-made inputs and kernels (``presets``), the printable
worksheet (``worksheet``).

May import: core.models, core.data, core.i18n.
"""
