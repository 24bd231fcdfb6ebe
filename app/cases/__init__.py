"""Case review: the workflow that objections (异议) and credit repairs (信用修复) share.

A subject opens a case about one of its records, with evidence; an operator reads it from a queue and
closes it with a decision before a deadline; a worker escalates what is late. ``app.objections`` and
``app.repairs`` keep only what differs: what a decision does to the record and the score.
"""
