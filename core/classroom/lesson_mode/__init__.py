"""Lesson mode: the teacher leads and the class's screens follow.

``plans``: a lesson as an ordered list of steps (a view of the dashboard given by its link, a
title, a line or two for the students), the default lesson, the JSON and TOML files teachers share,
and the lessons saved in the class store (and the one being built).
``live``: the lesson being taught (its step; led, paused or ended) and where each student's page is
in it, shared by every server process through the class store.

May import: core.classroom, core.i18n, core.files.
"""
