"""Trains the official TF1 code on lines32 beside ours: same flags, batch, data and evaluation.

    python benchmarks/official/official_reference.py --reference_dir=PATH --model=acai
    python benchmarks/official/official_reference.py --reference_dir=PATH --model=aae \
        --train_kimg=448 --report_kimg=16 --seed=0 --workdir=DIR

PATH is a checkout of the official code (brain-research/acai) that the user provides; it is
loaded unmodified by official_loader.py (tf1_shims.py lists the fixes that make it run on
today's TensorFlow through `tf.compat.v1`). The model's hyper-parameters are this project's
paper run for it (flags/runs/lines32_<model>.flags, the values the official scripts' flags give
for lines32), learning rate and batch included. The official graph (`<Model>.model(**params)`
and its own fused train op) is trained in a `tf.compat.v1.Session` on this project's lines32
training stream (the distribution of the official `input_lines`), seeded as our runs are.

Every --report_kimg it appends one line to DIR/metrics.jsonl in this project's format
(acai_tf.training.metrics_log): `losses/reconstruction` (the official graph's reconstruction MSE,
tf.losses.mean_squared_error, averaged over the period's training batches, as ours logs it),
`monitors/images_per_second`, and this project's lines benchmark on the official model:
`eval/mean_distance`, `eval/mean_smoothness`, `eval/long_way_fraction`, on the same 256 test
pairs x 16 steps our runs of this seed are scored on, interpolated linearly between the official
encoder's codes and decoded by the official decoder. Then it saves a checkpoint (DIR/ckpt,
tf.compat.v1.train.Saver): rerunning the command resumes from it, the data stream reseeded from
(seed, step) as ours (the graph's own draws too), and a larger --train_kimg continues a finished
run. One exception to the graph's seeding is the official code's own: vqvae.py sets the graph
seed to 123 as its `model()` starts, so the official VQ-VAE's initial weights are the same
whatever --seed (which then chooses only its data stream and test pairs); its training graph
draws no random numbers. As for our runs, a kill between a report's line and its checkpoint
repeats that report on resuming, and acai_tf.training.metrics_log.read keeps the later line; a
folder holding reports but no checkpoint is refused rather than restarted under them.

DIR (default ~/acai_runs/official/lines/<model>/seed<k>, outside any checkout: see
benchmarks/long_runs.py) also holds config.json: the model, its parameters, the budget, the
official checkout and commit, and one record per start (machine, this project's commit), so
that long_runs.py saves it as the record official_lines_<model>_seed<k> and lines_curves.py
draws it beside ours. Bad input (no checkout, an unknown model, DIR holding another run): one
line `error: ...`, exit status 1, nothing written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from typing import Any, Callable

# Run as a script, only benchmarks/official/ is on sys.path; the library lives at the
# repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from acai_tf import datasets
from acai_tf.outputs import atomic_write
from acai_tf.training import machine, metrics_log, train_lib
from acai_tf.cli import runner
from acai_tf.config import ConfigError
from acai_tf.lines import metric
from acai_tf.serving import pretrained

from acai_tf.cli import reproduce as reproduce_cli
from acai_tf.reproduction import long_runs

import official_loader  # pylint: disable=wrong-import-order

v1 = tf.compat.v1
CONFIG = "config.json"


@dataclasses.dataclass(frozen=True)
class Request:
    """One official run: what to train, how long, where.

    Attributes:
        reference_dir: the official checkout.
        model: one of official_loader.SCRIPTS.
        seed: graph seed, data stream and test pairs.
        train_kimg, report_kimg: the run's length and evaluation period.
        workdir: the run's folder; None is ~/acai_runs/official/lines/<model>/seed<k>.
        overrides: flag values over the paper's (depth, latent: smoke tests).
        eval_pairs: interpolations of the lines benchmark (the paper's 256).
    """

    reference_dir: str
    model: str
    seed: int = 0
    train_kimg: float = 448
    report_kimg: float = 16
    workdir: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    eval_pairs: int = metric.NUM_INTERPOLATIONS

    def folder(self) -> str:
        return self.workdir or os.path.join(long_runs.default_out_dir("official"), "lines",
                                            self.model, f"seed{self.seed}")


def _check_workdir(path: str, identity: dict[str, Any]) -> None:
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        held = json.load(f)
    other = held.get("identity") or {}
    if other != identity:
        what = (f"the official {other.get('model')} run of seed {other.get('seed')}"
                if other.get("source") == "official" else "a run of this project's code")
        if other.get("model") == identity["model"]:
            what += " with other parameters"
        raise ConfigError(f"{os.path.dirname(path)} holds {what}; choose another --workdir")


def train(request: Request, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Trains (or resumes) one official run.

    Returns:
        {"step", "kimg", "resumed_from"}.

    Raises:
        A UserError with a one-line message, before anything is written, for a bad request.
    """
    model_class, official_flags = official_loader.load(request.reference_dir, request.model)
    config = reproduce_cli.paper_config("lines32", request.model, 16, request.seed,
                                       dict(request.overrides))
    params = official_loader.official_params(config, model_class)
    batch = config.train.batch
    identity = {"source": "official", "model": request.model, "seed": request.seed,
                "params": params, "lr": config.model.lr, "batch": batch}
    workdir = request.folder()
    config_path = os.path.join(workdir, CONFIG)
    _check_workdir(config_path, identity)
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "ckpt"))
    if metrics_log.read(workdir) and not latest:
        raise ConfigError(f"{workdir} holds reports but no checkpoint: its run cannot resume "
                          "without splicing two runs; choose another --workdir")
    info = datasets.get_info("lines32")
    # The official code reads these flags of its own when it builds the graph.
    official_flags.lr, official_flags.batch = config.model.lr, batch

    start = int(latest.rsplit("-", 1)[1]) if latest else 0
    # Seeded from (seed, step) like the data: a resumed run does not repeat its draws.
    graph, ops, reconstruction = official_loader.build_graph(model_class, params,
                                             train_lib.data_seed(request.seed, start))
    with graph.as_default():
        global_step = v1.train.get_global_step()
        saver = v1.train.Saver(max_to_keep=2, save_relative_paths=True)
        initialize = v1.global_variables_initializer()
        new_step = v1.placeholder(tf.int64, [])
        set_step = v1.assign(global_step, new_step)
    session = v1.Session(graph=graph)
    session.run(initialize)
    if latest:
        with graph.as_default():  # the saver's ops live in the official graph
            saver.restore(session, latest)
    step = resumed_from = int(session.run(global_step))
    _write_config(config_path, identity, request, config, step)

    ends = pretrained.benchmark_pairs(config, request.eval_pairs)  # our runs' pairs
    steps_per_report = max(1, round(request.report_kimg * 1024 / batch))
    last_step = round(request.train_kimg * 1024 / batch)
    stream = datasets.train_stream("lines32", batch_size=batch,
                                   seed=train_lib.data_seed(request.seed, step))
    batches = stream.as_numpy_iterator()
    one_hot = np.eye(info.nclass, dtype=np.float32)
    log(f"official {request.model} on lines32 in {workdir} from step {step} to {last_step} "
        f"({params})")
    while step < last_step:
        period = min(steps_per_report, last_step - step)
        start, losses = time.monotonic(), []
        for _ in range(period):
            example = next(batches)
            _, loss = session.run([ops.train_op, reconstruction], feed_dict={
                ops.x: example["image"], ops.label: one_hot[example["label"]]})
            losses.append(loss)
        step += period
        if int(session.run(global_step)) != step:  # a train op that does not step it
            session.run(set_step, {new_step: step})
        scalars = {"losses/reconstruction": float(np.mean(losses)),
                   "monitors/images_per_second": period * batch / (time.monotonic() - start)}
        scalars.update({f"eval/{key}": value for key, value in
                        official_loader.evaluate(session, ops, *ends).items()})
        kimg = step * batch / 1024
        metrics_log.append(workdir, step, kimg, scalars)
        with graph.as_default():
            saver.save(session, os.path.join(workdir, "ckpt", "ckpt"), global_step=step)
        log(f"kimg {kimg:g}/{request.train_kimg:g} | "
            + " ".join(f"{key} {value:.4g}" for key, value in sorted(scalars.items())))
    session.close()
    return {"step": step, "kimg": step * batch / 1024, "resumed_from": resumed_from}


def _write_config(path: str, identity: dict[str, Any], request: Request, config,
                  step: int) -> None:
    """config.json: the run's identity, model, budget, official checkout and start records."""
    record = {"identity": identity, "runs": []}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    start = dict(machine.describe(), from_step=step, commit=machine.source_commit(),
                 started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    record.update(
        model={"name": request.model, **identity["params"], "lr": config.model.lr},
        train={"batch": config.train.batch, "seed": request.seed, "dataset": "lines32",
               "train_kimg": request.train_kimg, "report_kimg": request.report_kimg,
               "precision": "float32"},
        reference={"dir": os.path.abspath(request.reference_dir),
                   "commit": official_loader.commit(request.reference_dir)})
    record["runs"].append(start)
    atomic_write.write_text(path, json.dumps(record, indent=1, sort_keys=True) + "\n")


def define_flags() -> None:
    flags.DEFINE_string("reference_dir", None, "A checkout of the official ACAI code.")
    flags.DEFINE_enum("model", "acai", list(official_loader.SCRIPTS), "The model to train.")
    flags.DEFINE_integer("seed", 0, "Graph seed, data stream and test pairs.")
    flags.DEFINE_float("train_kimg", 448, "Training length in kimg.")
    flags.DEFINE_float("report_kimg", 16, "Evaluation period in kimg.")
    flags.DEFINE_string("workdir", None, "Run folder (default "
                        "~/acai_runs/official/lines/<model>/seed<k>).")
    flags.mark_flag_as_required("reference_dir")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    logging.set_verbosity(logging.ERROR)  # TF1 deprecation notices on every official op
    request = Request(reference_dir=fv.reference_dir, model=fv.model, seed=fv.seed,
                      train_kimg=fv.train_kimg, report_kimg=fv.report_kimg, workdir=fv.workdir)
    with runner.one_line_errors():
        summary = train(request, log=lambda line: print(line, flush=True))
    print(f"official {request.model}: step {summary['step']} ({summary['kimg']:g} kimg) in "
          f"{request.folder()}")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=runner.parse_or_exit)
