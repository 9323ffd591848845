# -*- coding: utf-8 -*-
# Private to the azure_apim.identity collection: shared documentation of module attributes.
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    """check_mode / diff_mode / idempotent attribute documentation."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the predicted result without changing anything in Azure.
  diff_mode:
    description: Returns the resource before and after in diff mode, with secret values masked.
  idempotent:
    description: A second run with the same parameters reports no change and sends no write to Azure.
"""

    ALL = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads.
  diff_mode:
    support: N/A
    details: This module only reads.
  idempotent:
    support: full
"""
