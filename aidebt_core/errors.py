"""One error root for everything a user can cause: the CLI prints it, the dashboard shows it."""


class AidebtError(Exception):
    """Bad input or configuration, with a message that says what to fix."""


class DataSourceError(AidebtError):
    """A data source cannot be found, opened or read."""


class SandboxError(DataSourceError):
    """A path lies outside the directories the workspace allows."""


class SchemaError(AidebtError):
    """Columns are missing, of the wrong type, or unusable for the analysis asked for."""


class TrackingError(AidebtError):
    """The MLflow tracking store cannot be reached or read."""


class OptionError(AidebtError):
    """An analysis option (metric, method, threshold, chunking, count...) has a value the analysis
    cannot take. Not a SchemaError: the data is fine, the request is not."""
