"""``sb3-marl sweep``: seeds and hyperparameter sweeps as Ray Tune trials.

Every (seed, point) is one Tune trial that runs :func:`sb3_marl.training.train`, exactly what
``sb3-marl train`` runs, in its own folder ``<output>/trials/<point>_s<seed>`` (model, ``config.yml``,
W&B run grouped by sweep, ``result.json``). Each evaluation's team return is reported to Tune (so that a
scheduler such as ASHA can stop bad trials). At the end one table (mean ± 95% CI over seeds per point)
and a plot of the learning curves are written to the sweep folder.

Running the same command again resumes a stopped sweep: Tune's experiment is restored
(``Tuner.restore``), and a trial whose folder holds a ``result.json`` replays it instead of training
again (the experiment's last snapshot may predate the trial's end).

Ray is imported lazily: without it the command says how to install it.
"""

from sb3_marl.sweep.command import add_sweep_arguments, sweep_command
from sb3_marl.sweep.results import SweepResult, read_results, summary_table
from sb3_marl.sweep.space import SweepConfig, grid_points, parse_grid, point_name, random_points, read_space
from sb3_marl.sweep.trial import RESULT_FILE, trial_folder
from sb3_marl.sweep.tuner import INSTALL, import_ray, run_sweep

__all__ = [
    "INSTALL",
    "RESULT_FILE",
    "SweepConfig",
    "SweepResult",
    "add_sweep_arguments",
    "grid_points",
    "import_ray",
    "parse_grid",
    "point_name",
    "random_points",
    "read_results",
    "read_space",
    "run_sweep",
    "summary_table",
    "sweep_command",
    "trial_folder",
]
