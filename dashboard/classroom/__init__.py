"""The /class page's tabs: the wall (``wall``, its sessions, its grid of digits and the chosen
digit large), fool the network (``challenge``), our class vs MNIST (``vs_mnist``), learning our
handwriting (``finetune``), take the class home (``home``), digits from paper (``paper_upload``),
the design challenge (``design_challenge``, its leaderboard drawn as /design draws designs);
what they share (``common``) and their figures (``figures``). A sent digit is shown as /draw
shows one, and the fine-tune as /training shows a run: the two packages this one builds on.

May import: core, dashboard.figures, dashboard.frame, dashboard.draw, dashboard.training, dashboard.design.
"""
