"""`UserError`: the base of every error that a user's input or environment causes, not a bug.

Each library raises its own subclass (`ConfigError`, `WorkdirError`, `DatasetNotPreparedError`,
...) with a one-line message saying what to change; every binary turns any `UserError` into
`error: <message>` and exit status 1 (`acai_tf.cli.runner.one_line_errors`). Anything else is a
bug and keeps its traceback.
"""


class UserError(Exception):
    """A request that cannot be carried out as given; the message is one line."""
