"""The government case workflow: dispatch to departments, signing for, replies and review,
returns, extensions, urging and supervision, evaluation, closing and reopening, merging and
splitting; the deadline timers; who may read a case a department holds.
May import the queue, cases and the layers below."""
