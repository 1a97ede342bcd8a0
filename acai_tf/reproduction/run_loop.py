"""The run loop of the paper-table commands (benchmarks/reproduce_lines.py, reproduce_mnist.py).

A reproduction is a list of runs, each (workdir, config) with the config of one of the paper's
runs (acai_tf.reproduction.paper_runs) and the command's overrides. `train_and_evaluate` checks
them all, then trains (or resumes) each in turn and evaluates its final checkpoint unless
W/eval/results.json already holds every metric asked for at that checkpoint (a run evaluated by
older code, without a metric added since, is evaluated again), printing "run k/N" progress lines
with the time spent and an estimate of the time left. `write_hparams` puts the runs on
TensorBoard's HParams dashboard at the folder's root. The commands' common flags and error
handling are acai_tf.cli.reproduce; `table_outputs` formats their outputs.
"""

from __future__ import annotations

import datetime
import gc
import os
import time
from typing import Callable, Sequence

from acai_tf import datasets
from acai_tf.config import ConfigError, ExperimentConfig
from acai_tf.evaluation import checkpoint_eval, results as results_lib
from acai_tf.evaluation.training_eval import EvalSettings
from acai_tf.outputs import workdir as workdir_lib
from acai_tf.reproduction import run_records
from acai_tf.training import tensorboard_hparams, train_lib

MODELS = ("baseline", "dropout", "denoising", "vae", "aae", "vqvae", "acai")  # paper order
# The command-line flags that override the paper's values (None: keep the paper's).
OVERRIDES = ("train_kimg", "report_kimg", "depth", "latent", "precision")
RunSpec = tuple[str, ExperimentConfig]  # (workdir, config)


def in_paper_order(models: Sequence[str]) -> list[str]:
    """The distinct models in the paper's order (unknown ones first, so that they fail first)."""
    return sorted(set(models), key=lambda name: MODELS.index(name) if name in MODELS else -1)


def check_request(models: Sequence[str], seeds: Sequence[int], last_n: int) -> None:
    """Raises ConfigError unless there is a model, a seed, no negative seed and last_n >= 1."""
    if last_n < 1 or not seeds or min(seeds) < 0 or not models:
        raise ConfigError("need --last_n >= 1, at least one model and non-negative seeds")


def train_and_evaluate(runs: Sequence[RunSpec], *, eval_settings: EvalSettings,
                       eval_options: checkpoint_eval.EvalOptions,
                       log: Callable[[str], None]) -> float:
    """Trains or resumes every run, then evaluates its final checkpoint if need be.

    Every run is validated first: a bad request fails with a UserError before any training.

    Returns:
        The wall time in seconds.
    """
    for workdir, config in runs:
        train_lib.validate(config, workdir)  # a mismatching workdir fails before any training
    start = time.monotonic()
    to_train = [max(0.0, config.train.train_kimg - _kimg_done(workdir, config))
                for workdir, config in runs]
    log(_progress(0, len(runs), 0.0, 0.0, sum(to_train)))
    trained = 0.0
    for index, (workdir, config) in enumerate(runs):
        prefix = f"[{config.model.name} latent {config.model.latent} seed {config.train.seed}]"
        log(f"{prefix} {workdir}")
        prefixed = lambda line, prefix=prefix: log(f"{prefix} {line}")  # noqa: E731
        summary = train_lib.train(config, workdir, eval_settings=eval_settings, log=prefixed)
        trained += (summary["step"] - summary["resumed_from"]) * config.train.batch / 1024
        _release_memory()
        if needs_evaluation(workdir, eval_options):
            checkpoint_eval.evaluate(workdir, options=eval_options, log=prefixed)
            _release_memory()
        log(_progress(index + 1, len(runs), time.monotonic() - start, trained,
                      sum(to_train[index + 1:])))
    return time.monotonic() - start


def reproduce_runs(out_dir: str, runs: Sequence[RunSpec], *, prefix: str, last_n: int,
                   results_dir: str | None, eval_settings: EvalSettings,
                   eval_options: checkpoint_eval.EvalOptions, log: Callable[[str], None]
                   ) -> tuple[list[run_records.Run], dict[str, str], float]:
    """`train_and_evaluate`, then the runs' records and the HParams experiment at out_dir.

    Args:
        out_dir: the folder of the runs (the HParams experiment's root).
        runs: (workdir, config) of every run; prefix: the output files' prefix ("lines").
        last_n: training-time evaluations whose median stands for a run.
        results_dir: where the outputs go (created); None is out_dir.
        eval_settings, eval_options, log: as `train_and_evaluate`.

    Returns:
        (the runs' records, {"markdown", "csv", "figure", "json"}: the paths to write, the wall
        time of the training and evaluations in seconds).
    """
    wall_time = train_and_evaluate(runs, eval_settings=eval_settings, eval_options=eval_options,
                                   log=log)
    workdirs = [workdir for workdir, _ in runs]
    loaded = run_records.collect_runs(workdirs, last_n=last_n)
    for warning in run_records.group_warnings(loaded):
        log(f"warning: {warning}")
    write_hparams(out_dir, workdirs)
    results_dir = results_dir or out_dir
    os.makedirs(results_dir, exist_ok=True)
    paths = {key: os.path.join(results_dir, f"{prefix}_{name}") for key, name in (
        ("markdown", "table.md"), ("csv", "table.csv"), ("figure", "figure.png"),
        ("json", "reproduction.json"))}
    return loaded, paths, wall_time


def _kimg_done(workdir: str, config: ExperimentConfig) -> float:
    try:
        step = workdir_lib.checkpoint_step(workdir_lib.latest_checkpoint(workdir))
    except workdir_lib.WorkdirError:
        return 0.0
    return step * config.train.batch / 1024


def _progress(done: int, total: int, elapsed: float, trained: float, left: float) -> str:
    """E.g. "run 3/14, elapsed 0:12:03, estimated remaining 0:40:10 (320 kimg to go)"; the
    estimate assumes the remaining kimg take as long as the kimg trained so far (evaluations
    included)."""
    def clock(seconds: float) -> str:
        return str(datetime.timedelta(seconds=round(seconds)))

    remaining = (clock(elapsed / trained * left) if trained > 0 else
                 "0:00:00" if left == 0 else "unknown")
    return (f"run {done}/{total}, elapsed {clock(elapsed)}, estimated remaining {remaining} "
            f"({left:g} kimg to go)")


def needs_evaluation(workdir: str, options: checkpoint_eval.EvalOptions) -> bool:
    """True unless eval/results.json is of the latest checkpoint, holds every metric of the
    parts asked for and, for clustering, used the restarts and train latents asked for."""
    try:
        evaluated = results_lib.read(workdir) or {}
    except (OSError, ValueError):
        return True
    latest = os.path.relpath(workdir_lib.latest_checkpoint(workdir), workdir)
    if (evaluated.get("checkpoint") != latest
            or results_lib.missing_metrics(evaluated, options.parts)):
        return True
    if "clustering" not in (options.parts or ()):
        return False
    clustering = evaluated["clustering"]
    train_size = datasets.get_info(workdir_lib.load_config(workdir).train.dataset).train_size
    wanted = min(options.max_train_examples, train_size or options.max_train_examples)
    return (clustering.get("n_init"), clustering.get("train_examples")) != (options.n_init,
                                                                            wanted)


def _release_memory() -> None:
    import keras  # pylint: disable=import-outside-toplevel

    keras.backend.clear_session()  # seven models x seeds in one process would pile up
    gc.collect()


def write_hparams(out_dir: str, workdirs: Sequence[str]) -> None:
    """The runs as one table on TensorBoard's HParams dashboard (`tensorboard --logdir OUT`):
    the columns at OUT's root, and a session for every run that has none (runs trained by code
    older than the dashboard)."""
    sessions = tensorboard_hparams.read_sessions(out_dir)
    configs = []
    for workdir in workdirs:
        config = workdir_lib.load_config(workdir)
        configs.append(config)
        logdir = os.path.join(workdir, workdir_lib.TENSORBOARD_DIR, "train")
        if os.path.relpath(logdir, out_dir) not in sessions:
            tensorboard_hparams.write_session(logdir, config, trial_id=os.path.abspath(workdir))
    tensorboard_hparams.write_experiment(out_dir, configs)
