"""MNIST and what is made like it: the files without internet (``mnist``), the device-side
batches training and evaluation read (``batches``), a drawing or a picture made like an MNIST
digit (``preprocess``, with MNIST's geometry in ``geometry``), what the /dataset page computes
(``views``).

May import: core.files, core.i18n, core.device.
"""
