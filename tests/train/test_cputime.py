"""time/cpu_hours and time/wall_hours are logged, grow, and carry on across a resume."""

from helpers import scalars, tiny_run

from srnet.train.cputime import CPUTime


def test_cpu_hours_logged_and_growing(tmp_path) -> None:
    tb = tiny_run(tmp_path)
    cpu = [v for _, v in scalars(tb, "time/cpu_hours")]
    wall = [v for _, v in scalars(tb, "time/wall_hours")]
    assert len(cpu) >= 2 and all(v > 0 for v in cpu) and cpu == sorted(cpu)
    assert len(wall) == len(cpu) and wall[-1] > 0


def test_state_carries_over() -> None:
    cb = CPUTime()
    cb.load_state_dict({"cpu_seconds": 7200.0, "wall_seconds": 3600.0})
    assert cb.hours() == (2.0, 1.0)
    cb.on_fit_start(None, None)
    cpu, wall = cb.hours()
    assert cpu >= 2.0 and wall >= 1.0
    assert cb.state_dict()["cpu_seconds"] >= 7200.0
