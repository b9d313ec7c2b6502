"""What the /dataset page draws: the images the network is given, counted and as its targets.

May import core and dashboard.figures, dashboard.frame; no other dashboard package imports it.
"""
