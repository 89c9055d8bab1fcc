"""A cluster worker runs the pipeline once when it starts, so its first batch pays no imports."""

import logging

from django_q.signals import post_spawn

from jobs.services.processing import warm_up_worker


def test_a_starting_worker_runs_the_whole_pipeline_once_without_error(caplog):
    # Connected when the app became ready, as in every process the cluster forks its workers from.
    assert post_spawn.disconnect(dispatch_uid="jobs.warm_up_worker")
    post_spawn.connect(warm_up_worker, dispatch_uid="jobs.warm_up_worker")

    with caplog.at_level(logging.ERROR):
        post_spawn.send(sender="django_q", proc_name="Process-test")

    assert not caplog.records, caplog.text
