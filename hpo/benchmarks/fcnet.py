"""HPOLib FCNet tabular benchmark (Klein & Hutter 2019) on 4 UCI regression datasets; loss = validation MSE."""

from hpo.benchmarks.tabular import TableFamily

FAMILY = TableFamily(
    name="hpolib_fcnet",
    bench_class="HPOLib",
    metric="val_loss",
    loss_name="validation MSE",
    to_loss=lambda mse: mse,
    description="HPOLib FCNet tabular benchmark (9 hyperparameters, 62,208 configurations, 4 seeds)",
    datasets=("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"),
    model="two-layer fully connected network (FCNet)",
    task="regression",
    metric_name="mean squared error",
)
PREFIX = "fcnet"
