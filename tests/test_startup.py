"""What each process loads when it starts: the web server and the import command go without the
decoders; the cluster runs the whole pipeline once before it forks its workers."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, inherited_environ, wait_for

DECODERS = ("numpy", "scipy", "av", "pillow_heif", "imagehash")


def test_the_web_server_and_the_import_command_load_no_decoder(data_dir):
    script = (
        "import sys, django; django.setup();"
        "from django.urls import resolve; resolve('/');"
        "import mediaimport.wsgi, mediaimport.urls, jobs.management.commands.import_path;"
        f"print(' '.join(m for m in {DECODERS!r} if m in sys.modules))"
    )
    assert python(script, data_dir).stdout.strip() == ""


def test_the_cluster_warms_up_the_whole_pipeline_before_forking_its_workers(data_dir):
    script = (
        "import sys, django; django.setup();"
        "from jobs.services.processing import warm_up_pipeline; warm_up_pipeline();"
        f"print(' '.join(m for m in {DECODERS + ('scipy.fftpack',)!r} if m not in sys.modules))"
    )
    loaded = python(script, data_dir)
    assert loaded.stdout.strip() == ""  # scipy.fftpack: the perceptual hash ran too
    assert "Warming up the pipeline failed" not in loaded.stderr, loaded.stderr


@pytest.mark.cluster
def test_every_process_of_a_started_cluster_has_the_decoders_loaded_before_any_file(cluster):
    running = cluster()
    wait_for(lambda: "running." in running.output(), timeout=60, message="the cluster to start")
    group = running.process.pid  # the cluster runs in a session, so a process group, of its own
    processes = [pid for pid in os.listdir("/proc") if pid.isdigit() and _group_of(pid) == group]
    assert len(processes) >= 4  # main, sentinel, pusher, monitor and the workers

    for pid in processes:
        maps = open(f"/proc/{pid}/maps").read()
        # libheif's binding and scipy's FFT, which only the perceptual hash loads.
        assert "_pillow_heif" in maps and "pypocketfft" in maps, f"process {pid}: {open(f'/proc/{pid}/cmdline').read()}"


def _group_of(pid: str) -> int | None:
    try:
        return os.getpgid(int(pid))
    except ProcessLookupError:
        return None


def python(script: str, data_dir) -> subprocess.CompletedProcess:
    """A fresh interpreter with the project's settings: this test process has long imported
    everything."""
    env = {**inherited_environ(), "MEDIAIMPORT_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "mediaimport.settings"}
    return subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
