"""The state an xdist run's workers share: read without a lock while others write it, it is
always whole (a worker once read it empty mid-write and failed its set-up)."""

from __future__ import annotations

import threading

from harness.xdist_run import SharedRun


def test_readers_never_see_a_half_written_state(tmp_path):
    run = SharedRun("t", tmp_path)
    # 100 writes: with the state rewritten in place (no partial file renamed), 50 already failed
    # this test in 6 runs of 6; 300 took ~0.3-0.4 CPU-s more, the readers spinning meanwhile.
    writes, errors = 100, []
    done = threading.Event()

    def write() -> None:
        for _ in range(writes):
            run.exclusive_done()
        done.set()

    def read() -> None:
        while not done.is_set():
            try:
                run.read()
            except Exception as error:  # noqa: BLE001 - any failure to read is the finding
                errors.append(error)
                return

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert run.read()["exclusive_done"] == writes
    run.remove()
    assert list(tmp_path.iterdir()) == []
