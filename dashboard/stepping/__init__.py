"""The step player, shared by the pages that walk a computation one step at a time: /convolution's
three modes on small grids, and /draw's journey on a trained network's real maps. Play, pause,
step, speed, and predict-then-reveal (``stepper``), its state apart as plain data a test drives
without Streamlit (``playback``).

May import: core, dashboard.frame.
"""
