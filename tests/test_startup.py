"""What each process loads when it starts: the web server and the import command go without the
decoders, and a cluster worker runs the whole pipeline once before its first batch."""

import logging
import subprocess
import sys

from django_q.signals import post_spawn

from jobs.services.processing import warm_up_worker
from tests.conftest import ROOT, inherited_environ

DECODERS = ("numpy", "scipy", "av", "pillow_heif", "imagehash")


def test_the_web_server_and_the_import_command_load_no_decoder(data_dir):
    # A fresh interpreter: this test process has long imported everything.
    script = (
        "import sys, django; django.setup();"
        "from django.urls import resolve; resolve('/');"
        "import mediaimport.wsgi, mediaimport.urls, jobs.management.commands.import_path;"
        f"print(' '.join(m for m in {DECODERS!r} if m in sys.modules))"
    )
    env = {**inherited_environ(), "MEDIAIMPORT_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "mediaimport.settings"}
    loaded = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


def test_a_starting_worker_runs_the_whole_pipeline_once_without_error(caplog):
    # Connected when the app became ready, as in every process the cluster forks its workers from.
    assert post_spawn.disconnect(dispatch_uid="jobs.warm_up_worker")
    post_spawn.connect(warm_up_worker, dispatch_uid="jobs.warm_up_worker")

    with caplog.at_level(logging.ERROR):
        post_spawn.send(sender="django_q", proc_name="Process-test")

    assert not caplog.records, caplog.text
