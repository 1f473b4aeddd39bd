"""The trajectory file: one Parquet file per (benchmark, method, seed), one row per trial.

This module is the single definition of the schema (documented in docs/outputs.md) and of how a trajectory is written:
atomically (temp file in the same directory + ``os.replace``), so a killed job never leaves a readable partial file,
with the metadata needed to reproduce it stored as Parquet key-value metadata under ``hpo.meta`` (JSON).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

META_KEY = b"hpo.meta"

# name, type, meaning (docs/outputs.md's schema table is checked against this list by tests/test_docs.py)
COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("benchmark", pa.string(), "benchmark id, e.g. mlp-car"),
    ("method", pa.string(), "method name from the study config"),
    ("seed", pa.int64(), "run seed"),
    ("trial", pa.int64(), "1-based trial index"),
    ("config", pa.string(), "evaluated configuration, canonical JSON (sorted keys)"),
    ("origin", pa.string(), "initial_design, optimizer; LLM kinds: llm, repaired, fallback; llm_tpe: also tpe, mixed"),
    ("loss", pa.float64(), "loss the optimizer observed (minimized)"),
    ("true_loss", pa.float64(), "noise-free loss of this configuration (mean over the table's seeds)"),
    ("best_loss", pa.float64(), "best observed loss so far"),
    ("incumbent", pa.string(), "configuration with the best observed loss so far (JSON)"),
    (
        "regret",
        pa.float64(),
        "noise-free loss of the incumbent minus f*; never negative (multi-fidelity: the "
        "incumbent is the best observed at the highest fidelity reached, its loss taken at the maximum fidelity)",
    ),
    ("fidelity", pa.float64(), "multi-fidelity benchmarks: the fidelity evaluated at (null on the others)"),
    (
        "eval_cost",
        pa.float64(),
        "simulated evaluation cost in seconds (table training time; NaN if unknown); "
        "multi-fidelity benchmarks: in full-fidelity evaluations (1.0 at the maximum fidelity)",
    ),
    ("cum_eval_cost", pa.float64(), "simulated cost so far in seconds"),
    ("optimizer_time", pa.float64(), "seconds spent in ask + tell for this trial"),
    ("wall_time", pa.float64(), "seconds since the job started, at the end of this trial"),
    # Filled by LLM methods only (null otherwise, also on llm_tpe's TPE trials); origin: llm, repaired or fallback.
    ("attempts", pa.int64(), "LLM: model calls made for this trial (re-asks included)"),
    ("prompt_tokens", pa.int64(), "LLM: prompt tokens summed over this trial's calls"),
    ("completion_tokens", pa.int64(), "LLM: completion tokens summed over this trial's calls"),
    ("llm_latency", pa.float64(), "LLM: seconds spent waiting on the model for this trial"),
    ("llm_cost", pa.float64(), "LLM: cost in the endpoint's currency (0 when no prices are configured)"),
    ("cache_hits", pa.int64(), "LLM: calls of this trial answered from the reply cache"),
    ("raw_reply", pa.string(), "LLM: the model's last raw reply"),
    ("rationale", pa.string(), "LLM: the model's stated reason, if it gave one"),
    # Repetition guard of every LLM kind (null on noisy benchmarks, where repeating a configuration is not waste;
    # llambo and llambo_lite count the evaluated candidates their samplers drop on every benchmark).
    ("proposals", pa.int64(), "LLM: configurations parsed from this trial's replies, duplicates included"),
    ("duplicates", pa.int64(), "LLM: proposals repeating an evaluated configuration (re-asked or dropped)"),
    # llambo / llambo_lite only: the candidate sampler and the surrogate that chose among the candidates.
    ("target_loss", pa.float64(), "LLAMBO: the target loss the candidate sampler was asked for"),
    ("invalid", pa.int64(), "llambo: sampler proposals dropped as outside the space (key, range, ordinal tolerance)"),
    ("sampler_rounds", pa.int64(), "LLAMBO: candidate-sampler rounds run (llambo resamples until enough candidates)"),
    ("n_candidates", pa.int64(), "LLAMBO: distinct new valid candidates after deduplication"),
    ("candidate", pa.int64(), "LLAMBO: 1-based sampler index of the chosen candidate"),
    ("scored", pa.int64(), "LLAMBO: candidates with a usable predicted score (0: the first one was taken)"),
    ("bad_scores", pa.int64(), "LLAMBO: predicted scores missing or non-numeric (re-asked) or implausible (clipped)"),
    ("surrogate_samples", pa.int64(), "LLAMBO: usable surrogate predictions of the chosen candidate"),
    ("predicted_loss", pa.float64(), "LLAMBO: mean predicted loss of the chosen candidate (discriminative)"),
    ("predicted_std", pa.float64(), "LLAMBO: standard deviation of those predictions"),
    ("acquisition", pa.float64(), "LLAMBO: expected improvement of the chosen candidate (generative: mean P(top))"),
    ("ei_ties", pa.int64(), "LLAMBO: candidates sharing the top acquisition (> 1: a seeded draw among them)"),
    ("p_top_from", pa.string(), "LLAMBO generative: P(top) from token logprobs, or the share of 1 labels"),
    # llm_tpe with mix: random, per: parameter: hyperparameters whose value came from the model's proposal.
    ("llm_params", pa.int64(), "llm_tpe: hyperparameters taken from the model's proposal (per-parameter mixing)"),
    # llm_mf / mm_llm_mf*: the model's decision was refused (origin fallback), and Hyperband's next step evaluated.
    ("fallback_reason", pa.string(), "llm_mf: why the model's decision was not followed (Hyperband's next step was)"),
]
ORIGINS = ("initial_design", "optimizer", "llm", "repaired", "fallback", "tpe", "mixed")
SCHEMA = pa.schema([pa.field(n, t) for n, t, _ in COLUMNS])


def write(table: pa.Table, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``table`` with ``meta`` to ``path`` atomically."""
    import pyarrow.parquet as pq

    from hpo.util.atomic import atomic_path

    table = table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


# Metadata fields a run file must carry for the job at its path (hpo.run.harness.RunSpec, stored under ``spec``);
# checked by aggregation and by the insight job, which both read a run file another job wrote.
CHECKED_FIELDS = ("benchmark", "method", "seed", "n_trials", "fingerprint")


def check_meta(path: str | Path, meta: dict[str, Any], expected: dict[str, Any] | None) -> str | None:
    """None if the file's metadata matches the job that should have written it, else one line naming the field
    (:func:`hpo.core.identity.mismatch`, the check every artifact's reader makes)."""
    from hpo.core.identity import mismatch

    if expected is None:
        return None
    return mismatch(path, meta.get("spec", {}), {k: expected[k] for k in CHECKED_FIELDS if k in expected})


def read_meta(path: str | Path) -> dict[str, Any]:
    """The ``hpo.meta`` metadata of a trajectory file; a clear error naming the file if it is not one."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ValueError(f"{path}: not a readable Parquet trajectory ({exc})") from exc
    return meta_of(schema, path)


def meta_of(schema: pa.Schema, path: str | Path) -> dict[str, Any]:
    """The ``hpo.meta`` metadata of an already read trajectory's schema (``path`` only names it in errors)."""
    md = schema.metadata or {}
    if META_KEY not in md:
        raise ValueError(f"{path}: Parquet file has no {META_KEY.decode()} metadata; not written by hpo")
    return json.loads(md[META_KEY])


def read(path: str | Path) -> pa.Table:
    """Read one trajectory, checking it against the schema."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable Parquet trajectory ({exc})") from exc
    missing = [n for n in SCHEMA.names if n not in table.column_names]
    if missing:
        raise ValueError(f"{path}: trajectory lacks columns {missing}")
    return table


def table_from_columns(cols: dict[str, list[Any]]) -> pa.Table:
    """The trajectory table of ``cols`` (column name -> one Python value per trial, ``None`` = null), in SCHEMA.

    Built from Arrow buffers rather than with ``pa.table(cols)``: pyarrow's conversion of Python lists and NumPy
    arrays first asks whether the input is a pandas object, which imports pandas (~0.3 s and ~40 MiB), a cost every
    classical run job paid for a library it never uses. Values are type-checked as strictly as ``pa.table`` would
    (no float in an integer column, no number in a string column); NaN stays a value, ``None`` is null.
    """
    import numpy as np

    n = len(next(iter(cols.values()))) if cols else 0
    arrays = []
    for name, dtype, _ in COLUMNS:
        values = cols[name]
        if len(values) != n:
            raise ValueError(f"trajectory column {name!r} has {len(values)} values, expected {n}")
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=n)
        nulls = n - int(valid.sum())
        bitmap = None if nulls == 0 else pa.py_buffer(np.packbits(valid, bitorder="little"))
        if pa.types.is_string(dtype):
            encoded = [_checked(name, v, str).encode() if v is not None else b"" for v in values]
            offsets = np.zeros(n + 1, dtype=np.int32)
            np.cumsum([len(b) for b in encoded], out=offsets[1:])
            buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
        elif pa.types.is_int64(dtype):
            data = np.fromiter((0 if v is None else _checked(name, v, int) for v in values), dtype=np.int64, count=n)
            buffers = [bitmap, pa.py_buffer(data)]
        elif pa.types.is_float64(dtype):
            data = np.fromiter((0.0 if v is None else _checked(name, v, float) for v in values), np.float64, count=n)
            buffers = [bitmap, pa.py_buffer(data)]
        else:  # a new column type needs its own buffer layout here
            raise TypeError(f"trajectory column {name!r}: no buffer layout for {dtype}")
        arrays.append(pa.Array.from_buffers(dtype, n, buffers, null_count=nulls))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _checked(name: str, value: Any, kind: type) -> Any:
    """``value`` as ``kind`` (str, int or float), or a one-line error naming the column (bools are not numbers)."""
    import numbers

    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = {
        str: isinstance(value, str),
        # pa.table stored 3.0 as 3 (and silently truncated 1.5): whole floats stay accepted, fractions are an error
        int: number and (isinstance(value, numbers.Integral) or float(value).is_integer()),
        float: number,
    }[kind]
    if not ok:
        raise TypeError(f"trajectory column {name!r}: {value!r} is not a {kind.__name__}")
    return kind(value) if kind is not str else value
