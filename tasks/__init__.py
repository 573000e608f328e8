"""Celery tasks on Redis: the timer sweep and the outbox dispatcher at scale.

They call the same engine as the CLI (`workflow.timers.sweep`); nothing here holds state
that the database does not.
"""
