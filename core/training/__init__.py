"""Training and its results: the loop on the fast data path (``train``), how each preset is trained
(``recipes``), the one background run per server group (``jobs/``), per-epoch snapshots, runs
compared, a model's test-set answers (``confusion``), what a class calls each checkpoint
(``names``) and the training-speed benchmark (``bench``).

May import: core.models, core.explain, core.data, core.device, core.files, core.i18n.
"""
