import pytest
from integration.harness import REPO_ROOT
from integration.site_support import FAST, add_legacy_hostname, site_vars, world_spec, writes
pytestmark = pytest.mark.integration

@pytest.mark.parametrize("name", ["site_system_assigned", "site_user_assigned"])
def test_debug(world, playbook, local_azure, name):
    world(world_spec(), **FAST)
    add_legacy_hostname(local_azure)
    check = playbook(REPO_ROOT / "playbooks" / (name + ".yml"), extra_vars=site_vars(local_azure, name), check=True, diff=True)
    print(check.stdout[-6000:])
    print("WRITES", writes(check))
    assert 0
