"""Lesson mode in the dashboard: above every page, the lesson as each reader sees it (``follow``:
a student's page follows the teacher's step, the teacher's bar leads it); in the sidebar, the
teacher's "start a lesson" and "add this view as a step" (``building``); on /class, the lessons
tab where the teacher builds, saves and shares lessons (``lessons_tab``).

May import: core, dashboard.frame.
"""
