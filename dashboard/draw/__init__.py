"""One digit through a network, as /draw shows it (and the class wall, large): the input
(``inputs``), the prediction, feature maps and attributions (``digit_panel``), sending it to the class
(``send_panel``), and the explorations (``explorations``): a unit's receptive field
(``receptive_field``), the perturbation lab (``perturbation_lab``) and the journey through every stage
(``journey``, a unit opened: ``unit_arithmetic``).

May import: core, dashboard.figures, dashboard.frame, dashboard.stepping.
"""
