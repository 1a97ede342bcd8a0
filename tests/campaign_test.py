"""benchmarks/campaign.py and acai_tf.reproduction.{campaign, milestones}: a plan's jobs run one
per core, pinned and niced, their state survives the campaign (stopped, killed, restarted), and
the checkpoints kept at fixed steps are copied whole and evaluated beside the runs.

The jobs are a small script (JOB below) that records where and how it ran, then waits for a
release file or a timeout and exits with the status it is given: real processes, so that the
pinning, the nice values, the signals and the adoption of orphans are the kernel's.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from acai_tf.errors import UserError
from acai_tf.reproduction import campaign, milestones
from acai_tf.training import machine

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCRIPT = os.path.join(ROOT, "benchmarks", "campaign.py")

JOB = """
import json, os, sys, time
name, out, wait_s, status = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
record = {"affinity": sorted(os.sched_getaffinity(0)), "nice": os.nice(0), "pid": os.getpid(),
          "sid": os.getsid(0), "start": time.time(), "extra": sys.argv[5:]}
deadline = time.time() + wait_s
while time.time() < deadline and not os.path.exists(os.path.join(out, "release")):
    time.sleep(0.05)
record["end"] = time.time()
with open(os.path.join(out, name + ".json"), "a") as f:
    f.write(json.dumps(record) + "\\n")
sys.exit(status)
"""


@pytest.fixture(name="scripts")
def fixture_scripts(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "job.py").write_text(JOB)
    (tmp_path / "out").mkdir()
    (tmp_path / "runs").mkdir()
    return folder


def write_plan(tmp_path, jobs):
    """jobs: (name, wait_s, exit status); returns the plan's path."""
    lines = ["# a test plan", ""]
    for name, wait_s, status in jobs:
        # The script's absolute path: benchmarks/campaign.py looks for others in benchmarks/.
        lines.append(f"{name} {tmp_path / 'scripts' / 'job.py'} {name} {{runs}}/../out \\")
        lines.append(f"    {wait_s} {status}  # waits, then exits")
    path = tmp_path / "test.plan"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def job_records(tmp_path, name):
    path = tmp_path / "out" / f"{name}.json"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def make_campaign(tmp_path, scripts, plan, cores, **kwargs):
    jobs = campaign.read_plan(plan, str(scripts), runs_dir=str(tmp_path / "runs"))
    lines = kwargs.pop("lines", [])
    return campaign.Campaign(jobs, state_dir=str(tmp_path / "state"), cores=cores,
                             python=sys.executable, cwd=str(tmp_path), poll_s=0.05,
                             log=lines.append, **kwargs)


def test_read_plan_joins_lines_expands_runs_and_rejects_bad_plans(tmp_path, scripts):
    plan = write_plan(tmp_path, [("a", 1, 0), ("b", 2, 3)])
    jobs = campaign.read_plan(plan, str(scripts), runs_dir="/R")
    assert [job.name for job in jobs] == ["a", "b"]
    assert jobs[1].argv == (str(scripts / "job.py"), "b", "/R/../out", "2", "3")
    for text, message in [
            ("a job.py\na job.py\n", "test.plan:2: job name 'a' appears twice"),
            ("a missing.py\n", "test.plan:1: no script missing.py in"),
            ("lonely\n", "test.plan:1: expected '<name> <script> [flags]'"),
            ("a job.py 'unclosed\n", "test.plan:1: No closing quotation"),
            ("# nothing\n", "holds no job")]:
        (tmp_path / "test.plan").write_text(text)
        with pytest.raises(campaign.PlanError) as raised:
            campaign.read_plan(plan, str(scripts), runs_dir="/R")
        assert message in str(raised.value)
    with pytest.raises(campaign.PlanError, match="cannot read plan"):
        campaign.read_plan(str(tmp_path / "none.plan"), str(scripts), runs_dir="/R")


def test_jobs_run_in_order_one_per_core_pinned_and_niced(tmp_path, scripts):
    cores = sorted(os.sched_getaffinity(0))[:2]
    if len(cores) < 2:
        pytest.skip("needs two CPUs to show one job per core")
    plan = write_plan(tmp_path, [("first", 3.0, 0), ("second", 3.0, 0), ("third", 0, 0)])
    lines = []
    run = make_campaign(tmp_path, scripts, plan, cores, lines=lines)
    assert run.run() == 0
    first, second, third = (job_records(tmp_path, name)[0]
                            for name in ("first", "second", "third"))
    # One job per core: the first two ran at the same time on different cores, the third
    # waited for a free core.
    assert {tuple(first["affinity"]), tuple(second["affinity"])} == {(cores[0],), (cores[1],)}
    assert second["start"] < first["end"] and third["start"] >= min(first["end"], second["end"])
    assert first["nice"] == min(19, os.nice(0) + 10)
    assert first["sid"] == first["pid"]  # a session (and so an autogroup) of its own
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert {name: entry["status"] for name, entry in state.items()} == dict.fromkeys(
        ["first", "second", "third"], "done")
    assert "campaign starts first on core" in (tmp_path / "state" / "logs" / "first.log"
                                               ).read_text()
    assert lines[-1] == "campaign: 3 of 3 jobs done"
    # Done jobs never run again.
    assert make_campaign(tmp_path, scripts, plan, cores).run() == 0
    assert len(job_records(tmp_path, "first")) == 1


def test_a_failed_job_does_not_stop_the_others_and_is_retried_next_time(tmp_path, scripts):
    core = sorted(os.sched_getaffinity(0))[:1]
    plan = write_plan(tmp_path, [("fails", 0, 3), ("after", 0, 0)])
    assert make_campaign(tmp_path, scripts, plan, core).run() == 1
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert (state["fails"]["status"], state["fails"]["exit_status"]) == ("failed", 3)
    assert state["after"]["status"] == "done"
    assert len(job_records(tmp_path, "fails")) == 1  # not retried within the same campaign
    assert make_campaign(tmp_path, scripts, plan, core).run() == 1
    assert len(job_records(tmp_path, "fails")) == 2 and len(job_records(tmp_path, "after")) == 1


def start_campaign(tmp_path, plan):
    return subprocess.Popen(
        [sys.executable, SCRIPT, f"--plan={plan}", f"--state_dir={tmp_path / 'state'}",
         f"--cores={sorted(os.sched_getaffinity(0))[0]}", "--milestone_workdirs="],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "ACAI_RUNS_DIR": str(tmp_path / "runs")})


def wait_for(condition, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def job_state(tmp_path, name):
    try:
        return json.loads((tmp_path / "state" / "state.json").read_text()).get(name, {})
    except (FileNotFoundError, ValueError):
        return {}


def test_sigterm_stops_the_jobs_which_resume_at_the_next_start(tmp_path, scripts):
    plan = write_plan(tmp_path, [("long", 120, 0)])
    first = start_campaign(tmp_path, plan)
    wait_for(lambda: job_state(tmp_path, "long").get("status") == "running")
    pid = job_state(tmp_path, "long")["pid"]
    # A second campaign on the same state folder is refused while the first lives.
    second = subprocess.run(
        [sys.executable, SCRIPT, f"--plan={plan}", f"--state_dir={tmp_path / 'state'}"],
        capture_output=True, text=True, check=False)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        f"error: a campaign already runs on {tmp_path / 'state'} (process {first.pid})")
    first.send_signal(signal.SIGTERM)
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 1, output
    assert "long: stopped on core" in output
    assert not os.path.exists(f"/proc/{pid}")
    assert job_state(tmp_path, "long")["status"] == "stopped"
    (tmp_path / "out" / "release").write_text("")
    again = start_campaign(tmp_path, plan)
    output, _ = again.communicate(timeout=60)
    assert again.returncode == 0, output
    assert job_state(tmp_path, "long")["status"] == "done"
    # The stopped process died by the signal (no record); a new one ran the job to its end.
    assert [record["pid"] != pid for record in job_records(tmp_path, "long")] == [True]


def test_a_killed_campaigns_job_is_adopted_then_started_again(tmp_path, scripts):
    plan = write_plan(tmp_path, [("orphan", 120, 0)])
    first = start_campaign(tmp_path, plan)
    wait_for(lambda: job_state(tmp_path, "orphan").get("status") == "running")
    pid = job_state(tmp_path, "orphan")["pid"]
    first.kill()
    first.communicate(timeout=30)
    assert os.path.exists(f"/proc/{pid}")  # its own session: the job outlives the campaign
    second = start_campaign(tmp_path, plan)
    wait_for(lambda: "adopted" in job_state(tmp_path, "orphan"))
    (tmp_path / "out" / "release").write_text("")
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 0, output
    assert f"orphan: still running as process {pid} on core" in output
    assert "orphan: adopted process ended" in output
    # The adopted process ended (its exit status unknown), so the job ran again to be sure.
    assert [record["pid"] for record in job_records(tmp_path, "orphan")][0] == pid
    assert len(job_records(tmp_path, "orphan")) == 2
    assert job_state(tmp_path, "orphan")["status"] == "done"


def fake_checkpoint(workdir, step, *, listed=True):
    ckpt = workdir / "ckpt"
    ckpt.mkdir(parents=True, exist_ok=True)
    (ckpt / f"ckpt-{step}.index").write_bytes(b"index %d" % step)
    (ckpt / f"ckpt-{step}.data-00000-of-00001").write_bytes(os.urandom(1000))
    if listed:
        (ckpt / "checkpoint").write_text(f'model_checkpoint_path: "ckpt-{step}"\n'
                                         f'all_model_checkpoint_paths: "ckpt-{step}"\n')


def test_keep_copies_only_whole_checkpoints_once(tmp_path):
    workdir = tmp_path / "run"
    fake_checkpoint(workdir, 16384, listed=False)  # being written: its state file lacks it
    assert milestones.keep(str(workdir)) == []
    fake_checkpoint(workdir, 16384)
    assert milestones.keep(str(workdir)) == [16384]
    kept = workdir / "milestones"
    assert sorted(os.listdir(kept)) == ["ckpt-16384.data-00000-of-00001", "ckpt-16384.index"]
    assert (kept / "ckpt-16384.data-00000-of-00001").read_bytes() == (
        workdir / "ckpt" / "ckpt-16384.data-00000-of-00001").read_bytes()
    assert milestones.keep(str(workdir)) == []  # once
    assert milestones.unevaluated(str(workdir)) == [16384]
    (workdir / "config.json").write_text('{"model": {}}')
    scratch = milestones.prepare_evaluation(str(workdir), 16384)
    assert open(os.path.join(scratch, "config.json")).read() == '{"model": {}}'
    assert sorted(os.listdir(os.path.join(scratch, "ckpt"))) == [
        "ckpt-16384.data-00000-of-00001", "ckpt-16384.index"]
    assert milestones.evaluation_command(scratch, n_init=7) == [
        "-m", "flags.evaluate", f"--workdir={scratch}", "--parts=classifier,clustering",
        "--n_init=7"]


EVALUATE = """
import json, os, sys
scratch = sys.argv[1].split("=", 1)[1]
os.makedirs(os.path.join(scratch, "eval"))
with open(os.path.join(scratch, "eval", "results.json"), "w") as f:
    json.dump({"n_init": sys.argv[-1],
               "files": sorted(os.listdir(os.path.join(scratch, "ckpt")))}, f)
"""


def test_the_campaign_keeps_and_evaluates_checkpoints_beside_the_runs(tmp_path, scripts,
                                                                      monkeypatch):
    (scripts / "evaluate.py").write_text(EVALUATE)
    monkeypatch.setattr(milestones, "evaluation_command", lambda scratch, n_init: [
        str(scripts / "evaluate.py"), f"--workdir={scratch}", f"--n_init={n_init}"])
    workdir = tmp_path / "runs" / "mnist" / "runs" / "acai" / "latent16" / "seed0"
    fake_checkpoint(workdir, 16384)
    (workdir / "config.json").write_text("{}")
    plan = write_plan(tmp_path, [("short", 0.5, 0)])
    lines = []
    run = make_campaign(tmp_path, scripts, plan, sorted(os.sched_getaffinity(0))[:1],
                        milestone_globs=[str(tmp_path / "runs/mnist/runs/*/*/seed*")],
                        milestone_n_init=5, lines=lines)
    assert run.run() == 0
    results = json.loads((workdir / "milestones" / "ckpt-16384.json").read_text())
    assert results == {"n_init": "--n_init=5", "files": [
        "ckpt-16384.data-00000-of-00001", "ckpt-16384.index"]}
    assert not (workdir / "milestones" / milestones.SCRATCH_DIR).exists()
    assert any(line.startswith("evaluated ") for line in lines), lines
    assert milestones.unevaluated(str(workdir)) == []


def test_bad_flags_give_one_line_errors(tmp_path):
    for flag, message in [("--cores=x", "error: --cores takes integers, got x"),
                          ("--plan=/none.plan", "error: cannot read plan /none.plan")]:
        result = subprocess.run([sys.executable, SCRIPT, flag, f"--state_dir={tmp_path}"],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr
    with pytest.raises(UserError, match="at least one core"):
        campaign.Campaign([], state_dir=str(tmp_path), cores=[], python=sys.executable,
                          cwd=str(tmp_path))



def test_the_paper_budget_plan_names_every_job_after_its_runs_record():
    benchmarks = os.path.join(ROOT, "benchmarks")
    jobs = campaign.read_plan(os.path.join(benchmarks, "paper_budget.plan"), benchmarks,
                              runs_dir="/R")
    assert len({job.name for job in jobs}) == len(jobs) == 22
    for job in jobs:
        flags = dict(arg[2:].split("=", 1) for arg in job.argv[1:])
        model, seed = flags["models"], flags["seeds"]
        if job.argv[0].endswith("reproduce_mnist.py"):
            expected = f"mnist_{model}_latent{flags['latents']}_seed{seed}"
        else:
            assert job.argv[0].endswith("reproduce_lines.py")
            expected = f"lines_{model}_seed{seed}"
        assert job.record == expected
        # A first stage stops at its kimg; every other job trains to the paper's 16,384.
        assert float(flags.get("train_kimg", campaign.PAPER_KIMG)) == job.target_kimg
        assert flags["results_dir"].startswith("/R/")
    # Every run the plan takes to 16,384 kimg once, MNIST 256-d ACAI and baseline first.
    assert [job.record for job in jobs[:2]] == ["mnist_acai_latent16_seed0",
                                               "mnist_baseline_latent16_seed0"]


RESTORE = """
import os, sys
flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
with open(os.path.join(flags["runs_dir"], "..", "out", "restore.args"), "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
if flags["restore"] == "broken_seed0":
    sys.exit(1)
os.makedirs(os.path.join(flags["runs_dir"], "lines", "runs", "restored", "seed0"))
"""


def fake_record(records, name, *, kimg, evaluated, manifest_workdir=None):
    folder = records / name
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text(json.dumps({"step": int(kimg * 16), "kimg": kimg})
                                          + "\n")
    if evaluated:
        (folder / "eval").mkdir()
        (folder / "eval" / "results.json").write_text("{}")
    if manifest_workdir:
        (folder / "resume").mkdir()
        (folder / "resume" / "resume.json").write_text(json.dumps(
            {"workdir": manifest_workdir, "checkpoint": "ckpt-1", "step": 1, "kimg": 1.0,
             "files": {}}))


def test_saved_records_mark_finished_jobs_done_and_restore_lost_workdirs(tmp_path, scripts):
    (scripts / "long_runs.py").write_text(RESTORE)
    records = tmp_path / "records"
    fake_record(records, "finished_seed0", kimg=16384.0, evaluated=True)
    fake_record(records, "stage_seed0", kimg=2048.0, evaluated=True)
    fake_record(records, "unevaluated_seed0", kimg=16384.0, evaluated=False)
    fake_record(records, "restored_seed0", kimg=512.0, evaluated=False,
                manifest_workdir="lines/runs/restored/seed0")
    fake_record(records, "broken_seed0", kimg=512.0, evaluated=False,
                manifest_workdir="lines/runs/broken/seed0")
    names = ["finished_seed0", "stage_seed0@2048", "stage_seed0", "unevaluated_seed0",
             "restored_seed0", "broken_seed0"]
    plan = write_plan(tmp_path, [(name, 0, 0) for name in names])
    lines = []
    run = make_campaign(tmp_path, scripts, plan, sorted(os.sched_getaffinity(0))[:1],
                        records_dir=str(records), runs_dir=str(tmp_path / "runs"), lines=lines)
    assert run.run() == 1  # the broken restore
    ran = {name for name in names if job_records(tmp_path, name)}
    assert ran == {"stage_seed0", "unevaluated_seed0", "restored_seed0"}
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state["finished_seed0"]["source"] == state["stage_seed0@2048"]["source"] == "records"
    assert (state["broken_seed0"]["status"], state["broken_seed0"]["source"]) == (
        "failed", "restore")
    assert (tmp_path / "runs" / "lines" / "runs" / "restored" / "seed0").is_dir()
    restores = (tmp_path / "out" / "restore.args").read_text().splitlines()
    assert [line.split()[0] for line in restores] == ["--restore=restored_seed0",
                                                      "--restore=broken_seed0"]
    # The workdir is back: a second campaign restores nothing more.
    assert make_campaign(tmp_path, scripts, plan, sorted(os.sched_getaffinity(0))[:1],
                         records_dir=str(records), runs_dir=str(tmp_path / "runs")).run() == 1
    assert len((tmp_path / "out" / "restore.args").read_text().splitlines()) == 3


def test_status_gives_each_jobs_state_and_its_runs_kimg(tmp_path, scripts):
    plan = write_plan(tmp_path, [("lines_vae_seed0@2048", 0, 0), ("lines_vae_seed0", 0, 0),
                                 ("lines_aae_seed0", 0, 0)])
    jobs = campaign.read_plan(plan, str(scripts), runs_dir=str(tmp_path / "runs"))
    workdir = tmp_path / "runs" / "lines" / "runs" / "vae" / "seed0"
    (workdir / "ckpt").mkdir(parents=True)
    (workdir / "config.json").write_text("{}")
    (workdir / "metrics.jsonl").write_text('{"step": 32768, "kimg": 2048.0}\n')
    state = {"lines_vae_seed0@2048": {"status": "done", "core": 1, "started": "s",
                                      "ended": "e"}}
    assert campaign.status_table(jobs, state, str(tmp_path / "runs")) == [
        ["lines_vae_seed0@2048", "done", "2048", "2048", "1", "s", "e"],
        ["lines_vae_seed0", "pending", "2048", "16384", "-", "-", "-"],
        ["lines_aae_seed0", "pending", "-", "16384", "-", "-", "-"]]


def test_a_job_is_recognised_in_a_process_started_from_another_clone(tmp_path, scripts):
    other_clone = tmp_path / "other_clone"
    other_clone.mkdir()
    (other_clone / "job.py").write_text(JOB)
    out = str(tmp_path / "out")
    process = subprocess.Popen([sys.executable, str(other_clone / "job.py"), "x", out, "60", "0"])
    try:
        wait_for(lambda: b"job.py" in open(f"/proc/{process.pid}/cmdline", "rb").read())
        same = campaign.Job("x", (str(scripts / "job.py"), "x", out, "60", "0"))
        other_flags = campaign.Job("x", (str(scripts / "job.py"), "x", out, "61", "0"))
        other_script = campaign.Job("x", (str(scripts / "other.py"), "x", out, "60", "0"))
        assert campaign._runs_job(process.pid, same)  # pylint: disable=protected-access
        assert not campaign._runs_job(process.pid, other_flags)  # pylint: disable=protected-access
        assert not campaign._runs_job(process.pid, other_script)  # pylint: disable=protected-access
    finally:
        process.kill()
        process.wait()
    assert not campaign._runs_job(process.pid, same)  # pylint: disable=protected-access


@pytest.mark.parametrize("flags, expected", [
    ({"amx_bf16", "avx512f"}, "mixed_bfloat16"), ({"avx512_bf16"}, "mixed_bfloat16"),
    ({"avx2", "avx512f", "avx512_vnni"}, "float32")])
def test_native_precision_is_bfloat16_only_where_the_cpu_computes_in_it(monkeypatch, flags,
                                                                        expected):
    monkeypatch.setattr(machine, "_cpuinfo", lambda: ("a CPU", flags))
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert campaign.resolve_precision("native") == expected
    assert campaign.resolve_precision("float32") == "float32"
    assert campaign.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    # oneDNN off: TensorFlow's own kernels emulate bfloat16, slower than float32.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert campaign.resolve_precision("native") == "float32"
    with pytest.raises(UserError, match="precision must be one of native, float32"):
        campaign.resolve_precision("float16")


def test_every_job_gets_the_campaigns_precision(tmp_path, scripts):
    plan = write_plan(tmp_path, [("only", 0, 0)])
    result = subprocess.run(
        [sys.executable, SCRIPT, f"--plan={plan}", f"--state_dir={tmp_path / 'state'}",
         f"--cores={sorted(os.sched_getaffinity(0))[0]}", "--milestone_workdirs=",
         "--precision=float32"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "ACAI_RUNS_DIR": str(tmp_path / "runs")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "jobs train in float32 (--precision=float32)" in result.stdout
    assert job_records(tmp_path, "only")[0]["extra"] == ["--precision=float32"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
