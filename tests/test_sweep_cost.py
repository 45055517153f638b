"""The sweep orders tasks by estimated cost: fast/ode run compressed nodes above 10,000 entries, so
their cost does not grow with d there (it used to count d, ranking a d = 1e9 task 1e4x a d = 1e5 one)."""
from plrf.sweep.tasks import cost_fast


def test_fast_cost_counts_the_nodes_it_runs_not_d():
    at_1e5, at_1e9 = cost_fast({"d": 10**5, "steps": 10**9}), cost_fast({"d": 10**9, "steps": 10**9})
    assert at_1e9 == at_1e5  # both run on ~3000 nodes (the old estimate: 1e4 times more)
    assert cost_fast({"d": 2000, "steps": 10**9}) < at_1e5 < cost_fast({"d": 10**4, "steps": 10**9})  # below: d as given
    assert cost_fast({"d": 10**5, "steps": 10**3}) < at_1e5  # still O(log T)
