"""The /design page: where a design starts and the stack edited as a table and as one line of
notation, kept in step and in the link (``stack``); the layer math of the design, its diagram and
its change from where it started (``layer_math``); training it as the server's run (``train``);
every checkpoint's size against its accuracy (``compare``); the design challenge's rules and
leaderboard as everyone reads them (``challenge_board``, also on /class) and the panel that
submits a design to it (``challenge_entry``). The diagram is /architecture's and
the run's live panel /training's: the two packages this one builds on.

May import: core, dashboard.figures, dashboard.frame, dashboard.architecture, dashboard.training.
"""
