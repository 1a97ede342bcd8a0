"""Does a precision change Table 1? One precision's lines32 runs beside another's spread.

    python benchmarks/precision_parity.py \
        --reference=results/lines_reproduction.json,results/bf16_parity/float32_amx.json \
        --candidate=results/bf16_parity/mixed_bfloat16_amx.json \
        --out=results/bf16_parity/parity.md

Each file is the `lines_reproduction.json` of a `benchmarks/reproduce_lines.py` run at one
budget (e.g. `--train_kimg=448 --report_kimg=4 --last_n=20 --precision=mixed_bfloat16`). Writes a
Markdown page (see acai_tf/reproduction/precision_parity.py): per model and metric, the
reference runs, their range, the candidate runs and whether each lies inside that range.
Bad input (an unreadable file, different budgets): one line `error: ...`, exit status 1.
"""

from __future__ import annotations

import os
import shlex
import sys

# Run as a script, only benchmarks/ is on sys.path; the library lives at the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pylint: disable=wrong-import-position
from absl import app, flags

from acai_tf.cli import runner
from acai_tf.outputs import atomic_write
from acai_tf.reproduction import precision_parity


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        runner.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    fv = flags.FLAGS
    with runner.one_line_errors():
        reference = [precision_parity.load(path) for path in fv.reference]
        candidate = [precision_parity.load(path) for path in fv.candidate]
        text = precision_parity.markdown(reference, candidate,
                                         command=shlex.join(["python", *sys.argv]))
        os.makedirs(os.path.dirname(os.path.abspath(fv.out)), exist_ok=True)
        atomic_write.write_text(fv.out, text)
    print(f"wrote {fv.out}")


if __name__ == "__main__":
    flags.DEFINE_list("reference", None, "lines_reproduction.json files of the reference runs.",
                      required=True)
    flags.DEFINE_list("candidate", None, "lines_reproduction.json files of the runs to compare.",
                      required=True)
    flags.DEFINE_string("out", os.path.join(_ROOT, "results", "bf16_parity", "parity.md"),
                        "The Markdown page to write.")
    app.run(main, flags_parser=runner.parse_or_exit)
