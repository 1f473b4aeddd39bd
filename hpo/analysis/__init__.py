"""Analysis of trajectories: regret normalization, aggregation, figures."""
