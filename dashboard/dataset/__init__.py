"""What the /dataset page draws beyond the shared grids: how many images show each digit, and a
label as the one-hot vector the network is trained towards (``figures``).

May import: core, dashboard.figures, dashboard.frame.
"""
