"""Apache Spark sources: `spark:catalog.schema.table`, `spark:parquet:/path`, `spark:csv:/path`,
`spark:delta:/path`, read through a Spark Connect server (`--spark-remote sc://HOST:PORT` or
`SPARK_REMOTE`) or a Spark master (`--spark-master local[2]` / `spark://host:7077`).

pyspark is imported inside the functions only: the extra is optional and a CLI run that reads no
Spark source must not pay for it. Every Spark failure a user can cause (server down, table or path
missing, a format the server lacks) becomes a `DataSourceError` with one line that says what.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aidebt_core.errors import DataSourceError, OptionError

SPARK_PREFIX = "spark:"
PATH_FORMATS = ("parquet", "csv", "delta")
DEFAULT_CONNECT_PORT = 15002  # Spark Connect's own default
REACH_TIMEOUT = 5.0  # seconds: an unreachable server must fail well inside 10 s
REMOTE_ENV = "SPARK_REMOTE"
# A profile's job unpivots every column in one stage; its whole-stage generated method is
# tens of KB, which HotSpot refuses to JIT-compile (> 8,000 bytes) and then interprets, ~2x
# slower over the whole scan. At 8,000 Spark runs such a stage operator by operator with
# smaller compiled methods instead (the value Spark's own documentation suggests on HotSpot).
HUGE_METHOD_LIMIT = ("spark.sql.codegen.hugeMethodLimit", "8000")


@dataclass(frozen=True)
class SparkOptions:
    """How to reach Spark: a Spark Connect URL or a master URL (never both)."""

    remote: str | None = None
    master: str | None = None

    @classmethod
    def resolve(cls, remote: str | None = None, master: str | None = None,
                environ: dict[str, str] | None = None) -> SparkOptions:
        """Flags first; `SPARK_REMOTE` only when neither flag is given."""
        remote = (remote or "").strip() or None
        master = (master or "").strip() or None
        if remote and master:
            raise OptionError("Give either --spark-remote or --spark-master, not both.")
        if not remote and not master:
            env = os.environ if environ is None else environ
            remote = (env.get(REMOTE_ENV) or "").strip() or None
        return cls(remote=remote, master=master)

    @property
    def configured(self) -> bool:
        return bool(self.remote or self.master)

    @property
    def label(self) -> str:
        return self.remote or self.master or "no Spark session"


@dataclass(frozen=True)
class SparkSpec:
    """A parsed `spark:` data argument: a catalog table or a path in one of PATH_FORMATS."""

    format: str  # "table" or one of PATH_FORMATS
    location: str  # the table name, or the path as Spark will read it

    def __str__(self) -> str:
        if self.format == "table":
            return f"{SPARK_PREFIX}{self.location}"
        return f"{SPARK_PREFIX}{self.format}:{self.location}"


def is_spark_spec(spec: object) -> bool:
    return isinstance(spec, str | Path) and str(spec).strip().startswith(SPARK_PREFIX)


def parse_spark_spec(spec: str) -> SparkSpec:
    """`spark:db.table` -> table; `spark:parquet:/data/x` -> a path (made absolute when local)."""
    text = str(spec).strip()
    if not text.startswith(SPARK_PREFIX):
        raise DataSourceError(f"Not a Spark source: {text!r} (expected spark:...).")
    rest = text[len(SPARK_PREFIX):].strip()
    head, sep, tail = rest.partition(":")
    if sep and head.lower() in PATH_FORMATS:
        path = tail.strip()
        if not path:
            raise DataSourceError(f"{text!r} names no path after 'spark:{head}:'.")
        return SparkSpec(head.lower(), _spark_path(path))
    if not rest or sep:
        raise DataSourceError(
            f"Cannot read the Spark source {text!r}: use spark:catalog.schema.table or "
            f"spark:FORMAT:/path with FORMAT one of {', '.join(PATH_FORMATS)}.")
    return SparkSpec("table", rest)


def _spark_path(path: str) -> str:
    """A URL (s3a://, hdfs://, file:/...) goes to Spark as given; a local path is made absolute,
    because the server does not run in our working directory."""
    if "://" in path or path.startswith("file:"):
        return path
    return str(Path(path).expanduser().absolute())


@dataclass(frozen=True, eq=False)
class SparkSource:
    """An opened Spark source: its lazy DataFrame and its columns with their Spark types."""

    spec: SparkSpec
    options: SparkOptions
    frame: Any  # pyspark.sql.DataFrame (Connect or classic)
    columns: tuple[tuple[str, str], ...]  # (name, Spark simple type string)
    # Aggregates one job computed for a later one on the same source (spark_plan.SUMMARIES),
    # so the plan does not read the reference again for what role inference already read.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return str(self.spec)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def column_type(self, name: str) -> str:
        for column, kind in self.columns:
            if column == name:
                return kind
        raise DataSourceError(f"{self.label} has no column {name!r}.")


def spark_column(name: str) -> str:
    """A column name as a Spark SQL identifier (backticks doubled), so dots, spaces and
    backticks in user column names are never parsed as struct access or SQL."""
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------------------------- sessions

_SESSIONS: dict[SparkOptions, Any] = {}
_SESSION_LOCK = threading.Lock()


def spark_session(options: SparkOptions) -> Any:
    """The Spark session for these options, created once per process."""
    if not options.configured:
        raise OptionError(
            "A spark: source needs a Spark session: give --spark-remote sc://HOST:PORT (or set "
            "SPARK_REMOTE) for a Spark Connect server, or --spark-master URL (e.g. 'local[2]').")
    with _SESSION_LOCK:
        session = _SESSIONS.get(options)
        if session is None:
            session = (_connect_session(options.remote) if options.remote
                       else _master_session(options.master or ""))
            _SESSIONS[options] = session
        return session


def _import_pyspark() -> None:
    try:
        with warnings.catch_warnings():
            # pyspark warns about pandas >= 3 at import; it is not the user's problem.
            warnings.simplefilter("ignore", FutureWarning)
            import pyspark.sql  # noqa: F401
    except ImportError as exc:
        raise OptionError("Spark sources need pyspark: pip install 'aidebt[spark]'.") from exc


def _check_reachable(host: str, port: int, what: str) -> None:
    """A TCP connect with a short timeout: the Spark clients themselves retry for minutes."""
    try:
        with socket.create_connection((host, port), timeout=REACH_TIMEOUT):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DataSourceError(f"Cannot reach {what} at {host}:{port} ({reason}): is it running, "
                              "and is the address right?") from exc


def _connect_session(url: str) -> Any:
    parts = urlsplit(url)
    if parts.scheme != "sc" or not parts.hostname:
        raise OptionError(f"--spark-remote {url!r} is not a Spark Connect URL (sc://HOST:PORT).")
    try:
        port = parts.port or DEFAULT_CONNECT_PORT
    except ValueError as exc:
        raise OptionError(f"--spark-remote {url!r} has a bad port.") from exc
    _check_reachable(parts.hostname, port, f"the Spark Connect server {url}")
    _import_pyspark()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql.connect.client.retries import DefaultPolicy
        from pyspark.sql.connect.session import SparkSession
    with spark_errors(f"the Spark Connect server {url}"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # RETRIES_EXCEEDED: the error says it
        session = SparkSession.builder.remote(url).create()
        # The default policy retries an unavailable server for 10 minutes; a user waiting on a
        # command wants the error within seconds.
        session.client.set_retry_policies([DefaultPolicy(max_retries=3, max_backoff=2000)])
        session.version  # noqa: B018 - the first round trip: fails here if it is not Spark
        session.conf.set(*HUGE_METHOD_LIMIT)
    return session


def _master_session(master: str) -> Any:
    if master.startswith("spark://"):
        parts = urlsplit(master)
        if not parts.hostname:
            raise OptionError(f"--spark-master {master!r} names no host.")
        _check_reachable(parts.hostname, parts.port or 7077, f"the Spark master {master}")
    elif not master.startswith(("local", "yarn", "k8s://")):
        raise OptionError(f"--spark-master {master!r} is not a master URL "
                          "(local[N], spark://HOST:PORT, yarn, k8s://...).")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise DataSourceError("--spark-master runs a Spark driver here and needs Java 17+ "
                              "(no 'java' on PATH and no JAVA_HOME).")
    _import_pyspark()
    from pyspark.sql import SparkSession

    # pyspark would turn this into a Connect session if SPARK_REMOTE is set; the flag wins.
    saved = os.environ.pop(REMOTE_ENV, None)
    try:
        with spark_errors(f"the Spark master {master}"):
            return (SparkSession.builder.master(master).appName("aidebt")
                    .config("spark.api.mode", "classic")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "8")
                    .config(*HUGE_METHOD_LIMIT)
                    .getOrCreate())
    finally:
        if saved is not None:
            os.environ[REMOTE_ENV] = saved


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Spark's own exceptions (analysis errors, gRPC failures, a JVM that will not start) as one
    DataSourceError line naming `what`."""
    _import_pyspark()
    from pyspark.errors import PySparkException

    try:
        yield
    except PySparkException as exc:
        raise DataSourceError(f"Spark could not read {what}: {_first_line(exc)}") from exc
    except Exception as exc:  # grpc / py4j transport errors carry no common base class
        module = type(exc).__module__ or ""
        if module.startswith(("grpc", "py4j", "pyspark")):
            raise DataSourceError(f"Spark failed on {what}: {_first_line(exc)}") from exc
        raise


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[:1]).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# ----------------------------------------------------------------------------------- sources

def open_spark_source(spec: str | SparkSpec, options: SparkOptions) -> SparkSource:
    """Open a `spark:` source lazily and check that it exists (its schema is resolved now)."""
    parsed = spec if isinstance(spec, SparkSpec) else parse_spark_spec(spec)
    session = spark_session(options)
    with spark_errors(str(parsed)):
        if parsed.format == "table":
            frame = session.table(parsed.location)
        elif parsed.format == "csv":
            frame = (session.read.option("header", "true").option("inferSchema", "true")
                     .csv(parsed.location))
        else:
            frame = session.read.format(parsed.format).load(parsed.location)
        fields = frame.schema.fields  # the round trip that finds a missing table or path
    columns = tuple((field.name, field.dataType.simpleString()) for field in fields)
    if not columns:
        raise DataSourceError(f"{parsed} has no columns.")
    return SparkSource(parsed, options, frame, columns)
