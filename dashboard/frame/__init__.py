"""The frame of every page: the sidebar (``sidebar``), the interface's language (``language``),
the link's parameters and the warnings for values a page cannot use (``links``), teacher or
student (``roles``), presenter mode (``presenter``), what makes a page usable by keyboard and screen
reader (``accessibility``), the error guard every section runs in (``guard``), and the models every
session shares with the checkpoint picker (``shared_models``).

May import: core.
"""
