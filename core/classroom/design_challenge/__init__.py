"""The design challenge: the class submits networks in the design notation, the server trains them
in turn, the wall ranks them.

``scoring``: what a challenge is (its rules, its entries, how they are scored and ranked, the
Pareto front, the results as CSV); ``submissions``: the challenges and the class's designs in the
class store; ``queue``: each entry trained in turn as the server group's one background run (a
thread per server process; ``run_all`` for scripts).

May import: core.classroom, core.training, core.models, core.data, core.device, core.files, core.i18n.
"""
