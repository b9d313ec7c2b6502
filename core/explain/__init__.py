"""What a network does with one digit: the feature maps of every stage, which pixels mattered
(Captum attributions), which input pixels a unit sees (receptive fields), what a change to the
digit does (perturbations), and maps as pictures.

May import: core.models, core.architecture, core.grids, core.data, core.device, core.i18n.
"""
