"""The class: its digits in one SQLite database every page and process shares (``db`` owns the
file and the SQL, ``store`` the entries and sessions, ``checks`` what an entry may hold), who the
teacher is (``teacher``), the class against MNIST (``lessons``), fine-tuning on the class's
handwriting (``finetune``; ``finetune_job`` runs it as the server's one background run), the class
as files (``export``), digits from paper (``paper``), and the design challenge (the package
``design_challenge``: the class's designs stored, trained in turn in the server's one training
slot, ranked) and lesson mode (the package ``lesson_mode``: lessons as steps, the teacher leads).

May import: core.training, core.explain, core.models, core.data, core.device, core.files, core.i18n.
"""
