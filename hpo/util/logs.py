"""Route a job's output to its Snakemake ``log:`` file: the one place a user looks when a job fails.

Everything written there (``print``, ``logging``, the traceback of a failure) passes :func:`hpo.util.redact.redact`,
and so
does the exception that leaves the job (Python prints it on the terminal Snakemake shows, and ``run_status.csv``
quotes the log's last line): an endpoint that echoes the request's ``Authorization`` header must not put the API key
in any of them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from hpo.util.redact import RedactingWriter, redact_exception


@contextlib.contextmanager
def job_log(path: str | Path) -> Iterator[None]:
    """Send stdout, stderr and ``logging`` to ``path`` (redacted); a failure's traceback lands there too, then
    re-raises with keys redacted from its message."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as fh:
        out = RedactingWriter(fh)
        handler = logging.StreamHandler(out)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                root.addHandler(handler)
                root.setLevel(logging.INFO)
                try:
                    yield
                except BaseException as exc:
                    traceback.print_exc(file=out)
                    clean = redact_exception(exc)
                    if clean is not exc:
                        raise clean from None
                    raise
                finally:
                    root.removeHandler(handler)
        finally:
            out.close()
    # The error's last line also reaches the terminal through Snakemake's own report of the failed job.
    sys.stdout.flush()
