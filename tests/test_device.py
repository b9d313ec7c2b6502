"""core.device's thread policy: what torch does with a thread count set in one thread, seen from the
others (a page run, a training job and another student's page are threads of one process)."""

import threading

import pytest
import torch

from core import device


def in_a_thread(work):
    """``work()``'s result, run in a thread started now (as a page run or a training job is)."""
    seen = []
    worker = threading.Thread(target=lambda: seen.append(work()))
    worker.start()
    worker.join()
    return seen[0]


@pytest.fixture
def count_kept():
    """The test's thread count and the one new threads take, as they were before the test."""
    before = torch.get_num_threads()
    yield
    device.use_threads(before)


def test_a_count_set_in_one_thread_is_taken_by_threads_started_after_and_kept_from_running_ones(count_kept):
    # The counts differ (2 here, 3 set in a worker) so that every comparison below can fail.
    device.use_threads(2)
    running_first, running_then, go_on = [], [], threading.Event()

    def already_running():
        running_first.append(torch.get_num_threads())
        go_on.wait(10)
        running_then.append(torch.get_num_threads())

    runner = threading.Thread(target=already_running)
    runner.start()
    while not running_first:  # it has used torch before the worker sets the count
        threading.Event().wait(0.01)
    assert in_a_thread(lambda: (device.use_threads(3), torch.get_num_threads())) == (2, 3)  # before, then its own
    go_on.set()
    runner.join()
    assert running_first == running_then == [2]  # a thread that had used torch keeps its count
    assert torch.get_num_threads() == 2  # so does the thread that set 2 (this one)
    assert in_a_thread(torch.get_num_threads) == 3  # a thread started after takes the last count set


def test_torch_threads_is_the_blocks_count_and_puts_the_last_one_back(count_kept):
    device.use_threads(2)
    with device.torch_threads(1):
        assert torch.get_num_threads() == 1
        assert in_a_thread(torch.get_num_threads) == 1  # a thread started meanwhile takes the block's
    assert torch.get_num_threads() == 2
    assert in_a_thread(torch.get_num_threads) == 2  # and one started after, the count put back


def test_use_threads_sets_at_least_one():
    assert in_a_thread(lambda: (device.use_threads(0), torch.get_num_threads())[1]) == 1


def test_shared_threads_leave_half_the_cores_to_the_rest_of_the_class(monkeypatch):
    monkeypatch.delenv("CNN_EXPLAINER_THREADS", raising=False)
    # half of 1, 2, 4 and 16 cores, rounded down, at least one
    assert [device.shared_threads(n) for n in (1, 2, 4, 16)] == [1, 1, 2, 8]
    monkeypatch.setenv("CNN_EXPLAINER_THREADS", "3")
    assert device.shared_threads() == 3
