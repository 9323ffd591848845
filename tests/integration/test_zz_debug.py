import pytest, json
from integration.harness import REPO_ROOT
from integration.site_support import FAST, add_legacy_hostname, site_vars, world_spec, writes
from integration.diff_compare import compare_runs
pytestmark = pytest.mark.integration

@pytest.mark.parametrize("name", ["site_system_assigned", "site_user_assigned"])
def test_debug(world, playbook, local_azure, name):
    world(world_spec(), **FAST)
    add_legacy_hostname(local_azure)
    extra = site_vars(local_azure, name)
    check = playbook(REPO_ROOT / "playbooks" / (name + ".yml"), extra_vars=extra, check=True, diff=True)
    apply = playbook(REPO_ROOT / "playbooks" / (name + ".yml"), extra_vars=extra, diff=True)
    print(check.stdout[-5000:]); print(json.dumps(compare_runs(check, apply), indent=1))
    assert 0
