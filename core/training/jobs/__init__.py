"""One background training run per server group, seen by every session and every process.

``spec``: a run's settings, checked before anything starts; ``runner``: the manager that starts one
run at a time; ``job``: that run in its thread; ``state``: the run's progress as every session reads
it; ``group``: the files through which the processes of a lecture hall share the one run (a lock,
the progress, a stop request).

May import: core.training, core.models, core.data, core.device, core.files, core.i18n.
"""
