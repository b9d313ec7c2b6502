"""A network's anatomy, computed: per-layer accounting (``layers``: shapes, parameters,
connections, multiply-adds), the 1998 paper's Fig. 2 as boxes (``diagram``), LeNet-5 of 1998
against the modern LeNet (``views``), how shapes are written (``notation``), and the table of a
designed network (``design_table``).

May import: core.models, core.data, core.device, core.i18n.
"""
