"""What the paper-table commands (benchmarks/reproduce_lines.py, reproduce_mnist.py) share on the
command line: a paper run's config parsed from its flagfile as `train` would parse it, the common
flags, and `main`'s one-line error handling. The run loop is acai_tf.reproduction.run_loop.
The learning-curve commands (benchmarks/lines_curves.py, mnist_curves.py) share `run_curves`.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any, Callable, Sequence

from absl import flags
from absl import logging

from acai_tf.cli import flag_defs, runner
from acai_tf.config import PRECISIONS, ConfigError, ExperimentConfig
from acai_tf.reproduction import long_runs, paper_runs
from acai_tf.reproduction.run_loop import MODELS, OVERRIDES


def paper_config(dataset: str, model: str, latent: int, seed: int,
                 overrides: dict[str, Any]) -> ExperimentConfig:
    """The config of the paper's run (its flagfile's flags) with --seed and `overrides`."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    flag_values = flags.FlagValues()
    flag_defs.define_flags(flag_values)
    extra = [f"--{name}={value}" for name, value in overrides.items() if value is not None]
    try:
        # Parsed as the flagfile would be, so that the config equals a `train` run's.
        flag_values(["reproduce", *paper_runs.find(dataset, model, latent).flags,
                     f"--seed={seed}", *extra])
    except flags.Error as error:
        raise ConfigError(str(error)) from None
    return flag_defs.config_from_flags(flag_values)


def define_flags(seeds: Sequence[str], runs_name: str) -> None:
    """The flags every reproduction has; `seeds` is the default of --seeds, and --out_dir's
    default is <long runs' root>/<runs_name> (long_runs.default_out_dir: ~/acai_runs/<name>)."""
    flags.DEFINE_string("out_dir", long_runs.default_out_dir(runs_name),
                        "Holds runs/ (and the outputs). The default, outside any checkout (a "
                        f"fresh clone or `make clean` cannot lose it), moves with "
                        f"${long_runs.RUNS_DIR_ENV}.")
    flags.DEFINE_string("results_dir", None, "Where the tables and the figure go (default "
                        "--out_dir).")
    flags.DEFINE_list("models", list(MODELS), "Models, among the seven of the paper.")
    flags.DEFINE_list("seeds", list(seeds), "Seeds of the runs of every model.")
    flags.DEFINE_integer("last_n", 20, "Evaluations whose median stands for a run (paper: 20).")
    flags.DEFINE_float("train_kimg", None, "Training length (default: the paper's, 16384).")
    flags.DEFINE_float("report_kimg", None, "Evaluation period (default: the paper's, 64).")
    flags.DEFINE_integer("depth", None, "Override the paper's depth (smoke tests).")
    flags.DEFINE_integer("latent", None, "Override the paper's latent channels (smoke tests).")
    flags.DEFINE_enum("precision", None, list(PRECISIONS), "Override the paper's float32 (e.g. "
                      "mixed_bfloat16 on a CPU with native bf16); every table header says it.")


def main(argv: list[str], reproduce: Callable[..., dict[str, str]], **kwargs: Any) -> None:
    """Runs `reproduce` with the common flags (and `kwargs`); a UserError is one `error:` line."""
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    logging.set_verbosity(logging.ERROR)  # tfds look-ups would surround a one-line error
    with runner.one_line_errors():
        paths = reproduce(fv.out_dir, models=fv.models, seeds=integers("seeds", fv.seeds),
                          last_n=fv.last_n,
                          overrides={name: fv[name].value for name in OVERRIDES},
                          results_dir=fv.results_dir, command=shlex.join(["python", *sys.argv]),
                          **kwargs)
    print(f"wrote {', '.join(paths.values())}")


def integers(flag: str, values: Sequence[str]) -> list[int]:
    """A list flag's values as integers; ConfigError naming the flag otherwise."""
    try:
        return [int(value) for value in values]
    except ValueError:
        raise ConfigError(f"--{flag} must be integers, got {','.join(values)}") from None


def run_curves(write: Callable[[str, str], list[str]], root: str) -> None:
    """The whole of a learning-curve command: `--records_dir` (default root/results/runs) and
    `--out_dir` (default root/results), then `write(records_dir, out_dir)`, whose paths it
    prints; errors are one line."""
    from absl import app  # pylint: disable=import-outside-toplevel

    flags.DEFINE_string("records_dir", os.path.join(root, "results", "runs"),
                        "The saved records (benchmarks/long_runs.py).")
    flags.DEFINE_string("out_dir", os.path.join(root, "results"), "Where the outputs go.")

    def curves_main(argv: list[str]) -> None:
        if len(argv) > 1:
            runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
        with runner.one_line_errors():
            paths = write(flags.FLAGS.records_dir, flags.FLAGS.out_dir)
        print(f"wrote {', '.join(paths)}")

    app.run(curves_main, flags_parser=runner.parse_or_exit)
