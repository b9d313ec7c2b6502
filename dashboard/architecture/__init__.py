"""What the /architecture page draws: the network as the 1998 paper's Fig. 2, LeNet-5's C3
connection table and RBF bitmaps (``figures``), kernel, filter and channel on one layer
(``kernel_anatomy``), and LeNet-5 of 1998 beside the modern LeNet (``lenet1998_panel``).

May import: core, dashboard.figures, dashboard.frame.
"""
