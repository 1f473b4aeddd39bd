"""Command line: run one (benchmark, method, seed) without Snakemake, e.g. for timing or debugging.

python -m hpo run mlp-car random_search --seed 0 --n-trials 100 --out /tmp/run.parquet
python -m hpo list [--ids]
python -m hpo check-endpoint --configfile STUDY [NAME ...]
python -m hpo estimate --configfile STUDY
python -m hpo plan [--configfile STUDY] [--cores N]
"""

from __future__ import annotations

import argparse
import json
import sys


def build_parser() -> argparse.ArgumentParser:
    """The command line, every argument of every subcommand with its help."""
    parser = argparse.ArgumentParser(prog="python -m hpo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    lister = sub.add_parser("list", help="list benchmark ids and method kinds, one described line each, by family")
    lister.add_argument(
        "--ids", action="store_true", help="only the names: a line 'benchmarks: <id> ...' and 'optimizers: <kind> ...'"
    )
    r = sub.add_parser("run", help="run one benchmark with one method kind and write a trajectory")
    r.add_argument("benchmark", help="a benchmark id, e.g. mlp-car or synth-branin (python -m hpo list shows all)")
    r.add_argument("kind", help="a method kind, e.g. random_search or llm (python -m hpo list shows all)")
    r.add_argument("--seed", type=int, default=0, help="run seed, as one of a study's seeds (default: %(default)s)")
    r.add_argument("--n-trials", type=int, default=100, help="evaluations in the run (default: %(default)s)")
    r.add_argument(
        "--n-init",
        type=int,
        default=10,
        help="size of the shared initial design, as a study's n_init (default: %(default)s)",
    )
    r.add_argument(
        "--params", default="{}", help="optimizer parameters as JSON, as a study's methods.<name>.params (default: {})"
    )
    r.add_argument(
        "--noisy",
        action="store_true",
        help="each evaluation observes one table seed drawn with the run's rng instead of the seed mean",
    )
    r.add_argument("--table", default=None, help="converted table (.npz); default: the user cache")
    r.add_argument("--cache", default=None, help="LLM reply cache directory (LLM kinds)")
    r.add_argument("--out", required=True, help="the trajectory file to write (.parquet)")
    c = sub.add_parser("check-endpoint", help="preflight the study's endpoints -> <results>/endpoints/<name>.json")
    c.add_argument("--configfile", required=True, help="the study file (as for snakemake --configfile)")
    c.add_argument("names", nargs="*", help="endpoints to check (default: every endpoint the LLM methods use)")
    c.add_argument("--force", action="store_true", help="check again even if the result matches the endpoint")
    e = sub.add_parser("estimate", help="calls, tokens, dollars and hours the study's LLM methods will take")
    e.add_argument("--configfile", required=True, help="the study file (as for snakemake --configfile)")
    e.add_argument("--llm-slots", type=int, default=4, help="remote LLM jobs at once (snakemake --resources)")
    e.add_argument("--cores", type=int, default=2, help="cores: embedded-model jobs at once")
    p = sub.add_parser(
        "plan", help="one screen before a study runs: jobs per stage, skipped methods, model calls, cost, wall time"
    )
    p.add_argument(
        "--configfile", default=None, help="the study file (as for snakemake --configfile; default: config/config.yaml)"
    )
    p.add_argument("--cores", type=int, default=2, help="cores the study will run on, as snakemake --cores")
    p.add_argument("--llm-slots", type=int, default=4, help="remote LLM jobs at once (snakemake --resources)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    from hpo import benchmarks, optimizers
    from hpo.llm.client import EndpointError
    from hpo.llm.ledger import SpendingCapReached
    from hpo.study.preflight import PreflightError
    from hpo.util.redact import redact

    failures = (SpendingCapReached, EndpointError, PreflightError)
    if args.cmd in ("check-endpoint", "estimate", "plan"):
        from hpo.study.cli import check_endpoints, estimate_table

        try:
            if args.cmd == "plan":
                from hpo.study.plan import plan_text

                print(plan_text(args.configfile, args.cores, args.llm_slots))
            elif args.cmd == "estimate":
                print(estimate_table(args.configfile, args.llm_slots, args.cores))
            else:
                print("\n".join(check_endpoints(args.configfile, args.names, args.force)))
        except ValueError as exc:
            print(f"error: {redact(str(exc))}", file=sys.stderr)  # no key in the line
            return 2
        except failures as exc:
            print(f"error: {redact(str(exc))}", file=sys.stderr)  # no key in the line
            return 1
        return 0

    if args.cmd == "list":
        from hpo.study.listing import id_lines, listing

        print(id_lines() if args.ids else listing())
        return 0
    from hpo.util.suggest import LIST_HINT, unknown

    for what, name, names in (
        ("benchmark", args.benchmark, benchmarks.available()),
        ("method kind", args.kind, optimizers.available()),
    ):
        if name not in names:
            print(f"error: {unknown(what, name, names, LIST_HINT)}", file=sys.stderr)
            return 2
    from hpo.run.harness import run_to_file
    from hpo.run.provenance import build_spec
    from hpo.util.atomic import DiskFullError

    try:
        spec = build_spec(
            benchmark=args.benchmark,
            method=args.kind,
            kind=args.kind,
            seed=args.seed,
            n_trials=args.n_trials,
            n_init=args.n_init,
            params=json.loads(args.params),
            noisy=args.noisy,
        )
        run_to_file(spec, args.out, table_path=args.table, cache_dir=args.cache)
    except (ValueError, DiskFullError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)  # no key in the line
        return 2
    except failures as exc:  # one line, not a traceback
        print(f"error: {redact(str(exc))}", file=sys.stderr)  # no key in the line
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
