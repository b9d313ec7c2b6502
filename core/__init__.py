"""The CNN explainer's computation: MNIST, the networks, training, explanations, the classroom.

A library with a command line (``python -m core``); the dashboard, the command line and the tests
are its clients. It never imports streamlit, plotly or the dashboard. Its packages, each using only
those before it (every package's docstring names what it may import; tests/test_package_imports.py
checks it):

- ``i18n``, ``files``, ``device``: translations, atomic writes and digests, where torch computes;
- ``data``: MNIST without internet, a drawing made like an MNIST digit, the dataset's views;
- ``models``: the ten presets, checkpoints, predictions, copies of a shared model, ONNX;
- ``architecture``: a network's per-layer accounting, its diagram, how shapes are written;
- ``grids``: convolution and pooling on small grids, step by step;
- ``explain``: feature maps, attributions, receptive fields, perturbations, maps as pictures;
- ``training``: the loop, recipes, the one background run per server group, runs compared;
- ``classroom``: the class's digits, the teacher, the class against MNIST, fine-tuning, files;
- ``commands``: the command line, one file per command.
"""
