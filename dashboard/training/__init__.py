"""The /training page's tabs: a run started and followed live (``run``), runs compared
(``compare``), a model's mistakes and its confusion matrix (``mistakes``), a test image through a
run's epochs (``scrubber``), what the tabs share (``shared``) and their figures (``figures``).

May import: core, dashboard.figures, dashboard.frame.
"""
