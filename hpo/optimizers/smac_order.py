"""SMAC runs that reproduce in every process: a hash-order-free local search for any SMAC facade.

SMAC 2.4.1 is not reproducible across processes as shipped: its local search collects its start points in a ``set``
of configurations (``smac/acquisition/maximizer/local_search.py:301-307``, ``_get_init_points_from_previous_configs``)
and returns ``list(set)``. ``Configuration.__hash__`` is ``hash(repr(config))`` (``ConfigSpace/configuration.py:247``),
a string hash that ``PYTHONHASHSEED`` randomizes per process, so the start points' order differs between processes.
The order decides which start point gets which neighbourhood seed from the search's rng (``local_search.py:402``) and
how ties in acquisition value break after the rng shuffle (``local_search.py:182-185``), so the proposals differed
from the first model-based trial on. :func:`order_independent` neutralizes it for every facade whose acquisition
maximizer contains SMAC's ``LocalSearch`` (the HPO and black-box facades here, the multi-fidelity and Hyperband
facades too), without touching SMAC or the caller's interpreter: a library user cannot fix ``PYTHONHASHSEED`` of a
process that is already running.

Imported only when a SMAC run is set up (it imports SMAC, ~1.5 s): planning imports the SMAC kinds' classes for their
parameter schemas, and must not pay for SMAC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smac.acquisition.maximizer.local_search import LocalSearch

if TYPE_CHECKING:
    from ConfigSpace import Configuration
    from smac.acquisition.maximizer.abstract_acquisition_maximizer import AbstractAcquisitionMaximizer


class OrderedLocalSearch(LocalSearch):
    """SMAC's ``LocalSearch`` with its start points in an order that does not depend on string hashing.

    SMAC returns the start points as ``list(set(...))``; this keeps exactly those points (the same configurations,
    so the search is SMAC's) and puts them in the order in which they first appear among the previous
    configurations (the run history's order) and then the additional (random-search) start points. Any fixed order
    is as good as SMAC's for the search (which is effectively a random permutation); a fixed one makes a run
    identical in every process. The rng draws are SMAC's own, in SMAC's sequence.
    """

    def _get_init_points_from_previous_configs(
        self,
        previous_configs: list[Configuration],
        n_points: int,
        additional_start_points: list[tuple[float, Configuration]] | None,
    ) -> list[Configuration]:
        points = super()._get_init_points_from_previous_configs(previous_configs, n_points, additional_start_points)
        first_seen: dict[Configuration, int] = {}
        for i, config in enumerate([*previous_configs, *(c for _, c in additional_start_points or ())]):
            first_seen.setdefault(config, i)  # a dict *lookup* by hash is order-free; only iterating a set is not
        return sorted(points, key=first_seen.__getitem__)


def order_independent(maximizer: AbstractAcquisitionMaximizer) -> AbstractAcquisitionMaximizer:
    """``maximizer`` (a facade's default acquisition maximizer) with every SMAC ``LocalSearch`` in it made
    hash-order free, i.e. turned into an :class:`OrderedLocalSearch`; pass the result as ``acquisition_maximizer=``.

    The instance's class is switched rather than a new one built, so every setting the facade chose (challengers,
    local-search iterations, steps, seed, ...) is kept exactly as SMAC set it; :class:`OrderedLocalSearch` adds no
    state. A subclass of ``LocalSearch`` that hpo does not know is refused rather than silently left hash-dependent.
    """
    for search in (maximizer, getattr(maximizer, "_local_search", None)):
        if not isinstance(search, LocalSearch) or isinstance(search, OrderedLocalSearch):
            continue
        if type(search) is not LocalSearch:
            raise TypeError(
                f"{type(search).__name__} is not SMAC's LocalSearch; hpo.optimizers.smac_order.order_independent "
                "cannot make its start points hash-order free: extend OrderedLocalSearch for it"
            )
        search.__class__ = OrderedLocalSearch
    return maximizer
