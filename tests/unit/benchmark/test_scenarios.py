"""bench.scenarios: availability follows the checkout; the scale series picks the best per-instance work."""

from __future__ import annotations

from bench import scenarios


def _touch(root, *paths):
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x", encoding="utf-8")


def test_missing_module_then_missing_playbook_then_available(tmp_path):
    scenario = scenarios.Scenario("x", "x", "bench/playbooks/x.yml", requires=("mod_a", "mod_b"),
                                  prepare=("bench/playbooks/prep.yml",))
    assert scenario.missing(tmp_path) == "not available yet: module(s) mod_a, mod_b not on this branch"
    _touch(tmp_path, "plugins/modules/mod_a.py", "plugins/modules/mod_b.py", "bench/playbooks/x.yml")
    assert scenario.missing(tmp_path) == "not available yet: playbook bench/playbooks/prep.yml not written"
    _touch(tmp_path, "bench/playbooks/prep.yml")
    assert scenario.missing(tmp_path) is None


def test_scale_scenarios_fall_back_to_identity_level_modules(tmp_path):
    _touch(tmp_path, "plugins/modules/user_assigned_identity.py", "plugins/modules/user_assigned_identity_info.py",
           "bench/playbooks/per_instance_uai.yml")
    found = scenarios.scale_scenarios(tmp_path, sizes=(1, 50))
    assert [s.name for s in found] == ["scale.1.converge", "scale.50.converge"]
    assert [s.rerun_name for s in found] == ["scale.1.noop", "scale.50.noop"]
    assert all(s.rerun for s in found)
    assert {s.playbook for s in found} == {"bench/playbooks/per_instance_uai.yml"}
    assert [s.instances for s in found] == [1, 50] and {s.forks for s in found} == {10}


def test_scale_scenarios_prefer_apim_identity_once_it_lands(tmp_path):
    _touch(tmp_path, "plugins/modules/user_assigned_identity.py", "plugins/modules/user_assigned_identity_info.py",
           "bench/playbooks/per_instance_uai.yml", "plugins/modules/apim_identity.py",
           "bench/playbooks/per_instance_apim_identity.yml")
    found = scenarios.scale_scenarios(tmp_path, sizes=(10,))
    assert {s.playbook for s in found} == {"bench/playbooks/per_instance_apim_identity.yml"}


def test_every_scenario_and_peer_task_in_this_checkout_is_runnable_or_says_why():
    for item in scenarios.SCENARIOS + scenarios.PEER_TASKS:
        reason = item.missing()
        assert reason is None or reason.startswith("not available yet: "), (item.name, reason)
    names = [s.name for s in scenarios.SCENARIOS]
    assert len(names) == len(set(names))


def test_rerun_names_follow_the_converge_name():
    assert scenarios.Scenario("site.converge", "t", "p.yml", rerun=True).rerun_name == "site.noop"
    names = [s.name for s in scenarios.SCENARIOS] + [s.rerun_name for s in scenarios.SCENARIOS if s.rerun]
    assert "site.noop" in names and "user_assigned_identity.noop" in names
