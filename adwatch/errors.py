"""The one base for errors a person can act on: the CLI prints their message and exits 2.

Anything else that escapes is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with input or surroundings; the message names the thing, the problem, what to do."""


class EngineUnavailable(UserError):
    """Elasticsearch did not answer within the retry bound (ADWATCH_ES_RETRY_SECONDS).

    Raised by every client the spine makes (connect, the bulk writer, scans, refresh, count) once the
    cluster has failed continuously for the bound; work written before stays, so a stage that stops
    on it records its run as interrupted and the next run resumes.
    """

    def __init__(self, message: str, cluster: str = "", waited_s: float = 0.0, why: str = "") -> None:
        super().__init__(message)
        self.cluster = cluster
        self.waited_s = waited_s
        self.why = why


class PermissionDenied(UserError):
    """Elasticsearch answered 403: the credentials lack a privilege; the message names it."""
