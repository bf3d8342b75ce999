"""The one base for errors a person can act on: the CLI prints their message and exits 2.

Anything else that escapes is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with input or surroundings; the message names the thing, the problem, what to do."""
